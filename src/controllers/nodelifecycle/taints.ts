// Taint arithmetic for the node lifecycle controller: which taints a node's conditions call for,
// whether a pod tolerates a taint, and when a NoExecute taint's toleration runs out.

import { toleratesTaint, type Taint } from '../../api/core/taints.ts';
import type { KObject } from '../../api/types.ts';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';


/** Condition -> NoSchedule taint, as upstream's TaintNodesByCondition. */
const conditionTaints: Array<{ type: string; status: string; key: string }> = [
  { type: 'Ready', status: 'False', key: TAINT_NOT_READY },
  { type: 'Ready', status: 'Unknown', key: TAINT_UNREACHABLE },
  { type: 'MemoryPressure', status: 'True', key: 'node.kubernetes.io/memory-pressure' },
  { type: 'DiskPressure', status: 'True', key: 'node.kubernetes.io/disk-pressure' },
  { type: 'NetworkUnavailable', status: 'True', key: 'node.kubernetes.io/network-unavailable' },
  { type: 'PIDPressure', status: 'True', key: 'node.kubernetes.io/pid-pressure' },
];

/** Every NoSchedule taint key this controller owns. */
export const MANAGED_NOSCHEDULE_KEYS = new Set([...conditionTaints.map((c) => c.key), TAINT_UNSCHEDULABLE]);

export function nodeCondition(node: KObject, type: string): any | undefined {
  return ((node.status?.conditions ?? []) as any[]).find((c) => c?.type === type);
}

/** The NoSchedule taints the node's conditions (and spec.unschedulable) call for. */
export function desiredNoScheduleTaints(node: KObject): Taint[] {
  const out: Taint[] = [];
  for (const ct of conditionTaints) {
    if (nodeCondition(node, ct.type)?.status === ct.status) out.push({ key: ct.key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable) out.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return out;
}

/** The NoExecute taint key the Ready condition calls for, or undefined when the node is Ready. */
export function desiredNoExecuteKey(node: KObject): string | undefined {
  const ready = nodeCondition(node, 'Ready')?.status;
  if (ready === 'False') return TAINT_NOT_READY;
  if (ready === 'Unknown') return TAINT_UNREACHABLE;
  return undefined;
}


/**
 * When the pod must go because of the node's NoExecute taints: 0 for at once (a taint it does not
 * tolerate), a time in ms (the earliest taint's timeAdded plus the shortest matching
 * tolerationSeconds), or Infinity when it tolerates them all for ever.
 */
export function evictionDeadline(pod: KObject, taints: Taint[], now: number): number {
  const tolerations: any[] = pod.spec?.tolerations ?? [];
  let deadline = Infinity;
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue;
    const matching = tolerations.filter((t) => toleratesTaint(t, taint));
    if (matching.length === 0) return 0;
    let secs = Infinity;
    for (const t of matching) {
      if (typeof t.tolerationSeconds === 'number') secs = Math.min(secs, Math.max(0, t.tolerationSeconds));
    }
    if (secs === Infinity) continue;
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : NaN;
    const start = Number.isNaN(added) ? now : added;
    deadline = Math.min(deadline, start + secs * 1000);
  }
  return deadline;
}
