// Per-pod step timestamps for finding where pod start-up time goes (bench/pod-startup.ts --trace).
// Off unless MIZZEN_KUBELET_TRACE names a file; then each step appends one line
// `<epoch ms> <namespace>/<name> <step>` to it (synchronously: a few dozen lines per pod).

import { appendFileSync } from 'node:fs';
import type { Pod } from '../pods/api-types.ts';

const file = process.env.MIZZEN_KUBELET_TRACE;

export function traceStep(pod: Pod, step: string): void {
  if (!file) return;
  try {
    appendFileSync(file, `${Date.now()} ${pod.metadata.namespace}/${pod.metadata.name} ${step}\n`);
  } catch {
    /* tracing never breaks a sync */
  }
}
