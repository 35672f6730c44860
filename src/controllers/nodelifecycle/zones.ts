// Zone health and the per-zone NoExecute tainting rate, as upstream's node lifecycle controller:
// a zone where every node is down is "fully disrupted"; a zone with more than two nodes down and at
// least 55% of them down is "partially disrupted" (tainting slowed or stopped).

import type { KObject } from '../../api/types.ts';
import { nodeCondition } from './taints.ts';

export type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

const UNHEALTHY_ZONE_THRESHOLD = 0.55;
const LARGE_CLUSTER_THRESHOLD = 50;
/** Upstream --secondary-node-eviction-rate. */
const SECONDARY_EVICTION_RATE = 0.01;

export function zoneOf(node: KObject): string {
  const l = node.metadata.labels ?? {};
  const region = l['topology.kubernetes.io/region'] ?? l['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone = l['topology.kubernetes.io/zone'] ?? l['failure-domain.beta.kubernetes.io/zone'] ?? '';
  return region || zone ? `${region}:\u0000:${zone}` : '';
}

export function computeZoneState(nodes: KObject[]): ZoneState {
  let ready = 0;
  let notReady = 0;
  for (const n of nodes) {
    if (nodeCondition(n, 'Ready')?.status === 'True') ready++;
    else notReady++;
  }
  if (ready === 0 && notReady > 0) return 'FullDisruption';
  if (notReady > 2 && notReady / (notReady + ready) >= UNHEALTHY_ZONE_THRESHOLD) return 'PartialDisruption';
  return 'Normal';
}

/** Nodes per second that may get a NoExecute taint in a zone of this state and size. */
export function zoneTaintRate(state: ZoneState, zoneSize: number, evictionRate: number): number {
  if (state === 'PartialDisruption') return zoneSize > LARGE_CLUSTER_THRESHOLD ? SECONDARY_EVICTION_RATE : 0;
  return evictionRate;
}

/** A token bucket (burst 1, as upstream's tainting queue) whose rate can be swapped. */
export class ZoneLimiter {
  private tokens = 1;
  private last: number;
  constructor(
    private rate: number,
    now: number,
    private readonly burst = 1,
  ) {
    this.last = now;
  }

  setRate(rate: number, now: number): void {
    this.refill(now);
    this.rate = rate;
  }

  /** Take a token: 0 when granted, else ms until one is due (Infinity at rate 0). */
  take(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    if (this.rate <= 0) return Infinity;
    return Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }
}
