// The PodDisruptionBudget arithmetic: healthy pod counts, the desired number from minAvailable or
// maxUnavailable (percentages rounded up, as upstream), and the disruptedPods bookkeeping.

import type { KObject } from '../../api/types.ts';
import { isPodReady } from '../../api/core/pod-state.ts';
import { scaledValue } from '../../machinery/intstr.ts';

/** A pod the eviction API marked disrupted is not counted healthy for this long (upstream 2 min). */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

export { scaledValue };

export function isPercent(v: unknown): boolean {
  return typeof v === 'string' && v.endsWith('%');
}

/**
 * The disruptedPods entries still in force: pods that exist, are not being deleted yet and were
 * marked less than the timeout ago. Also returns when the earliest entry runs out.
 */
export function liveDisruptedPods(pdb: KObject, pods: KObject[], now: number): { live: Record<string, string>; recheckAtMs?: number } {
  const byName = new Map(pods.map((p) => [p.metadata.name!, p]));
  const live: Record<string, string> = {};
  let recheckAtMs: number | undefined;
  for (const [name, ts] of Object.entries((pdb.status?.disruptedPods ?? {}) as Record<string, string>)) {
    const pod = byName.get(name);
    if (!pod || pod.metadata.deletionTimestamp) continue;
    const at = Date.parse(ts);
    if (Number.isNaN(at)) continue;
    const expires = at + DELETION_TIMEOUT_MS;
    if (expires <= now) continue;
    live[name] = ts;
    if (recheckAtMs === undefined || expires < recheckAtMs) recheckAtMs = expires;
  }
  return { live, recheckAtMs };
}

/** Ready pods that are neither being deleted nor recently marked disrupted. */
export function countHealthy(pods: KObject[], disrupted: Record<string, string>): number {
  let n = 0;
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    if (disrupted[p.metadata.name!] !== undefined) continue;
    if (isPodReady(p)) n++;
  }
  return n;
}

export interface BudgetNumbers {
  expectedPods: number;
  desiredHealthy: number;
}

/**
 * expectedPods and desiredHealthy for a budget. `scale` is asked for the summed replicas of the
 * pods' controllers only when the budget needs it (maxUnavailable, or a percentage minAvailable).
 */
export function budgetNumbers(pdb: KObject, pods: KObject[], scale: () => number): BudgetNumbers {
  const spec = pdb.spec ?? {};
  if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    const expectedPods = scale();
    const maxUnavailable = scaledValue(spec.maxUnavailable, expectedPods, true);
    return { expectedPods, desiredHealthy: Math.max(0, expectedPods - maxUnavailable) };
  }
  if (spec.minAvailable !== undefined && spec.minAvailable !== null) {
    if (!isPercent(spec.minAvailable)) return { expectedPods: pods.length, desiredHealthy: scaledValue(spec.minAvailable, pods.length, true) };
    const expectedPods = scale();
    return { expectedPods, desiredHealthy: scaledValue(spec.minAvailable, expectedPods, true) };
  }
  return { expectedPods: 0, desiredHealthy: 0 };
}

export function disruptionsAllowed(currentHealthy: number, desiredHealthy: number, expectedPods: number): number {
  const n = currentHealthy - desiredHealthy;
  return expectedPods <= 0 || n <= 0 ? 0 : n;
}
