// Helpers of the ReplicaSet controller beside the pod state predicates in src/api/core/pod-state.ts.

import type { KObject } from '../../api/types.ts';
import { podReadyCondition } from '../../api/core/pod-state.ts';

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
