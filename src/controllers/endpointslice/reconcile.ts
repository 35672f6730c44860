// Planning EndpointSlice writes for one service: desired endpoints grouped by port set, matched
// against the existing slices so that unchanged slices stay untouched, changed ones are updated in
// place, new endpoints fill free room before new slices are made, and no slice exceeds the cap.

import { isDeepStrictEqual } from 'node:util';
import type { KObject } from '../../api/types.ts';

export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  targetRef?: { kind: string; namespace?: string; name?: string; uid?: string };
  nodeName?: string;
  zone?: string;
}

export interface PortSetGroup {
  ports: SlicePort[];
  endpoints: SliceEndpoint[];
}

export interface SlicePlan {
  /** New slices (no name yet: generateName). */
  create: KObject[];
  /** Existing slices with new content (resourceVersion kept, so a stale cache conflicts). */
  update: KObject[];
  delete: KObject[];
}

export function portSetKey(ports: SlicePort[] | undefined): string {
  const norm = (ports ?? []).map((p) => [p.name ?? '', p.port, p.protocol ?? 'TCP', p.appProtocol ?? '']);
  norm.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return JSON.stringify(norm);
}

/** An endpoint's identity across syncs: its addresses and the pod behind them. */
export function endpointKey(ep: SliceEndpoint): string {
  return JSON.stringify([ep.addresses, ep.targetRef?.namespace ?? '', ep.targetRef?.name ?? '']);
}

export interface PlanInput {
  groups: PortSetGroup[];
  existing: KObject[];
  /** Build a fresh slice (metadata without a name) for a port set. */
  newSlice(ports: SlicePort[], endpoints: SliceEndpoint[]): KObject;
  /** Metadata the slices must carry (labels/ownerReferences); a difference forces an update. */
  labels: Record<string, string>;
  max?: number;
}

export function planSlices(input: PlanInput): SlicePlan {
  const max = input.max ?? MAX_ENDPOINTS_PER_SLICE;
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const byPortSet = new Map<string, KObject[]>();
  for (const s of input.existing) {
    const k = portSetKey(s.ports);
    let list = byPortSet.get(k);
    if (!list) byPortSet.set(k, (list = []));
    list.push(s);
  }
  const total = input.groups.reduce((n, g) => n + g.endpoints.length, 0);
  let kept = 0;

  for (const group of input.groups) {
    if (group.endpoints.length === 0) continue;
    const pk = portSetKey(group.ports);
    const desired = new Map<string, SliceEndpoint>();
    for (const ep of group.endpoints) desired.set(endpointKey(ep), ep);
    const placed = new Set<string>();
    const updated: KObject[] = [];
    const unchanged: KObject[] = [];
    for (const slice of byPortSet.get(pk) ?? []) {
      const next: SliceEndpoint[] = [];
      let changed = !isDeepStrictEqual(slice.metadata.labels ?? {}, input.labels);
      for (const ep of (slice.endpoints ?? []) as SliceEndpoint[]) {
        const k = endpointKey(ep);
        const want = desired.get(k);
        if (!want || placed.has(k) || next.length >= max) {
          changed = true;
          continue;
        }
        placed.add(k);
        next.push(want);
        if (!isDeepStrictEqual(want, ep)) changed = true;
      }
      if (next.length === 0) {
        plan.delete.push(slice);
        continue;
      }
      const copy = structuredClone(slice);
      copy.endpoints = next;
      copy.metadata.labels = { ...input.labels };
      if (changed) updated.push(copy);
      else unchanged.push(copy);
    }
    byPortSet.delete(pk);
    let remaining = group.endpoints.filter((ep) => !placed.has(endpointKey(ep)));
    // Fill slices we rewrite anyway first, then untouched ones, so churn stays low.
    for (const s of [...updated, ...unchanged]) {
      if (!remaining.length) break;
      const room = max - s.endpoints.length;
      if (room <= 0) continue;
      s.endpoints.push(...remaining.slice(0, room));
      remaining = remaining.slice(room);
      if (!updated.includes(s)) {
        unchanged.splice(unchanged.indexOf(s), 1);
        updated.push(s);
      }
    }
    for (let i = 0; i < remaining.length; i += max) plan.create.push(input.newSlice(group.ports, remaining.slice(i, i + max)));
    plan.update.push(...updated);
    kept += updated.length + unchanged.length;
  }
  // Port sets nobody serves any more.
  const leftovers = [...byPortSet.values()].flat();
  if (total === 0) {
    // Upstream keeps one empty placeholder slice (no ports, no endpoints) for a service with no endpoints.
    const placeholder = leftovers.find((s) => (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0);
    for (const s of leftovers) if (s !== placeholder) plan.delete.push(s);
    if (placeholder) {
      if (!isDeepStrictEqual(placeholder.metadata.labels ?? {}, input.labels)) {
        const copy = structuredClone(placeholder);
        copy.metadata.labels = { ...input.labels };
        plan.update.push(copy);
      }
    } else if (kept === 0) {
      plan.create.push(input.newSlice([], []));
    }
  } else {
    plan.delete.push(...leftovers);
  }
  return plan;
}
