// The Pod Security Standards' checks (upstream k8s.io/pod-security-admission/policy), each a
// function of a pod's metadata and spec answering with the reason and detail upstream prints:
// `privileged (container "c" must not set securityContext.privileged=true)`. Baseline checks run
// at baseline and restricted; restricted adds its own and replaces the baseline capabilities and
// seccomp checks with stricter ones. Versioned labels are evaluated with these (latest) checks.

export type Level = 'privileged' | 'baseline' | 'restricted';
export interface Violation {
  reason: string;
  detail: string;
}
type Check = (meta: any, spec: any) => Violation | undefined;

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v.filter(isObj) : []);
const joinQuote = (xs: unknown[]) => xs.map((x) => JSON.stringify(String(x))).join(', ');
const plural = (one: string, many: string, n: number) => (n === 1 ? one : many);
const containersWord = (names: string[]) => `${plural('container', 'containers', names.length)} ${joinQuote(names)}`;

function allContainers(spec: any): any[] {
  return [...arr(spec?.initContainers), ...arr(spec?.containers), ...arr(spec?.ephemeralContainers)];
}

function named(spec: any, bad: (c: any) => boolean): string[] {
  return allContainers(spec).filter(bad).map((c) => c.name);
}

/** `pod and containers "a", "b"`, `pod`, or `container "a"`. */
function setters(pod: boolean, containers: string[]): string {
  const parts: string[] = [];
  if (pod) parts.push('pod');
  if (containers.length) parts.push(containersWord(containers));
  return parts.join(' and ');
}

const hostProcess: Check = (_m, spec) => {
  const pod = spec?.securityContext?.windowsOptions?.hostProcess === true;
  const cs = named(spec, (c) => c.securityContext?.windowsOptions?.hostProcess === true);
  if (!pod && !cs.length) return;
  return { reason: 'hostProcess', detail: `${setters(pod, cs)} must not set securityContext.windowsOptions.hostProcess=true` };
};

const hostNamespaces: Check = (_m, spec) => {
  const set = ['hostNetwork', 'hostPID', 'hostIPC'].filter((k) => spec?.[k] === true).map((k) => `${k}=true`);
  if (set.length) return { reason: 'host namespaces', detail: set.join(', ') };
};

const privileged: Check = (_m, spec) => {
  const cs = named(spec, (c) => c.securityContext?.privileged === true);
  if (cs.length) return { reason: 'privileged', detail: `${containersWord(cs)} must not set securityContext.privileged=true` };
};

const baselineCaps = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);

const capabilitiesBaseline: Check = (_m, spec) => {
  const cs: string[] = [];
  const caps = new Set<string>();
  for (const c of allContainers(spec)) {
    const bad = (c.securityContext?.capabilities?.add ?? []).filter((x: unknown) => !baselineCaps.has(String(x)));
    if (!bad.length) continue;
    cs.push(c.name);
    for (const b of bad) caps.add(String(b));
  }
  if (cs.length) return { reason: 'non-default capabilities', detail: `${containersWord(cs)} must not include ${joinQuote([...caps])} in securityContext.capabilities.add` };
};

const hostPathVolumes: Check = (_m, spec) => {
  const vs = arr(spec?.volumes).filter((v) => v.hostPath !== undefined).map((v) => v.name);
  if (vs.length) return { reason: 'hostPath volumes', detail: `${plural('volume', 'volumes', vs.length)} ${joinQuote(vs)}` };
};

const hostPorts: Check = (_m, spec) => {
  const cs: string[] = [];
  const ports: number[] = [];
  for (const c of allContainers(spec)) {
    const hp = arr(c.ports).map((p) => p.hostPort).filter((p) => typeof p === 'number' && p !== 0);
    if (!hp.length) continue;
    cs.push(c.name);
    ports.push(...hp);
  }
  if (cs.length)
    return { reason: 'hostPort', detail: `${containersWord(cs)} ${plural('uses', 'use', cs.length)} ${plural('hostPort', 'hostPorts', ports.length)} ${ports.join(', ')}` };
};

const appArmor: Check = (meta, spec) => {
  const bad: string[] = [];
  for (const [k, v] of Object.entries(meta?.annotations ?? {}))
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && v !== 'runtime/default' && !String(v).startsWith('localhost/')) bad.push(`${k}="${v}"`);
  const unconfined = (sc: any) => sc?.appArmorProfile?.type === 'Unconfined';
  const pod = unconfined(spec?.securityContext);
  const cs = named(spec, (c) => unconfined(c.securityContext));
  if (pod || cs.length) bad.push(`${setters(pod, cs)} must not set securityContext.appArmorProfile.type to "Unconfined"`);
  if (bad.length) return { reason: 'forbidden AppArmor profiles', detail: bad.join(', ') };
};

const seLinuxTypes = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

const seLinuxOptions: Check = (_m, spec) => {
  const bad = (o: any) => isObj(o) && (!seLinuxTypes.has(o.type ?? '') || !!o.user || !!o.role);
  const pod = bad(spec?.securityContext?.seLinuxOptions);
  const cs = named(spec, (c) => bad(c.securityContext?.seLinuxOptions));
  if (pod || cs.length) return { reason: 'seLinuxOptions', detail: `${setters(pod, cs)} set forbidden securityContext.seLinuxOptions` };
};

const procMount: Check = (_m, spec) => {
  const cs = allContainers(spec).filter((c) => c.securityContext?.procMount !== undefined && c.securityContext?.procMount !== 'Default');
  if (cs.length)
    return { reason: 'procMount', detail: `${containersWord(cs.map((c) => c.name))} must not set securityContext.procMount to ${joinQuote([...new Set(cs.map((c) => c.securityContext.procMount))])}` };
};

const seccompBaseline: Check = (_m, spec) => {
  const unconfined = (sc: any) => sc?.seccompProfile?.type === 'Unconfined';
  const pod = unconfined(spec?.securityContext);
  const cs = named(spec, (c) => unconfined(c.securityContext));
  if (pod || cs.length) return { reason: 'seccompProfile', detail: `${setters(pod, cs)} must not set securityContext.seccompProfile.type to "Unconfined"` };
};

const safeSysctls = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);

const sysctls: Check = (_m, spec) => {
  const bad = arr(spec?.securityContext?.sysctls).map((s) => String(s.name)).filter((n) => !safeSysctls.has(n));
  if (bad.length) return { reason: 'forbidden sysctls', detail: bad.join(', ') };
};

const allowedVolumeTypes = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

const restrictedVolumes: Check = (_m, spec) => {
  const names: string[] = [];
  const types = new Set<string>();
  for (const v of arr(spec?.volumes)) {
    const bad = Object.keys(v).filter((k) => k !== 'name' && v[k] !== undefined && v[k] !== null && !allowedVolumeTypes.has(k));
    if (!bad.length) continue;
    names.push(v.name);
    for (const b of bad) types.add(b);
  }
  if (names.length)
    return {
      reason: 'restricted volume types',
      detail: `${plural('volume', 'volumes', names.length)} ${joinQuote(names)} ${plural('uses', 'use', names.length)} ${plural('restricted volume type', 'restricted volume types', types.size)} ${joinQuote([...types])}`,
    };
};

const allowPrivilegeEscalation: Check = (_m, spec) => {
  const cs = named(spec, (c) => c.securityContext?.allowPrivilegeEscalation !== false);
  if (cs.length) return { reason: 'allowPrivilegeEscalation != false', detail: `${containersWord(cs)} must set securityContext.allowPrivilegeEscalation=false` };
};

const capabilitiesRestricted: Check = (_m, spec) => {
  const noDrop: string[] = [];
  const badAdd: string[] = [];
  const caps = new Set<string>();
  for (const c of allContainers(spec)) {
    const cap = c.securityContext?.capabilities;
    if (!(cap?.drop ?? []).includes('ALL')) noDrop.push(c.name);
    const bad = (cap?.add ?? []).filter((x: unknown) => x !== 'NET_BIND_SERVICE');
    if (bad.length) {
      badAdd.push(c.name);
      for (const b of bad) caps.add(String(b));
    }
  }
  const parts: string[] = [];
  if (noDrop.length) parts.push(`${containersWord(noDrop)} must set securityContext.capabilities.drop=["ALL"]`);
  if (badAdd.length) parts.push(`${containersWord(badAdd)} must not include ${joinQuote([...caps])} in securityContext.capabilities.add`);
  if (parts.length) return { reason: 'unrestricted capabilities', detail: parts.join('; ') };
};

const runAsNonRoot: Check = (_m, spec) => {
  const podValue = spec?.securityContext?.runAsNonRoot;
  const explicitBad = named(spec, (c) => c.securityContext?.runAsNonRoot === false);
  const implicitBad = podValue === true ? [] : named(spec, (c) => c.securityContext?.runAsNonRoot === undefined || c.securityContext?.runAsNonRoot === null);
  if (podValue === false || explicitBad.length)
    return { reason: 'runAsNonRoot != true', detail: `${[podValue === false ? 'pod' : '', explicitBad.length ? containersWord(explicitBad) : ''].filter(Boolean).join(' and ')} must not set securityContext.runAsNonRoot=false` };
  if (implicitBad.length) return { reason: 'runAsNonRoot != true', detail: `pod or ${containersWord(implicitBad)} must set securityContext.runAsNonRoot=true` };
};

const runAsUser: Check = (_m, spec) => {
  const pod = spec?.securityContext?.runAsUser === 0;
  const cs = named(spec, (c) => c.securityContext?.runAsUser === 0);
  if (pod || cs.length) return { reason: 'runAsUser=0', detail: `${setters(pod, cs)} must not set runAsUser=0` };
};

const seccompRestricted: Check = (_m, spec) => {
  const ok = (t: unknown) => t === 'RuntimeDefault' || t === 'Localhost';
  const podType = spec?.securityContext?.seccompProfile?.type;
  const podBad = podType !== undefined && podType !== null && !ok(podType);
  const explicit: string[] = [];
  const implicit: string[] = [];
  const types = new Set<string>();
  if (podBad) types.add(String(podType));
  for (const c of allContainers(spec)) {
    const t = c.securityContext?.seccompProfile?.type;
    if (t !== undefined && t !== null) {
      if (!ok(t)) {
        explicit.push(c.name);
        types.add(String(t));
      }
    } else if (!ok(podType)) implicit.push(c.name);
  }
  if (podBad || explicit.length)
    return { reason: 'seccompProfile', detail: `${setters(podBad, explicit)} must not set securityContext.seccompProfile.type to ${joinQuote([...types])}` };
  if (implicit.length)
    return { reason: 'seccompProfile', detail: `pod or ${containersWord(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` };
};

const baseline: Check[] = [appArmor, capabilitiesBaseline, hostNamespaces, hostPathVolumes, hostPorts, hostProcess, privileged, procMount, seLinuxOptions, seccompBaseline, sysctls];
const restricted: Check[] = [
  appArmor,
  hostNamespaces,
  hostPathVolumes,
  hostPorts,
  hostProcess,
  privileged,
  procMount,
  seLinuxOptions,
  sysctls,
  allowPrivilegeEscalation,
  capabilitiesRestricted,
  restrictedVolumes,
  runAsNonRoot,
  runAsUser,
  seccompRestricted,
];

/** Violations of a level by a pod's metadata and spec, in upstream's order. */
export function evaluate(level: Level, meta: any, spec: any): Violation[] {
  if (level === 'privileged' || !isObj(spec)) return [];
  const out: Violation[] = [];
  for (const c of level === 'baseline' ? baseline : restricted) {
    const v = c(meta, spec);
    if (v) out.push(v);
  }
  return out;
}

export function describe(violations: Violation[]): string {
  return violations.map((v) => `${v.reason} (${v.detail})`).join(', ');
}
