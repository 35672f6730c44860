// The Pod Security Standards' checks (upstream k8s.io/pod-security-admission/policy), each a
// function of a pod's metadata and spec answering with the reason and detail upstream prints:
// `privileged (container "c" must not set securityContext.privileged=true)`. Baseline checks run
// at baseline and restricted; restricted adds its own and replaces the baseline capabilities and
// seccomp checks with stricter ones. A check changes over Kubernetes versions: each has a list of
// versioned forms (`since` 1.x), and a namespace pinned to `v1.2x` is evaluated with the forms of
// that version, as upstream's evaluator picks them (`latest` takes the newest).

export type Level = 'privileged' | 'baseline' | 'restricted';
export interface Violation {
  reason: string;
  detail: string;
}
type Check = (meta: any, spec: any) => Violation | undefined;
/** A Kubernetes minor version (1.x) as a number: 1.25 → 25; `latest` is Infinity. */
export type Minor = number;

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

const allowedAppArmorAnnotation = (v: unknown) => v === '' || v === 'runtime/default' || String(v).startsWith('localhost/');

function appArmorAnnotations(meta: any): string[] {
  const bad: string[] = [];
  for (const [k, v] of Object.entries(meta?.annotations ?? {}))
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && !allowedAppArmorAnnotation(v)) bad.push(`${k}=${JSON.stringify(String(v))}`);
  return bad.sort();
}

/** 1.0: only the beta annotations. */
const appArmor_1_0: Check = (meta) => {
  const bad = appArmorAnnotations(meta);
  if (bad.length) return { reason: plural('forbidden AppArmor profile', 'forbidden AppArmor profiles', bad.length), detail: bad.join(', ') };
};

/** 1.30: the appArmorProfile fields too. */
const appArmor_1_30: Check = (meta, spec) => {
  const bad = appArmorAnnotations(meta);
  const unconfined = (sc: any) => sc?.appArmorProfile?.type === 'Unconfined';
  const pod = unconfined(spec?.securityContext);
  const cs = named(spec, (c) => unconfined(c.securityContext));
  if (pod || cs.length) bad.push(`${setters(pod, cs)} must not set securityContext.appArmorProfile.type to "Unconfined"`);
  if (bad.length) return { reason: 'forbidden AppArmor profiles', detail: bad.join(', ') };
};

const seLinuxTypes_1_0 = ['', 'container_t', 'container_init_t', 'container_kvm_t'];

/** Allowed SELinux types: 1.31 adds container_engine_t. */
const seLinuxOptions = (allowed: Set<string>): Check => (_m, spec) => {
  const types = new Set<string>();
  let user = false;
  let role = false;
  const bad = (o: any) => {
    if (!isObj(o)) return false;
    let b = false;
    if (!allowed.has(o.type ?? '')) {
      types.add(String(o.type));
      b = true;
    }
    if (o.user) b = user = true;
    if (o.role) b = role = true;
    return b;
  };
  const pod = bad(spec?.securityContext?.seLinuxOptions);
  const cs = named(spec, (c) => bad(c.securityContext?.seLinuxOptions));
  if (!pod && !cs.length) return;
  const what: string[] = [];
  if (types.size) what.push(`${plural('type', 'types', types.size)} ${joinQuote([...types].sort())}`);
  if (user) what.push('user may not be set');
  if (role) what.push('role may not be set');
  return { reason: 'seLinuxOptions', detail: `${setters(pod, cs)} set forbidden securityContext.seLinuxOptions: ${what.join('; ')}` };
};

const procMount: Check = (_m, spec) => {
  const cs = allContainers(spec).filter((c) => c.securityContext?.procMount !== undefined && c.securityContext?.procMount !== 'Default');
  if (cs.length)
    return { reason: 'procMount', detail: `${containersWord(cs.map((c) => c.name))} must not set securityContext.procMount to ${joinQuote([...new Set(cs.map((c) => c.securityContext.procMount))])}` };
};

const seccompAnnotationOk = (v: unknown) => v === 'runtime/default' || v === 'docker/default' || String(v).startsWith('localhost/');

/** Before 1.19 seccomp was set by alpha annotations. */
const seccompBaseline_1_0: Check = (meta, spec) => {
  const ann = meta?.annotations ?? {};
  const keys = ['seccomp.security.alpha.kubernetes.io/pod', ...allContainers(spec).map((c) => `container.seccomp.security.alpha.kubernetes.io/${c.name}`)];
  const bad = [...new Set(keys.filter((k) => k in ann && !seccompAnnotationOk(ann[k])).map((k) => `${k}=${JSON.stringify(String(ann[k]))}`))].sort();
  if (bad.length) return { reason: 'seccompProfile', detail: `forbidden ${plural('annotation', 'annotations', bad.length)} ${bad.join(', ')}` };
};

const seccompBaseline_1_19: Check = (_m, spec) => {
  const unconfined = (sc: any) => sc?.seccompProfile?.type === 'Unconfined';
  const pod = unconfined(spec?.securityContext);
  const cs = named(spec, (c) => unconfined(c.securityContext));
  if (pod || cs.length) return { reason: 'seccompProfile', detail: `${setters(pod, cs)} must not set securityContext.seccompProfile.type to "Unconfined"` };
};

const sysctls_1_0 = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range'];
const sysctls_1_27 = [...sysctls_1_0, 'net.ipv4.ip_local_reserved_ports'];
const sysctls_1_29 = [...sysctls_1_27, 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];

const sysctls = (safe: Set<string>): Check => (_m, spec) => {
  const bad = arr(spec?.securityContext?.sysctls).map((s) => String(s.name)).filter((n) => !safe.has(n));
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

/** From 1.25 a pod with spec.os.name=windows is exempt (those fields do not apply on Windows). */
const exceptWindows = (check: Check): Check => (meta, spec) => (spec?.os?.name === 'windows' ? undefined : check(meta, spec));

interface Versioned {
  since: Minor;
  check: Check;
}
interface CheckDef {
  id: string;
  level: 'baseline' | 'restricted';
  versions: Versioned[];
  /** Baseline checks this one replaces at restricted, once it applies. */
  overrides?: string[];
}

const v = (since: Minor, check: Check): Versioned => ({ since, check });

/** Upstream's checks with the version each form starts at; baseline first, each level in upstream's order. */
const checks: CheckDef[] = [
  { id: 'appArmorProfile', level: 'baseline', versions: [v(0, appArmor_1_0), v(30, appArmor_1_30)] },
  { id: 'capabilities_baseline', level: 'baseline', versions: [v(0, capabilitiesBaseline)] },
  { id: 'hostNamespaces', level: 'baseline', versions: [v(0, hostNamespaces)] },
  { id: 'hostPathVolumes', level: 'baseline', versions: [v(0, hostPathVolumes)] },
  { id: 'hostPorts', level: 'baseline', versions: [v(0, hostPorts)] },
  { id: 'hostProcess', level: 'baseline', versions: [v(0, hostProcess)] },
  { id: 'privileged', level: 'baseline', versions: [v(0, privileged)] },
  { id: 'procMount', level: 'baseline', versions: [v(0, procMount)] },
  {
    id: 'seLinuxOptions',
    level: 'baseline',
    versions: [v(0, seLinuxOptions(new Set(seLinuxTypes_1_0))), v(31, seLinuxOptions(new Set([...seLinuxTypes_1_0, 'container_engine_t'])))],
  },
  { id: 'seccompProfile_baseline', level: 'baseline', versions: [v(0, seccompBaseline_1_0), v(19, seccompBaseline_1_19)] },
  { id: 'sysctls', level: 'baseline', versions: [v(0, sysctls(new Set(sysctls_1_0))), v(27, sysctls(new Set(sysctls_1_27))), v(29, sysctls(new Set(sysctls_1_29)))] },
  { id: 'allowPrivilegeEscalation', level: 'restricted', versions: [v(8, allowPrivilegeEscalation), v(25, exceptWindows(allowPrivilegeEscalation))] },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    versions: [v(22, capabilitiesRestricted), v(25, exceptWindows(capabilitiesRestricted))],
    overrides: ['capabilities_baseline'],
  },
  { id: 'restrictedVolumes', level: 'restricted', versions: [v(0, restrictedVolumes)] },
  { id: 'runAsNonRoot', level: 'restricted', versions: [v(0, runAsNonRoot)] },
  { id: 'runAsUser', level: 'restricted', versions: [v(23, runAsUser)] },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    versions: [v(19, seccompRestricted), v(25, exceptWindows(seccompRestricted))],
    overrides: ['seccompProfile_baseline'],
  },
];

/** The checks of a level at a version: each check's newest form not after it; overridden baseline checks left out. */
function checksFor(level: 'baseline' | 'restricted', version: Minor): Check[] {
  const picked: { def: CheckDef; check: Check }[] = [];
  for (const def of checks) {
    if (level === 'baseline' && def.level === 'restricted') continue;
    const form = def.versions.filter((x) => x.since <= version).at(-1);
    if (form) picked.push({ def, check: form.check });
  }
  const overridden = new Set(picked.flatMap((p) => p.def.overrides ?? []));
  return picked.filter((p) => !overridden.has(p.def.id)).map((p) => p.check);
}

const cache = new Map<string, Check[]>();

/** `latest` or `v1.x` as a minor number. */
export function minorOf(version: string): Minor {
  const m = /^v1\.(0|[1-9][0-9]*)$/.exec(version);
  return m ? Number(m[1]) : Infinity;
}

/** Violations of a level at a version (`latest`, `v1.25`) by a pod's metadata and spec, in upstream's order. */
export function evaluate(level: Level, version: string, meta: any, spec: any): Violation[] {
  if (level === 'privileged' || !isObj(spec)) return [];
  const key = `${level}:${version}`;
  let list = cache.get(key);
  if (!list) cache.set(key, (list = checksFor(level, minorOf(version))));
  const out: Violation[] = [];
  for (const c of list) {
    const v = c(meta, spec);
    if (v) out.push(v);
  }
  return out;
}

export function describe(violations: Violation[]): string {
  return violations.map((v) => `${v.reason} (${v.detail})`).join(', ');
}
