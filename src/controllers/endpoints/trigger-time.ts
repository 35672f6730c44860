// The `endpoints.kubernetes.io/last-change-trigger-time` annotation: the earliest time among the
// pod and service changes that this sync is the first to publish (so latency from a pod becoming
// ready to endpoints reflecting it can be measured). State per service, as upstream's tracker.

import type { KObject } from '../../api/types.ts';
import { podTriggerTime } from './pod-helpers.ts';

export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

interface ServiceState {
  serviceTime?: string;
  podTimes: Map<string, string | undefined>;
}

export class TriggerTimeTracker {
  private state = new Map<string, ServiceState>();

  /** Earliest unseen change (RFC 3339) or undefined when nothing new happened. */
  compute(serviceKey: string, service: KObject, pods: KObject[]): string | undefined {
    let st = this.state.get(serviceKey);
    if (!st) this.state.set(serviceKey, (st = { podTimes: new Map() }));
    let min: number | undefined;
    let minText: string | undefined;
    const consider = (t: string | undefined) => {
      if (!t) return;
      const ms = Date.parse(t);
      if (Number.isNaN(ms)) return;
      if (min === undefined || ms < min) {
        min = ms;
        minText = t;
      }
    };
    const podTimes = new Map<string, string | undefined>();
    for (const p of pods) {
      const t = podTriggerTime(p);
      podTimes.set(p.metadata.name!, t);
      if (!st.podTimes.has(p.metadata.name!) || st.podTimes.get(p.metadata.name!) !== t) consider(t);
    }
    const svcTime = service.metadata.creationTimestamp;
    if (st.serviceTime !== svcTime) consider(svcTime);
    st.serviceTime = svcTime;
    st.podTimes = podTimes;
    return minText;
  }

  forget(serviceKey: string): void {
    this.state.delete(serviceKey);
  }
}
