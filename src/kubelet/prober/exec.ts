// exec probe (upstream pkg/probe/exec over the runtime's ExecSync): exit code 0 is success, any
// other is failure with the command's output; a timeout is a failure whose output says so. The
// kubelet core supplies ExecSync (CRI RuntimeService.ExecSync).

import { MAX_PROBE_OUTPUT, type ProbeResult } from './probe-result.ts';

export interface ExecSyncResult {
  exitCode: number;
  stdout: Buffer | string;
  stderr: Buffer | string;
}

/**
 * Run cmd in the container and wait at most timeoutMs (0: no limit). It must reject with an
 * ExecTimeoutError (or a gRPC DEADLINE_EXCEEDED error, code 4) when the command outlives the timeout.
 */
export type ExecSync = (containerId: string, cmd: string[], timeoutMs: number) => Promise<ExecSyncResult>;

/** The CRI client's execSync (seconds, 0 = none; timeouts reject with gRPC DEADLINE_EXCEEDED) as an ExecSync. */
export function criExecSync(cri: { execSync(containerId: string, cmd: string[], timeoutSeconds?: number): Promise<ExecSyncResult> }): ExecSync {
  return (containerId, cmd, timeoutMs) => cri.execSync(containerId, cmd, timeoutMs > 0 ? Math.ceil(timeoutMs / 1000) : 0);
}

export class ExecTimeoutError extends Error {
  constructor(cmd: string[], readonly timeoutMs: number) {
    super(`command "${cmd.join(' ')}" timed out`);
    this.name = 'ExecTimeoutError';
  }
}

/** Whether an ExecSync failure means the command timed out. */
export function isExecTimeout(e: unknown): boolean {
  return e instanceof ExecTimeoutError || (e as { code?: unknown })?.code === 4 || (e as { code?: unknown })?.code === 'DEADLINE_EXCEEDED';
}

/** stdout followed by stderr, as the kubelet's RunInContainer combines them. */
export function combinedOutput(r: ExecSyncResult): Buffer {
  return Buffer.concat([Buffer.from(r.stdout), Buffer.from(r.stderr)]);
}

export async function probeExec(execSync: ExecSync, containerId: string, cmd: string[], timeoutMs: number): Promise<ProbeResult> {
  let r: ExecSyncResult;
  try {
    r = await execSync(containerId, cmd, timeoutMs);
  } catch (e) {
    if (isExecTimeout(e)) return { result: 'failure', output: `command "${cmd.join(' ')}" timed out` };
    return { result: 'unknown', output: '', error: e as Error };
  }
  const output = combinedOutput(r).subarray(0, MAX_PROBE_OUTPUT).toString('utf8');
  return { result: r.exitCode === 0 ? 'success' : 'failure', output };
}
