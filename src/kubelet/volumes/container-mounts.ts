// A container's CRI mounts (upstream kubelet_pods.go makeMounts): its volumeMounts resolved
// against the pod's prepared volumes (subPath/subPathExpr, read-only, propagation, recursive
// read-only), then the managed /etc/hosts unless the container mounts its own. The
// termination-message mount is added separately (termination-message.ts) because each container
// instance gets a new file. Errors are CreateContainerConfigErrors, as upstream reports them.

import { mkdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type { Container, HostAlias, Pod, VolumeMount } from '../pods/api-types.ts';
import type { Mount, MountPropagation } from '../pods/cri-types.ts';
import { CreateContainerConfigError, type KeyValue } from '../pods/env.ts';
import { expand } from '../pods/expansion.ts';
import { ETC_HOSTS_PATH, ensureHostsFile } from './etc-hosts.ts';
import { pathHasBacksteps } from './host-path.ts';
import type { PodVolume } from './volume-manager.ts';

export function translateMountPropagation(mode: string | undefined): MountPropagation {
  switch (mode) {
    case undefined:
    case 'None':
      return 'PROPAGATION_PRIVATE';
    case 'HostToContainer':
      return 'PROPAGATION_HOST_TO_CONTAINER';
    case 'Bidirectional':
      return 'PROPAGATION_BIDIRECTIONAL';
    default:
      throw new CreateContainerConfigError(`invalid MountPropagation mode: "${mode}"`);
  }
}

/** recursiveReadOnly: Disabled/unset → false; IfPossible → whether the runtime can; Enabled → must. */
export function resolveRecursiveReadOnly(m: VolumeMount, runtimeSupportsRRO: boolean): boolean {
  const mode = m.recursiveReadOnly;
  if (!mode || mode === 'Disabled') return false;
  const fail = (msg: string) => new CreateContainerConfigError(`failed to resolve recursive read-only mode: ${msg}`);
  if (!m.readOnly) throw fail(`volume "${m.name}" requested recursive read-only mode, but it is not read-only`);
  if (m.mountPropagation && m.mountPropagation !== 'None') {
    throw fail(`volume "${m.name}" requested recursive read-only mode, but it is not compatible with propagation "${m.mountPropagation}"`);
  }
  if (mode === 'IfPossible') return runtimeSupportsRRO;
  if (mode === 'Enabled') {
    if (!runtimeSupportsRRO) throw fail(`volume "${m.name}" requested recursive read-only mode, but it is not supported by the runtime`);
    return true;
  }
  throw fail(`unknown recursive read-only mode "${mode}"`);
}

/** subPathExpr expanded with the container's env; a reference to an unset or empty variable is an error. */
export function expandSubPathExpr(expr: string, envs: KeyValue[]): string {
  const env = new Map(envs.map((e) => [e.name, e.value]));
  const missing = new Set<string>();
  const out = expand(expr, (k) => {
    const v = env.get(k);
    if (!v) missing.add(k);
    return v ?? '';
  });
  if (missing.size) throw new CreateContainerConfigError(`missing value for ${[...missing].sort().join(', ')}`);
  return out;
}

/**
 * The host path for a subPath inside a volume: created as a directory (with the volume's mode)
 * when missing, and refused when symlinks lead it outside the volume. Upstream bind-mounts the
 * resolved path under the pod directory; here the resolved path is handed to the runtime.
 */
async function prepareSubPath(volumePath: string, subPath: string, mount: VolumeMount, container: Container): Promise<string> {
  const target = join(volumePath, subPath);
  const exists = await stat(target).then(
    () => true,
    () => false,
  );
  if (!exists) {
    try {
      const mode = (await stat(volumePath)).mode & 0o7777;
      await mkdir(target, { recursive: true, mode });
    } catch {
      throw new CreateContainerConfigError(`failed to create subPath directory for volumeMount "${mount.name}" of container "${container.name}"`);
    }
  }
  try {
    const [base, real] = await Promise.all([realpath(volumePath), realpath(target)]);
    const rel = relative(base, real);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new Error('outside');
    return target;
  } catch {
    throw new CreateContainerConfigError(`failed to prepare subPath for volumeMount "${mount.name}" of container "${container.name}"`);
  }
}

export interface ContainerMountOptions {
  /** The pod's prepared volumes (VolumeManager.setUp). */
  volumes: Map<string, PodVolume>;
  /** The container's environment, for subPathExpr. */
  envs: KeyValue[];
  /** Where to write the pod's hosts file (KubeletPaths.etcHostsPath). */
  etcHostsPath: string;
  podIPs: string[];
  hostname: string;
  domain: string;
  /** Whether the runtime supports recursive read-only mounts (containerd 1.6 does not). */
  runtimeSupportsRRO?: boolean;
  /** The node's hosts file for hostNetwork pods (default /etc/hosts). */
  nodeHostsPath?: string;
}

/** The hosts file is mounted once the pod has an IP (or uses the host network). */
export function shouldMountHostsFile(pod: Pod, podIPs: string[]): boolean {
  return podIPs.length > 0 || !!pod.spec.hostNetwork;
}

export async function makeContainerMounts(pod: Pod, container: Container, opts: ContainerMountOptions): Promise<Mount[]> {
  let mountHosts = shouldMountHostsFile(pod, opts.podIPs);
  const mounts: Mount[] = [];
  for (const m of container.volumeMounts ?? []) {
    if (m.mountPath === ETC_HOSTS_PATH) mountHosts = false;
    const vol = opts.volumes.get(m.name);
    if (!vol) throw new CreateContainerConfigError(`cannot find volume "${m.name}" to mount into container "${container.name}"`);
    let subPath = m.subPath ?? '';
    if (m.subPathExpr) subPath = expandSubPathExpr(m.subPathExpr, opts.envs);
    let hostPath = vol.hostPath;
    if (subPath) {
      if (subPath.startsWith('/')) throw new CreateContainerConfigError(`error SubPath \`${subPath}\` must not be an absolute path`);
      if (pathHasBacksteps(subPath)) throw new CreateContainerConfigError(`unable to provision SubPath \`${subPath}\`: must not contain '..'`);
      hostPath = await prepareSubPath(vol.hostPath, subPath, m, container);
    }
    const mount: Mount = {
      containerPath: m.mountPath.startsWith('/') ? m.mountPath : `/${m.mountPath}`,
      hostPath,
      readonly: !!m.readOnly || vol.readOnly,
      propagation: translateMountPropagation(m.mountPropagation),
    };
    if (resolveRecursiveReadOnly(m, !!opts.runtimeSupportsRRO)) mount.recursiveReadOnly = true;
    mounts.push(mount);
  }
  if (mountHosts) {
    await ensureHostsFile(opts.etcHostsPath, {
      podIPs: opts.podIPs,
      hostname: opts.hostname,
      domain: opts.domain,
      hostAliases: pod.spec.hostAliases as HostAlias[] | undefined,
      hostNetwork: pod.spec.hostNetwork,
      nodeHostsPath: opts.nodeHostsPath,
    });
    mounts.push({ containerPath: ETC_HOSTS_PATH, hostPath: opts.etcHostsPath, readonly: false, selinuxRelabel: true });
  }
  return mounts;
}
