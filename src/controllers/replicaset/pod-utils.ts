// Pod state predicates shared by the workload controllers (upstream podutil / controller utils).

import type { KObject } from '../../api/types.ts';

/** Not finished and not being deleted. */
export function isPodActive(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

export function podReadyCondition(pod: KObject): { status?: string; lastTransitionTime?: string } | undefined {
  return (pod.status?.conditions ?? []).find((c: any) => c?.type === 'Ready');
}

export function isPodReady(pod: KObject): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

/** Ready for at least minReadySeconds (upstream IsPodAvailable). */
export function isPodAvailable(pod: KObject, minReadySeconds: number, nowMs: number): boolean {
  const c = podReadyCondition(pod);
  if (c?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return !Number.isNaN(t) && t + minReadySeconds * 1000 <= nowMs;
}

/** Milliseconds until a ready pod becomes available (0 if already, undefined if not ready). */
export function msUntilAvailable(pod: KObject, minReadySeconds: number, nowMs: number): number | undefined {
  const c = podReadyCondition(pod);
  if (c?.status !== 'True') return undefined;
  const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : nowMs;
  return Math.max(0, t + minReadySeconds * 1000 - nowMs);
}

/** Every key/value of `want` is among `labels`. */
export function labelsContain(labels: Record<string, string> | undefined, want: Record<string, string> | undefined): boolean {
  for (const [k, v] of Object.entries(want ?? {})) if (labels?.[k] !== v) return false;
  return true;
}
