// Starting and stopping one container of a pod (upstream kuberuntime_container.go startContainer and
// killContainer): image, environment, mounts, CreateContainer, StartContainer, postStart; preStop,
// StopContainer with the grace period. Failures become the container's waiting reason and a Failed
// event, never an exception, unless the runtime itself is away (the sync is then retried).

import { isUnavailable } from '../cri/errors.ts';
import type { PodSandboxConfig } from '../cri/types.ts';
import type { Container, Pod } from '../pods/api-types.ts';
import { containerConfig, sandboxConfig } from '../pods/container-config.ts';
import { podHostnameAndDomain } from '../pods/dns.ts';
import { CreateContainerConfigError, makeEnvironmentVariables } from '../pods/env.ts';
import { podCgroupParent } from '../pods/linux-resources.ts';
import { runPostStartHook, runPreStopHook, terminationGracePeriod, type KillReason } from '../lifecycle/handlers.ts';
import { makeContainerMounts } from '../volumes/container-mounts.ts';
import { prepareTerminationMessageFile } from '../volumes/termination-message.ts';
import type { PodVolume } from '../volumes/volume-manager.ts';
import { containerFieldPath, type PodRecord, type SyncContext } from './context.ts';
import { ImagePullError } from './image-puller.ts';
import type { RuntimeContainer, RuntimeSandbox } from './runtime-state.ts';
import { traceStep } from './trace.ts';

/** The sandbox config of the pod at an attempt (the same config is passed to every CreateContainer). */
export function podSandboxConfig(ctx: SyncContext, pod: Pod, attempt: number): PodSandboxConfig {
  const cfg = sandboxConfig(pod, { dns: ctx.dns, podLogsDir: ctx.podLogsDir, attempt });
  cfg.linux = { ...cfg.linux, cgroupParent: ctx.cgroupRoot + podCgroupParent(pod) };
  return cfg;
}

/** Events about a container, as the prober and hook modules report them. */
function containerRecorder(ctx: SyncContext) {
  return (pod: Pod, name: string, type: 'Normal' | 'Warning', reason: string, message: string) => ctx.record(pod, type, reason, message, containerFieldPath(pod, name));
}

function errorMessage(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}

/**
 * Creates and starts `c` in the sandbox as instance `restartCount`. Returns false (with the reason
 * recorded on the pod) when it could not.
 */
export async function startContainer(
  ctx: SyncContext,
  rec: PodRecord,
  c: Container,
  sandbox: RuntimeSandbox,
  sbCfg: PodSandboxConfig,
  volumes: Map<string, PodVolume>,
  restartCount: number,
): Promise<boolean> {
  const pod = rec.pod;
  const uid = rec.uid;
  const fieldPath = containerFieldPath(pod, c.name);
  const record = (type: 'Normal' | 'Warning', reason: string, message: string) => ctx.record(pod, type, reason, message, fieldPath);
  const fail = (reason: string, message: string, event = true) => {
    rec.reasons.set(c.name, { reason, message });
    if (event) record('Warning', 'Failed', `Error: ${message}`);
    return false;
  };
  let image;
  try {
    traceStep(pod, 'image-start');
    image = await ctx.images.ensureImage(pod, c, sbCfg, record);
    traceStep(pod, 'image-done');
  } catch (e) {
    if (!(e instanceof ImagePullError)) throw e;
    rec.reasons.set(c.name, { reason: e.reason, message: e.message });
    if (e.reason === 'ErrImagePull' || e.reason === 'ErrImageNeverPull' || e.reason === 'InvalidImageName') record('Warning', 'Failed', `Error: ${e.reason}`);
    return false;
  }
  const podIPs = sandbox.ips;
  let cfg;
  try {
    const envs = await makeEnvironmentVariables(pod, c, {
      sources: ctx.sources,
      nodeAllocatable: ctx.nodeAllocatable(),
      podIPs,
      hostIPs: ctx.hostIPs(),
      recordEvent: (type, reason, message) => record(type, reason, message),
    });
    const { hostname, domain } = podHostnameAndDomain(pod, ctx.dns.clusterDomain);
    const mounts = await makeContainerMounts(pod, c, { volumes, envs, etcHostsPath: ctx.paths.etcHostsPath(uid), podIPs, hostname, domain });
    const tm = await prepareTerminationMessageFile(ctx.paths.podContainerDir(uid, c.name), c);
    if (tm) mounts.push(tm);
    cfg = containerConfig(pod, c, {
      imageRef: image.imageRef,
      imageUser: image.user,
      restartCount,
      envs,
      mounts,
      memoryCapacity: ctx.memoryCapacity(),
      seccompProfileRoot: ctx.paths.seccompProfileRoot(),
    });
  } catch (e) {
    if (e instanceof CreateContainerConfigError) return fail('CreateContainerConfigError', e.message);
    throw e;
  }
  let id: string;
  try {
    traceStep(pod, 'create-start');
    id = await ctx.cri.createContainer(sandbox.id, cfg, sbCfg);
    traceStep(pod, 'create-done');
  } catch (e) {
    if (isUnavailable(e)) throw e;
    return fail('CreateContainerError', errorMessage(e));
  }
  record('Normal', 'Created', `Created container ${c.name}`);
  try {
    await ctx.cri.startContainer(id);
    traceStep(pod, 'start-done');
  } catch (e) {
    if (isUnavailable(e)) throw e;
    return fail('RunContainerError', errorMessage(e));
  }
  record('Normal', 'Started', `Started container ${c.name}`);
  rec.reasons.delete(c.name);
  const containerID = `${ctx.runtimeName}://${id}`;
  const failure = await runPostStartHook(pod, c, containerID, podIPs[0] ?? '', { execSync: ctx.execSync, recordEvent: containerRecorder(ctx) });
  if (failure) {
    await killContainer(ctx, rec, c, { id, name: c.name } as RuntimeContainer, 'Other', 'FailedPostStartHook');
    rec.reasons.set(c.name, { reason: failure.reason, message: failure.message });
    return false;
  }
  return true;
}

/**
 * Stops a container: preStop within the grace period, then StopContainer with what is left (at
 * least 2 s; SIGTERM, then SIGKILL). `message` is the Killing event's text.
 */
export async function killContainer(
  ctx: SyncContext,
  rec: PodRecord,
  spec: Container | undefined,
  c: Pick<RuntimeContainer, 'id' | 'name'>,
  reason: KillReason,
  message: string,
  graceOverride?: number,
): Promise<void> {
  const pod = rec.pod;
  ctx.record(pod, 'Normal', 'Killing', message, containerFieldPath(pod, c.name));
  const ac = new AbortController();
  let grace: number;
  if (spec) {
    grace = terminationGracePeriod(pod, spec, reason, graceOverride);
    const podIP = (pod.status as any)?.podIP ?? '';
    grace = await runPreStopHook(pod, spec, `${ctx.runtimeName}://${c.id}`, podIP, grace, { execSync: ctx.execSync, recordEvent: containerRecorder(ctx), signal: ac.signal });
  } else {
    grace = Math.max(graceOverride ?? pod.spec.terminationGracePeriodSeconds ?? 2, 2);
  }
  try {
    await ctx.cri.stopContainer(c.id, grace);
  } finally {
    ac.abort();
  }
}
