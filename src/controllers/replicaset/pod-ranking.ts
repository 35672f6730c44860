// Which pods to delete first when scaling down: the least useful ones, in upstream's order
// (ActivePodsWithRanks): unassigned, then pending < unknown < running, not ready, lower
// deletion cost, doubled up on a node with related pods, ready more recently, more restarts, newer.

import type { KObject } from '../../api/types.ts';
import { isPodReady, podReadyCondition } from '../../api/core/pod-state.ts';

export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

const phaseOrder: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(pod: KObject): number {
  const v = pod.metadata.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (v === undefined) return 0;
  const n = Number(v);
  return Number.isInteger(n) ? n : 0;
}

function maxRestarts(pod: KObject): number {
  let m = 0;
  for (const s of pod.status?.containerStatuses ?? []) m = Math.max(m, s?.restartCount ?? 0);
  return m;
}

function time(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** Negative when a should be deleted before b. */
export function compareForDeletion(a: KObject, b: KObject, rankA = 0, rankB = 0): number {
  const assignedA = !!a.spec?.nodeName;
  const assignedB = !!b.spec?.nodeName;
  if (assignedA !== assignedB) return assignedA ? 1 : -1;
  const pa = phaseOrder[a.status?.phase ?? 'Pending'] ?? 0;
  const pb = phaseOrder[b.status?.phase ?? 'Pending'] ?? 0;
  if (pa !== pb) return pa - pb;
  const readyA = isPodReady(a);
  const readyB = isPodReady(b);
  if (readyA !== readyB) return readyA ? 1 : -1;
  const costA = deletionCost(a);
  const costB = deletionCost(b);
  if (costA !== costB) return costA - costB;
  if (rankA !== rankB) return rankB - rankA;
  if (readyA && readyB) {
    // Ready for less time goes first; unknown ready time counts as the newest.
    const ta = time(podReadyCondition(a)?.lastTransitionTime);
    const tb = time(podReadyCondition(b)?.lastTransitionTime);
    if (ta !== tb) {
      if (ta === undefined) return -1;
      if (tb === undefined) return 1;
      return tb - ta;
    }
  }
  const ra = maxRestarts(a);
  const rb = maxRestarts(b);
  if (ra !== rb) return rb - ra;
  const ca = time(a.metadata.creationTimestamp);
  const cb = time(b.metadata.creationTimestamp);
  if (ca !== cb) {
    if (ca === undefined) return -1;
    if (cb === undefined) return 1;
    return cb - ca;
  }
  return 0;
}

/**
 * Pick `count` pods to delete from `pods`. `related` are the active pods of every sibling
 * (same-owner) ReplicaSet, including these; a pod sharing its node with more of them goes first.
 */
export function podsToDelete(pods: KObject[], related: KObject[], count: number): KObject[] {
  if (count >= pods.length) return [...pods];
  const perNode = new Map<string, number>();
  for (const p of related) {
    const n = p.spec?.nodeName;
    if (n) perNode.set(n, (perNode.get(n) ?? 0) + 1);
  }
  const rank = (p: KObject) => (p.spec?.nodeName ? (perNode.get(p.spec.nodeName) ?? 0) : 0);
  const ranked = pods.map((p) => ({ p, r: rank(p) }));
  ranked.sort((x, y) => compareForDeletion(x.p, y.p, x.r, y.r));
  return ranked.slice(0, count).map((x) => x.p);
}
