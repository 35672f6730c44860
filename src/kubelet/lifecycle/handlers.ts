// postStart and preStop hooks (upstream pkg/kubelet/lifecycle/handlers.go and the hook parts of
// kuberuntime_container.go): exec through the runtime's ExecSync, httpGet against the pod, sleep.
// A failed postStart records FailedPostStartHook and the core kills the container
// (PostStartHookError); preStop runs inside the grace period, which its duration uses up.

import type { Container, LifecycleHandler, Pod } from '../pods/api-types.ts';
import { formatPod, goQuote, goSlice } from '../pods/format.ts';
import { combinedOutput, type ExecSync } from '../prober/exec.ts';
import { httpGet, newRequestForHTTPGetAction } from '../prober/http.ts';
import { runtimeContainerId, type ContainerEventRecorder } from '../prober/prober.ts';

/** The shortest time a container gets between SIGTERM and SIGKILL (upstream minimumGracePeriodInSeconds). */
export const MINIMUM_GRACE_PERIOD_SECONDS = 2;
/** HTTP hooks have no timeout upstream; this only stops a hook from hanging the kubelet forever. */
export const HTTP_HOOK_TIMEOUT_MS = 120_000;

export interface HookDeps {
  execSync: ExecSync;
  recordEvent?: ContainerEventRecorder;
  /** Aborted when the container is being stopped (ends a sleep hook early). */
  signal?: AbortSignal;
  httpTimeoutMs?: number;
}

class HandlerError extends Error {}

function isHTTPResponseToHTTPS(e: unknown): boolean {
  const m = (e as Error)?.message ?? '';
  return /wrong version number|http request to an https server|packet length too long/i.test(m);
}

async function runHTTPHook(handler: LifecycleHandler, pod: Pod, container: Container, podIP: string, deps: HookDeps): Promise<void> {
  const host = handler.httpGet!.host || podIP;
  if (!host) throw new HandlerError('failed to find networking container: no pod IP');
  const req = newRequestForHTTPGetAction(handler.httpGet!, container, host, 'lifecycle');
  const timeout = deps.httpTimeoutMs ?? HTTP_HOOK_TIMEOUT_MS;
  try {
    await httpGet(req, timeout);
  } catch (e) {
    if (req.url.protocol !== 'https:' || !isHTTPResponseToHTTPS(e)) throw e;
    // An HTTPS hook answered by a plain HTTP server: retry over HTTP, without credentials, as upstream does.
    const url = new URL(req.url);
    url.protocol = 'http:';
    const headers = new Map(req.headers);
    headers.delete('Authorization');
    await httpGet({ url, display: req.display.replace(/^https:/, 'http:'), headers }, timeout);
    deps.recordEvent?.(pod, container.name, 'Warning', 'LifecycleHTTPFallback', `request to HTTPS lifecycle hook ${url.host} got HTTP response, retry with HTTP succeeded`);
  }
}

function sleep(seconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new HandlerError('container terminated before sleep hook finished'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, seconds * 1000);
    const onAbort = () => {
      clearTimeout(t);
      reject(new HandlerError('container terminated before sleep hook finished'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Run one handler. Resolves with undefined on success, or upstream's message for the event on failure. */
export async function runLifecycleHandler(handler: LifecycleHandler, pod: Pod, container: Container, containerID: string, podIP: string, deps: HookDeps): Promise<string | undefined> {
  const where = `for Container ${goQuote(container.name)} in Pod ${goQuote(formatPod(pod))}`;
  if (handler.exec) {
    const cmd = handler.exec.command ?? [];
    let output = '';
    let err: string | undefined;
    try {
      const r = await deps.execSync(runtimeContainerId(containerID), cmd, 0);
      output = combinedOutput(r).toString('utf8');
      if (r.exitCode !== 0) err = `command '${cmd.join(' ')}' exited with ${r.exitCode}: ${Buffer.from(r.stderr).toString('utf8')}`;
    } catch (e) {
      err = (e as Error).message;
    }
    return err === undefined ? undefined : `Exec lifecycle hook (${goSlice(cmd)}) ${where} failed - error: ${err}, message: ${goQuote(output)}`;
  }
  if (handler.httpGet) {
    try {
      await runHTTPHook(handler, pod, container, podIP, deps);
      return undefined;
    } catch (e) {
      return `HTTP lifecycle hook (${handler.httpGet.path ?? ''}) ${where} failed - error: ${(e as Error).message}`;
    }
  }
  if (handler.sleep) {
    try {
      await sleep(handler.sleep.seconds, deps.signal);
      return undefined;
    } catch (e) {
      return `Sleep lifecycle hook (${handler.sleep.seconds}) ${where} failed - error: ${(e as Error).message}`;
    }
  }
  return `Cannot run handler: invalid handler: ${handler.tcpSocket ? 'tcpSocket is not supported as a lifecycle handler' : JSON.stringify(handler)}`;
}

export interface PostStartFailure {
  /** The container's waiting reason after the kill (upstream ErrPostStartHook). */
  reason: 'PostStartHookError';
  message: string;
}

/**
 * Run postStart right after StartContainer. On failure a FailedPostStartHook event is recorded and
 * the failure returned: the core must kill the container (reason FailedPostStartHook).
 */
export async function runPostStartHook(pod: Pod, container: Container, containerID: string, podIP: string, deps: HookDeps): Promise<PostStartFailure | undefined> {
  const handler = container.lifecycle?.postStart;
  if (!handler) return undefined;
  const msg = await runLifecycleHandler(handler, pod, container, containerID, podIP, deps);
  if (msg === undefined) return undefined;
  deps.recordEvent?.(pod, container.name, 'Warning', 'FailedPostStartHook', msg);
  return { reason: 'PostStartHookError', message: msg };
}

export type KillReason = 'Liveness' | 'Startup' | 'Other';

/**
 * Seconds between the stop request and SIGKILL (upstream setTerminationGracePeriod): the
 * deletion's grace period, else a failing probe's terminationGracePeriodSeconds, else the pod's;
 * an explicit override (e.g. a force delete) wins.
 */
export function terminationGracePeriod(pod: Pod, container: Container, reason: KillReason = 'Other', override?: number): number {
  if (override !== undefined) return override;
  const deletion = pod.metadata.deletionGracePeriodSeconds;
  if (typeof deletion === 'number') return deletion;
  const podGrace = pod.spec.terminationGracePeriodSeconds;
  if (typeof podGrace === 'number') {
    const probe = reason === 'Liveness' ? container.livenessProbe : reason === 'Startup' ? container.startupProbe : undefined;
    if (typeof probe?.terminationGracePeriodSeconds === 'number') return probe.terminationGracePeriodSeconds;
    return podGrace;
  }
  return MINIMUM_GRACE_PERIOD_SECONDS;
}

/**
 * Run preStop (if any) within gracePeriodSeconds and return the seconds left for the stop itself,
 * never less than the 2-second minimum. A failure records FailedPreStopHook with upstream's terse
 * text (the message may hold secrets) and the stop goes on.
 */
export async function runPreStopHook(pod: Pod, container: Container, containerID: string, podIP: string, gracePeriodSeconds: number, deps: HookDeps): Promise<number> {
  const handler = container.lifecycle?.preStop;
  let grace = gracePeriodSeconds;
  if (handler && grace > 0) {
    const start = Date.now();
    const run = runLifecycleHandler(handler, pod, container, containerID, podIP, deps).then((msg) => {
      if (msg !== undefined) deps.recordEvent?.(pod, container.name, 'Warning', 'FailedPreStopHook', 'PreStopHook failed');
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([run, new Promise<void>((r) => (timer = setTimeout(r, grace * 1000)))]);
    clearTimeout(timer);
    grace -= Math.trunc((Date.now() - start) / 1000);
  }
  return Math.max(grace, MINIMUM_GRACE_PERIOD_SECONDS);
}
