// One sync of one pod (upstream kubelet.go SyncPod / SyncTerminatingPod and kuberuntime_manager.go
// computePodActions + SyncPod, reduced to what Mizzen runs), following docs/kubelet-pods.md
// "A pod sync, in order": admit → volumes → sandbox → init containers in order → containers →
// probes. Deleted pods are stopped (preStop, SIGTERM, grace, SIGKILL) and cleaned up.

import { rm } from 'node:fs/promises';
import { isNotFound } from '../cri/errors.ts';
import type { Container, Pod } from '../pods/api-types.ts';
import { admitPod, rejectionStatusMessage } from '../pods/admission.ts';
import { containerHash, podLogDirectory } from '../pods/container-config.ts';
import { formatPod, goDuration } from '../pods/format.ts';
import { rfc3339 } from '../../machinery/time.ts';
import { containerFieldPath, type PodRecord, type SyncContext } from './context.ts';
import { killContainer, podSandboxConfig, startContainer } from './container-lifecycle.ts';
import type { PodRuntimeState, RuntimeContainer } from './runtime-state.ts';
import { removePodCgroups } from './cgroups.ts';
import { traceStep } from './trace.ts';

export interface SyncResult {
  requeueAfterMs?: number;
  /** The pod is gone and cleaned up: forget its record. */
  forget?: boolean;
}

/** A container running longer than this has its crash back-off reset (upstream: 10 min). */
export const BACKOFF_RESET_RUN_MS = 10 * 60_000;
/** Retry after a start failure (image, config, runtime error) when nothing else wakes the pod. */
const START_RETRY_MS = 5000;
const VOLUME_RETRY_MS = 2000;

const isSidecar = (c: Container) => c.restartPolicy === 'Always';

function latestOf(state: PodRuntimeState, name: string): RuntimeContainer | undefined {
  return state.containers.find((c) => c.name === name);
}

function minDelay(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

function shouldRestart(pod: Pod, c: Container, exitCode: number, init: boolean): boolean {
  if (init && isSidecar(c)) return true;
  const policy = pod.spec.restartPolicy ?? 'Always';
  if (init) return policy !== 'Never' && exitCode !== 0;
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}

/**
 * Whether an exited container may start again now (crash-loop back-off). When not, the waiting
 * reason is CrashLoopBackOff and the delay until it may is returned.
 */
function restartGate(ctx: SyncContext, rec: PodRecord, c: Container, latest: RuntimeContainer): { start: boolean; retryMs?: number } {
  const key = `${rec.uid}/${c.name}`;
  if (latest.startedAt && latest.finishedAt - latest.startedAt >= BACKOFF_RESET_RUN_MS) ctx.restartBackoff.reset(key);
  const { backingOff, untilMs } = ctx.restartBackoff.inBackOffSince(key, latest.finishedAt || Date.now());
  if (backingOff) {
    const delay = ctx.restartBackoff.delay(key);
    const pod = rec.pod;
    rec.reasons.set(c.name, { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(delay / 1000)} restarting failed container=${c.name} pod=${formatPod(pod)}` });
    const eventKey = `backoff/${latest.id}`;
    if (!rec.recorded.has(eventKey)) {
      rec.recorded.add(eventKey);
      ctx.record(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${formatPod(pod)}`, containerFieldPath(pod, c.name));
    }
    return { start: false, retryMs: untilMs - Date.now() + 20 };
  }
  ctx.restartBackoff.next(key);
  return { start: true };
}

export async function syncPod(ctx: SyncContext, rec: PodRecord, otherActivePods: () => Pod[]): Promise<SyncResult> {
  const pod = rec.pod;
  let state = await ctx.state.podState(rec.uid);

  if (rec.deletedFromApi || pod.metadata.deletionTimestamp) return terminatePod(ctx, rec, state);

  if (!rec.admitted) {
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      rec.admitted = true;
      rec.terminalPhase = phase;
    } else if (state.sandboxes.length || state.containers.length) {
      rec.admitted = true; // found running after a kubelet restart: adopted as it is
    } else {
      const node = ctx.node();
      if (!node) return { requeueAfterMs: 1000 };
      const pressure = ((node as any).status?.conditions ?? []).filter((c: any) => /Pressure$/.test(c?.type) && c.status === 'True').map((c: any) => c.type);
      const r = admitPod(pod, node, otherActivePods(), { pressureConditions: pressure });
      rec.admitted = true;
      if (r) {
        rec.rejection = { reason: r.reason, message: rejectionStatusMessage(r) };
        rec.terminalPhase = 'Failed';
        ctx.record(pod, 'Warning', r.reason, r.message);
        return {};
      }
    }
  }
  if (rec.rejection) return {};
  if (!rec.startTime) rec.startTime = (pod.status as any)?.startTime ?? rfc3339();

  if (rec.terminalPhase) {
    // Finished for good: nothing runs any more, the sandbox (and its IP) is released.
    for (const sb of state.sandboxes) if (sb.state === 'SANDBOX_READY') await ctx.cri.stopPodSandbox(sb.id);
    rec.sandboxId = undefined;
    return {};
  }

  const specs = new Map<string, Container>([...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => [c.name, c]));
  let deadlineMs: number | undefined;

  // activeDeadlineSeconds: a pod active longer than that is stopped and Failed (upstream).
  const deadline = pod.spec.activeDeadlineSeconds;
  if (typeof deadline === 'number' && rec.startTime) {
    const left = Date.parse(rec.startTime) + deadline * 1000 - Date.now();
    if (left <= 0) {
      rec.rejection = { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' };
      ctx.record(pod, 'Normal', 'DeadlineExceeded', rec.rejection.message!);
      rec.terminalPhase = 'Failed';
      await Promise.all(
        state.containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => killContainer(ctx, rec, specs.get(c.name), c, 'Other', `Stopping container ${c.name}`)),
      );
      for (const sb of state.sandboxes) if (sb.state === 'SANDBOX_READY') await ctx.cri.stopPodSandbox(sb.id);
      return {};
    }
    deadlineMs = left;
  }

  // Containers whose liveness or startup probe failed.
  if (rec.killRequests.size) {
    for (const [name, k] of [...rec.killRequests]) {
      rec.killRequests.delete(name);
      const c = state.containers.find((x) => x.id === k.containerId && x.state === 'CONTAINER_RUNNING');
      if (!c) continue;
      const what = k.reason === 'Liveness' ? 'liveness' : 'startup';
      await killContainer(ctx, rec, specs.get(name), c, k.reason, `Container ${name} failed ${what} probe, will be restarted`);
    }
    state = await ctx.state.podState(rec.uid);
  }

  // Volumes.
  traceStep(pod, 'volumes-start');
  const vol = await ctx.volumes.setUp(pod);
  traceStep(pod, 'volumes-done');
  for (const e of vol.remountErrors) ctx.record(pod, 'Warning', e.reason, e.message);
  if (vol.errors.length) {
    for (const e of vol.errors) {
      const key = `mount/${e.message}`;
      if (!rec.recorded.has(key)) {
        rec.recorded.add(key);
        ctx.record(pod, 'Warning', e.reason, e.message);
      }
    }
    rec.volumeWaitSince ??= Date.now();
    if (Date.now() - rec.volumeWaitSince > 120_000) {
      const key = 'mount/timeout';
      if (!rec.recorded.has(key)) {
        rec.recorded.add(key);
        const names = vol.errors.map((e) => e.volume).sort();
        ctx.record(pod, 'Warning', 'FailedMount', `Unable to attach or mount volumes: unmounted volumes=[${names.join(' ')}], unattached volumes=[], failed to process volumes=[]: timed out waiting for the condition`);
      }
    }
    return { requeueAfterMs: VOLUME_RETRY_MS };
  }
  rec.volumeWaitSince = undefined;

  // Sandbox.
  let sandbox = state.sandboxes[0];
  if (!sandbox || sandbox.state !== 'SANDBOX_READY') {
    const attempt = sandbox ? sandbox.attempt + 1 : 0;
    if (sandbox) {
      ctx.record(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      for (const c of state.containers.filter((x) => x.state === 'CONTAINER_RUNNING')) {
        await killContainer(ctx, rec, specs.get(c.name), c, 'Other', `Stopping container ${c.name}`);
      }
    }
    const cfg = podSandboxConfig(ctx, pod, attempt);
    let id: string;
    try {
      traceStep(pod, 'sandbox-start');
      id = await ctx.sandboxLimiter.run(() => ctx.cri.runPodSandbox(cfg));
      traceStep(pod, 'sandbox-done');
    } catch (e) {
      const key = `sandbox/${(e as Error).message}`;
      if (!rec.recorded.has(key)) {
        rec.recorded.add(key);
        ctx.record(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(e as Error).message}`);
      }
      return { requeueAfterMs: START_RETRY_MS };
    }
    state = await ctx.state.podState(rec.uid);
    traceStep(pod, 'sandbox-state');
    sandbox = state.sandboxes.find((s) => s.id === id)!;
    if (!sandbox) return { requeueAfterMs: 1000 };
  }
  rec.sandboxId = sandbox.id;
  const sbCfg = podSandboxConfig(ctx, pod, sandbox.attempt);
  let requeue: number | undefined;

  /** Brings one container to where it should be; true when it runs (or finished as it should). */
  const ensure = async (c: Container, init: boolean): Promise<'running' | 'done' | 'waiting' | 'failed'> => {
    const latest = latestOf(state, c.name);
    let restartCount = 0;
    if (latest) {
      if (latest.state === 'CONTAINER_RUNNING') {
        if (latest.hash && latest.hash !== containerHash(c)) {
          await killContainer(ctx, rec, c, latest, 'Other', `Container ${c.name} definition changed, will be restarted`);
          restartCount = latest.restartCount + 1;
        } else {
          rec.reasons.delete(c.name);
          return 'running';
        }
      } else if (latest.state === 'CONTAINER_CREATED') {
        // Created but never started (a start that was cut short): replace it.
        await ctx.cri.removeContainer(latest.id).catch(() => {});
        restartCount = latest.restartCount + 1;
      } else {
        if (!shouldRestart(pod, c, latest.exitCode, init)) {
          rec.reasons.delete(c.name);
          return latest.exitCode === 0 || !init ? 'done' : 'failed';
        }
        const gate = restartGate(ctx, rec, c, latest);
        if (!gate.start) {
          requeue = minDelay(requeue, gate.retryMs);
          return 'waiting';
        }
        restartCount = latest.restartCount + 1;
      }
    }
    const ok = await startContainer(ctx, rec, c, sandbox, sbCfg, vol.volumes, restartCount);
    if (!ok) requeue = minDelay(requeue, START_RETRY_MS);
    return ok ? 'running' : 'waiting';
  };

  // Init containers, one at a time and in order; sidecars (restartPolicy Always) keep running.
  let initDone = true;
  for (const c of pod.spec.initContainers ?? []) {
    const r = await ensure(c, true);
    if (isSidecar(c)) {
      if (r === 'running') continue;
      initDone = false;
      break;
    }
    if (r === 'done') continue;
    if (r === 'failed') rec.terminalPhase = 'Failed';
    initDone = false;
    break;
  }
  if (initDone) {
    state = await ctx.state.podState(rec.uid);
    for (const c of pod.spec.containers) await ensure(c, false);
  }
  if (sandbox.ips.length || pod.spec.hostNetwork) ctx.probes.addPod(pod);
  return { requeueAfterMs: minDelay(requeue, deadlineMs) };
}

/** Stops a deleted pod's containers and sandbox, then cleans up once the API no longer has it. */
async function terminatePod(ctx: SyncContext, rec: PodRecord, state: PodRuntimeState): Promise<SyncResult> {
  const pod = rec.pod;
  ctx.probes.stopLivenessAndStartup(pod);
  const specs = new Map<string, Container>([...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => [c.name, c]));
  const live = state.containers.filter((c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_CREATED');
  // A pod removed without a grace period (force delete) is stopped with the shortest one.
  const override = rec.deletedFromApi && !pod.metadata.deletionTimestamp ? 0 : undefined;
  const grace = override ?? pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
  rec.stopping = { grace, containerIds: live.map((c) => c.id) };
  try {
    await Promise.all(live.map((c) => killContainer(ctx, rec, specs.get(c.name), c, 'Other', `Stopping container ${c.name}`, override)));
  } finally {
    rec.stopping = undefined;
  }
  for (const sb of state.sandboxes) if (sb.state === 'SANDBOX_READY') await ctx.cri.stopPodSandbox(sb.id);
  rec.sandboxId = undefined;
  rec.terminated = true;
  if (!rec.deletedFromApi) return {};

  // Gone from the API: remove what the pod left on the node.
  ctx.probes.removePod(pod);
  await ctx.volumes.tearDown(rec.uid);
  for (const sb of state.sandboxes) {
    try {
      await ctx.cri.removePodSandbox(sb.id);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  ctx.state.forget(
    state.containers.map((c) => c.id),
    state.sandboxes.map((s) => s.id),
  );
  await rm(podLogDirectory(ctx.podLogsDir, pod), { recursive: true, force: true });
  await removePodCgroups(ctx.cgroupRoot, rec.uid);
  return { forget: true };
}
