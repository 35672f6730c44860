// What controllers, the scheduler and the simulated kubelet ask of a pod's state (upstream podutil
// and controller helpers): its conditions, readiness, availability, and whether it is still active
// or finished for good.

import type { KObject } from '../types.ts';

export interface PodCondition {
  type?: string;
  status?: string;
  lastTransitionTime?: string;
  [k: string]: unknown;
}

export function podCondition(pod: KObject, type: string): PodCondition | undefined {
  return (pod.status?.conditions ?? []).find((c: PodCondition | undefined) => c?.type === type);
}

export function podReadyCondition(pod: KObject): PodCondition | undefined {
  return podCondition(pod, 'Ready');
}

/** The pod's Ready condition is True. */
export function isPodReady(pod: KObject): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

/** Ready for at least minReadySeconds (upstream podutil.IsPodAvailable). */
export function isPodAvailable(pod: KObject, minReadySeconds: number, nowMs: number): boolean {
  const c = podReadyCondition(pod);
  if (c?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const since = Date.parse(c.lastTransitionTime ?? '');
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= nowMs;
}

/** Succeeded or Failed: it will not run again. */
export function isPodTerminal(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Neither finished nor being deleted (upstream controller.IsPodActive). */
export function isPodActive(pod: KObject): boolean {
  return !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
}
