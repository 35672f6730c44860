// securityContext → CRI (upstream kuberuntime security_context.go, securitycontext/util.go,
// runtime util NamespacesForPod, seccomp and AppArmor helpers).

import { join } from 'node:path';
import type { Container, Pod, SecurityContext, SeccompProfile } from './api-types.ts';
import type { LinuxContainerSecurityContext, LinuxSandboxSecurityContext, NamespaceOption, SecurityProfile } from './cri-types.ts';
import { CreateContainerConfigError } from './env.ts';
import { formatPod } from './format.ts';

/** Masked and read-only /proc and /sys paths for the Default procMount (upstream securitycontext/util.go). */
export const DEFAULT_MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The container's securityContext with the pod-level fields it does not set (DetermineEffectiveSecurityContext). */
export function effectiveSecurityContext(pod: Pod, container: Container): SecurityContext {
  const psc = pod.spec.securityContext ?? {};
  const sc: SecurityContext = { ...(container.securityContext ?? {}) };
  if (sc.seLinuxOptions === undefined && psc.seLinuxOptions !== undefined) sc.seLinuxOptions = psc.seLinuxOptions;
  if (sc.runAsUser === undefined && psc.runAsUser !== undefined) sc.runAsUser = psc.runAsUser;
  if (sc.runAsGroup === undefined && psc.runAsGroup !== undefined) sc.runAsGroup = psc.runAsGroup;
  if (sc.runAsNonRoot === undefined && psc.runAsNonRoot !== undefined) sc.runAsNonRoot = psc.runAsNonRoot;
  if (sc.seccompProfile === undefined && psc.seccompProfile !== undefined) sc.seccompProfile = psc.seccompProfile;
  if (sc.appArmorProfile === undefined && psc.appArmorProfile !== undefined) sc.appArmorProfile = psc.appArmorProfile;
  return sc;
}

/** The user an image runs as, from CRI ImageStatus (image.uid, image.username). */
export interface ImageUser {
  uid?: number;
  username?: string;
}

/** runAsNonRoot against the effective user; throws CreateContainerConfigError with upstream's messages. */
export function verifyRunAsNonRoot(pod: Pod, container: Container, image: ImageUser = {}): void {
  const sc = effectiveSecurityContext(pod, container);
  if (!sc.runAsNonRoot) return;
  const where = `(pod: "${formatPod(pod)}", container: ${container.name})`;
  if (sc.runAsUser !== undefined) {
    if (sc.runAsUser === 0) throw new CreateContainerConfigError(`container's runAsUser breaks non-root policy ${where}`);
    return;
  }
  if (image.uid === undefined && image.username) {
    throw new CreateContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${image.username}), cannot verify user is non-root ${where}`);
  }
  if (image.uid !== undefined) {
    if (image.uid === 0) throw new CreateContainerConfigError(`container has runAsNonRoot and image will run as root ${where}`);
    if (image.uid < 0 || image.uid > 2147483647) {
      throw new CreateContainerConfigError(
        `container has runAsNonRoot and image has an invalid user id (${image.uid}). (Must be 1-(2147483647)): must be between 0 and 2147483647, inclusive ${where}`,
      );
    }
  }
}

/** Host namespaces: NODE for hostNetwork/hostPID/hostIPC; the pid namespace is POD with shareProcessNamespace. */
export function namespacesForPod(pod: Pod): NamespaceOption {
  return {
    network: pod.spec.hostNetwork ? 'NODE' : 'POD',
    pid: pod.spec.hostPID ? 'NODE' : pod.spec.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: pod.spec.hostIPC ? 'NODE' : 'POD',
  };
}

export interface SecurityOptions {
  /** Where Localhost seccomp profiles live (upstream: <kubelet root>/seccomp). */
  seccompProfileRoot: string;
  /** The kubelet's --seccomp-default: RuntimeDefault instead of Unconfined when nothing is set. */
  seccompDefault?: boolean;
}

function seccompFromField(p: SeccompProfile, root: string): SecurityProfile {
  if (p.type === 'RuntimeDefault') return { profileType: 'RuntimeDefault' };
  if (p.type === 'Localhost') {
    if (!p.localhostProfile) throw new CreateContainerConfigError('localhostProfile must be set if seccompProfile type is Localhost.');
    return { profileType: 'Localhost', localhostRef: join(root, p.localhostProfile) };
  }
  return { profileType: 'Unconfined' };
}

/** Container field, then pod field, then the default. */
export function seccompProfile(pod: Pod, container: Container, opts: SecurityOptions): SecurityProfile {
  const own = container.securityContext?.seccompProfile ?? pod.spec.securityContext?.seccompProfile;
  if (own) return seccompFromField(own, opts.seccompProfileRoot);
  return { profileType: opts.seccompDefault ? 'RuntimeDefault' : 'Unconfined' };
}

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

/** Container field, pod field, then the deprecated annotation; undefined leaves the runtime's default. */
export function appArmorProfile(pod: Pod, container: Container): SecurityProfile | undefined {
  let p = container.securityContext?.appArmorProfile ?? pod.spec.securityContext?.appArmorProfile;
  if (!p) {
    const ann = pod.metadata.annotations?.[APPARMOR_ANNOTATION_PREFIX + container.name];
    if (ann === 'runtime/default') p = { type: 'RuntimeDefault' };
    else if (ann === 'unconfined') p = { type: 'Unconfined' };
    else if (ann?.startsWith('localhost/')) p = { type: 'Localhost', localhostProfile: ann.slice('localhost/'.length) };
  }
  if (!p) return undefined;
  switch (p.type) {
    case 'RuntimeDefault':
      return { profileType: 'RuntimeDefault' };
    case 'Unconfined':
      return { profileType: 'Unconfined' };
    case 'Localhost':
      if (!p.localhostProfile) throw new CreateContainerConfigError('missing localhost apparmor profile name');
      return { profileType: 'Localhost', localhostRef: p.localhostProfile };
    default:
      throw new CreateContainerConfigError(`unknown apparmor profile type: "${p.type}"`);
  }
}

function podSupplementalGroups(pod: Pod): number[] {
  const psc = pod.spec.securityContext;
  const out: number[] = [];
  if (psc?.fsGroup !== undefined) out.push(psc.fsGroup);
  if (psc?.supplementalGroups) out.push(...psc.supplementalGroups);
  return out;
}

/** LinuxContainerSecurityContext for a container (determineEffectiveSecurityContext). */
export function containerSecurityContext(pod: Pod, container: Container, image: ImageUser, opts: SecurityOptions): LinuxContainerSecurityContext {
  const sc = effectiveSecurityContext(pod, container);
  const out: LinuxContainerSecurityContext = {};
  if (sc.capabilities) out.capabilities = { addCapabilities: [...(sc.capabilities.add ?? [])], dropCapabilities: [...(sc.capabilities.drop ?? [])] };
  if (sc.privileged !== undefined) out.privileged = sc.privileged;
  if (sc.seLinuxOptions) out.selinuxOptions = { ...sc.seLinuxOptions };
  if (sc.runAsUser !== undefined) out.runAsUser = { value: sc.runAsUser };
  if (sc.runAsGroup !== undefined) out.runAsGroup = { value: sc.runAsGroup };
  if (sc.readOnlyRootFilesystem !== undefined) out.readonlyRootfs = sc.readOnlyRootFilesystem;
  out.seccomp = seccompProfile(pod, container, opts);
  const aa = appArmorProfile(pod, container);
  if (aa) out.apparmor = aa;
  if (out.runAsUser === undefined) {
    if (image.uid !== undefined) out.runAsUser = { value: image.uid };
    if (image.username) out.runAsUsername = image.username;
  }
  out.namespaceOptions = namespacesForPod(pod);
  const groups = podSupplementalGroups(pod);
  if (groups.length) out.supplementalGroups = groups;
  // allowPrivilegeEscalation: false sets no_new_privs; unset leaves it off (as upstream).
  out.noNewPrivs = sc.allowPrivilegeEscalation === false;
  const unmasked = sc.procMount === 'Unmasked';
  out.maskedPaths = unmasked ? [] : [...DEFAULT_MASKED_PATHS];
  out.readonlyPaths = unmasked ? [] : [...DEFAULT_READONLY_PATHS];
  return out;
}

export function hasPrivilegedContainer(pod: Pod): boolean {
  return [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])].some((c) => c.securityContext?.privileged === true);
}

/** LinuxSandboxSecurityContext (generatePodSandboxLinuxConfig): the pause container always runs RuntimeDefault seccomp. */
export function sandboxSecurityContext(pod: Pod): LinuxSandboxSecurityContext {
  const psc = pod.spec.securityContext ?? {};
  const out: LinuxSandboxSecurityContext = {
    privileged: hasPrivilegedContainer(pod),
    seccomp: { profileType: 'RuntimeDefault' },
    namespaceOptions: namespacesForPod(pod),
  };
  if (psc.runAsUser !== undefined) out.runAsUser = { value: psc.runAsUser };
  if (psc.runAsGroup !== undefined) out.runAsGroup = { value: psc.runAsGroup };
  const groups = podSupplementalGroups(pod);
  if (groups.length) out.supplementalGroups = groups;
  if (psc.seLinuxOptions) out.selinuxOptions = { ...psc.seLinuxOptions };
  return out;
}

/**
 * Sysctl names may use '/' as the separator; the runtime wants '.' (upstream
 * ConvertSysctlVariableToDotsSeparator: when the first separator is '/', '.' and '/' swap).
 */
export function sysctlDotName(name: string): string {
  const first = name.search(/[./]/);
  if (first < 0 || name[first] === '.') return name;
  return name.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
}

export function podSysctls(pod: Pod): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of pod.spec.securityContext?.sysctls ?? []) out[sysctlDotName(s.name)] = s.value;
  return out;
}
