// The pure part of building CRI's PodSandboxConfig and ContainerConfig from a pod (upstream
// kuberuntime_sandbox.go generatePodSandboxConfig, kuberuntime_container.go
// generateContainerConfig, labels.go). The core supplies what needs I/O: the env (env.ts), the
// mounts (mounts.ts), the image's user and reference.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Container, ContainerPort, Pod } from './api-types.ts';
import type { ContainerConfig, Mount, PodSandboxConfig, PortMapping, Protocol, StringMap } from './cri-types.ts';
import { podDNSConfig, kernelHostname, podHostnameAndDomain, type DNSOptions } from './dns.ts';
import type { KeyValue } from './env.ts';
import { expand, mappingFor } from './expansion.ts';
import { containerLinuxResources, podCgroupParent, sandboxLinuxResources, sandboxOverhead, type CgroupDriver, type LinuxResourceOptions } from './linux-resources.ts';
import { containerSecurityContext, podSysctls, sandboxSecurityContext, verifyRunAsNonRoot, type ImageUser } from './security-context.ts';

// Labels and annotations the kubelet puts on sandboxes and containers, so that it can recognise
// them after a restart (upstream pkg/kubelet/types/labels.go and kuberuntime/labels.go).
export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';
export const CONTAINER_HASH_ANNOTATION = 'io.kubernetes.container.hash';
export const CONTAINER_RESTART_COUNT_ANNOTATION = 'io.kubernetes.container.restartCount';
export const TERMINATION_MESSAGE_PATH_ANNOTATION = 'io.kubernetes.container.terminationMessagePath';
export const TERMINATION_MESSAGE_POLICY_ANNOTATION = 'io.kubernetes.container.terminationMessagePolicy';
export const POD_DELETION_GRACE_PERIOD_ANNOTATION = 'io.kubernetes.pod.deletionGracePeriod';
export const POD_TERMINATION_GRACE_PERIOD_ANNOTATION = 'io.kubernetes.pod.terminationGracePeriod';
export const PRESTOP_HANDLER_ANNOTATION = 'io.kubernetes.container.preStopHandler';
export const CONTAINER_PORTS_ANNOTATION = 'io.kubernetes.container.ports';

export function podLabels(pod: Pod): StringMap {
  return {
    ...(pod.metadata.labels ?? {}),
    [POD_NAME_LABEL]: pod.metadata.name ?? '',
    [POD_NAMESPACE_LABEL]: pod.metadata.namespace ?? '',
    [POD_UID_LABEL]: pod.metadata.uid ?? '',
  };
}

export function containerLabels(pod: Pod, container: Container): StringMap {
  return {
    [POD_NAME_LABEL]: pod.metadata.name ?? '',
    [POD_NAMESPACE_LABEL]: pod.metadata.namespace ?? '',
    [POD_UID_LABEL]: pod.metadata.uid ?? '',
    [CONTAINER_NAME_LABEL]: container.name,
  };
}

/** Changes when the container's spec changes in a way that needs a new container (resources excluded, as upstream). */
export function containerHash(container: Container): string {
  const { resources: _ignored, ...rest } = container;
  return createHash('sha256').update(stableJSON(rest)).digest('hex').slice(0, 8);
}

function stableJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJSON).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as any)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJSON((v as any)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function containerAnnotations(pod: Pod, container: Container, restartCount: number): StringMap {
  const a: StringMap = {
    [CONTAINER_HASH_ANNOTATION]: containerHash(container),
    [CONTAINER_RESTART_COUNT_ANNOTATION]: String(restartCount),
    [TERMINATION_MESSAGE_PATH_ANNOTATION]: container.terminationMessagePath ?? '',
    [TERMINATION_MESSAGE_POLICY_ANNOTATION]: container.terminationMessagePolicy ?? '',
  };
  if (typeof pod.metadata.deletionGracePeriodSeconds === 'number') a[POD_DELETION_GRACE_PERIOD_ANNOTATION] = String(pod.metadata.deletionGracePeriodSeconds);
  if (typeof pod.spec.terminationGracePeriodSeconds === 'number') a[POD_TERMINATION_GRACE_PERIOD_ANNOTATION] = String(pod.spec.terminationGracePeriodSeconds);
  if (container.lifecycle?.preStop) a[PRESTOP_HANDLER_ANNOTATION] = JSON.stringify(container.lifecycle.preStop);
  if (container.ports?.length) a[CONTAINER_PORTS_ANNOTATION] = JSON.stringify(container.ports);
  return a;
}

/** Every container port as a CRI port mapping (the runtime acts on those with a hostPort); duplicates by name dropped. */
export function portMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec.containers ?? []) {
    const names = new Set<string>();
    for (const p of c.ports ?? []) {
      const protocol = (p.protocol || 'TCP') as Protocol;
      const family = p.hostIP ? (p.hostIP.includes(':') ? 'v6' : 'v4') : 'any';
      const name = p.name || `${family}-${protocol}-${p.hostIP ?? ''}:${p.containerPort}:${p.hostPort ?? 0}`;
      if (names.has(name)) continue;
      names.add(name);
      const m: PortMapping = { protocol, containerPort: p.containerPort, hostPort: p.hostPort ?? 0 };
      if (p.hostIP) m.hostIp = p.hostIP;
      out.push(m);
    }
  }
  return out;
}

/** Where a pod's container logs live on the host: <podLogsDir>/<ns>_<name>_<uid>. */
export function podLogDirectory(podLogsDir: string, pod: Pod): string {
  return join(podLogsDir, `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
}

/** A container's log path relative to the pod's log directory: <name>/<restartCount>.log. */
export function containerLogPath(containerName: string, restartCount: number): string {
  return join(containerName, `${restartCount}.log`);
}

export interface SandboxConfigOptions extends LinuxResourceOptions {
  /** Sandbox attempt (0 first; +1 for each re-created sandbox). */
  attempt?: number;
  /** Default /var/log/pods. */
  podLogsDir?: string;
  cgroupDriver?: CgroupDriver;
  dns: DNSOptions;
}

/** PodSandboxConfig for RunPodSandbox. Throws on an invalid hostname/subdomain (the core reports it as a sandbox creation failure). */
export function sandboxConfig(pod: Pod, opts: SandboxConfigOptions): PodSandboxConfig {
  const cfg: PodSandboxConfig = {
    metadata: { name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? '', uid: pod.metadata.uid ?? '', attempt: opts.attempt ?? 0 },
    labels: podLabels(pod),
    annotations: { ...(pod.metadata.annotations ?? {}) },
    dnsConfig: podDNSConfig(pod, opts.dns),
    logDirectory: podLogDirectory(opts.podLogsDir ?? '/var/log/pods', pod),
  };
  if (!pod.spec.hostNetwork) {
    const { hostname, domain } = podHostnameAndDomain(pod, opts.dns.clusterDomain);
    cfg.hostname = kernelHostname(hostname, domain, pod.spec.setHostnameAsFQDN);
  }
  const ports = portMappings(pod);
  if (ports.length) cfg.portMappings = ports;
  cfg.linux = {
    cgroupParent: podCgroupParent(pod, opts.cgroupDriver),
    securityContext: sandboxSecurityContext(pod),
    sysctls: podSysctls(pod),
    resources: sandboxLinuxResources(pod, opts),
  };
  const overhead = sandboxOverhead(pod, opts);
  if (overhead) cfg.linux.overhead = overhead;
  return cfg;
}

/** command and args with $(VAR) expanded against the container's final environment. */
export function expandCommandAndArgs(container: Container, envs: KeyValue[]): { command: string[]; args: string[] } {
  const mapping = mappingFor(new Map(envs.map((e) => [e.name, e.value])));
  return { command: (container.command ?? []).map((s) => expand(s, mapping)), args: (container.args ?? []).map((s) => expand(s, mapping)) };
}

/**
 * The argv the runtime runs (containerd follows Docker): `command` replaces the image's
 * ENTRYPOINT and then the image's CMD is dropped; `args` replace CMD. Informational: the CRI
 * config carries command and args, the runtime does this resolution itself.
 */
export function resolveProcessArgs(command: string[], args: string[], image: { entrypoint?: string[]; cmd?: string[] }): string[] {
  if (command.length) return [...command, ...args];
  return [...(image.entrypoint ?? []), ...(args.length ? args : image.cmd ?? [])];
}

export interface ContainerConfigOptions extends LinuxResourceOptions {
  /** The image reference to run (the resolved image ID/digest the image service returned). */
  imageRef: string;
  /** The image's user (CRI ImageStatus uid/username), for runAsNonRoot and the default user. */
  imageUser?: ImageUser;
  restartCount: number;
  /** The container's environment (env.ts makeEnvironmentVariables). */
  envs: KeyValue[];
  /** The container's mounts (mounts.ts). */
  mounts: Mount[];
  memoryCapacity: number;
  seccompProfileRoot: string;
  seccompDefault?: boolean;
}

/** ContainerConfig for CreateContainer. Throws CreateContainerConfigError (runAsNonRoot, seccomp/AppArmor fields). */
export function containerConfig(pod: Pod, container: Container, opts: ContainerConfigOptions): ContainerConfig {
  const imageUser = opts.imageUser ?? {};
  verifyRunAsNonRoot(pod, container, imageUser);
  const { command, args } = expandCommandAndArgs(container, opts.envs);
  const cfg: ContainerConfig = {
    metadata: { name: container.name, attempt: opts.restartCount },
    image: { image: opts.imageRef, userSpecifiedImage: container.image ?? '' },
    command,
    args,
    workingDir: container.workingDir ?? '',
    envs: opts.envs.map((e) => ({ key: e.name, value: e.value })),
    mounts: opts.mounts,
    labels: containerLabels(pod, container),
    annotations: containerAnnotations(pod, container, opts.restartCount),
    logPath: containerLogPath(container.name, opts.restartCount),
    stdin: !!container.stdin,
    stdinOnce: !!container.stdinOnce,
    tty: !!container.tty,
    linux: {
      resources: containerLinuxResources(pod, container, opts),
      securityContext: containerSecurityContext(pod, container, imageUser, opts),
    },
  };
  return cfg;
}

/** Container ports parsed back from the annotation (for containers found after a restart). */
export function portsFromAnnotations(annotations: StringMap | undefined): ContainerPort[] {
  try {
    return JSON.parse(annotations?.[CONTAINER_PORTS_ANNOTATION] ?? '[]');
  } catch {
    return [];
  }
}
