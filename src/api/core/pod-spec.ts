// Pod spec defaulting and validation shared by Pods, PodTemplates and every workload's template
// (upstream pkg/apis/core/v1/defaults.go and ValidatePodSpec in pkg/apis/core/validation).

import { field, type FieldError } from '../../machinery/errors.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, validateAnnotations, validateLabels } from '../validation.ts';
import { quantityNumber, validateResourceMap, validateRequestsVsLimits } from './resources.ts';
import { validateAffinity, validateTolerations } from './scheduling.ts';
import { defaultVolumes, validateVolumes } from './volumes.ts';

const restartPolicies = ['Always', 'OnFailure', 'Never'];
const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const pullPolicies = ['Always', 'IfNotPresent', 'Never'];
const protocols = ['SCTP', 'TCP', 'UDP'];
const terminationMessagePolicies = ['File', 'FallbackToLogsOnError'];

// ---------------------------------------------------------------------------------------------
// Defaults

/** Upstream: `Always` for `:latest` or untagged images (digests count as tagged), else `IfNotPresent`. */
export function defaultPullPolicy(image: string | undefined): string {
  if (!image) return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const lastPart = image.slice(lastSlash + 1);
  const colon = lastPart.lastIndexOf(':');
  if (colon < 0) return 'Always';
  return lastPart.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultHandler(h: any): void {
  if (!h || typeof h !== 'object') return;
  if (h.httpGet && typeof h.httpGet === 'object') {
    h.httpGet.path ??= '/';
    h.httpGet.scheme ??= 'HTTP';
  }
  if (h.grpc && typeof h.grpc === 'object') h.grpc.service ??= '';
}

function defaultProbe(p: any): void {
  if (!p || typeof p !== 'object') return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  defaultHandler(p);
}

function defaultContainer(c: any): void {
  if (!c || typeof c !== 'object') return;
  c.imagePullPolicy ??= defaultPullPolicy(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  // Go serialises the non-pointer ResourceRequirements struct as `{}`.
  c.resources ??= {};
  if (Array.isArray(c.ports)) for (const p of c.ports) if (p && typeof p === 'object') p.protocol ??= 'TCP';
  if (Array.isArray(c.env))
    for (const e of c.env) {
      const fr = e?.valueFrom?.fieldRef;
      if (fr && typeof fr === 'object') fr.apiVersion ??= 'v1';
    }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (c.lifecycle && typeof c.lifecycle === 'object') {
    defaultHandler(c.lifecycle.postStart);
    defaultHandler(c.lifecycle.preStop);
  }
}

/** Upstream SetDefaults for a PodSpec and everything inside it (mutates spec). */
export function defaultPodSpec(spec: any): void {
  if (!spec || typeof spec !== 'object') return;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.restartPolicy ??= 'Always';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= 'default-scheduler';
  // The deprecated serviceAccount field mirrors serviceAccountName (v1 conversion).
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName && !spec.serviceAccount) spec.serviceAccount = spec.serviceAccountName;
  for (const list of [spec.initContainers, spec.containers, spec.ephemeralContainers])
    if (Array.isArray(list)) for (const c of list) defaultContainer(c);
  if (Array.isArray(spec.volumes)) defaultVolumes(spec.volumes);
}

/**
 * Defaults upstream applies to Pods only, not to pod templates (SetDefaults_Pod): requests
 * default to limits, enableServiceLinks, and host ports under hostNetwork.
 */
export function defaultPodOnlyFields(spec: any): void {
  if (!spec || typeof spec !== 'object') return;
  spec.enableServiceLinks ??= true;
  for (const list of [spec.initContainers, spec.containers]) {
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      const r = c?.resources;
      if (r && typeof r === 'object' && r.limits && typeof r.limits === 'object') {
        for (const [k, v] of Object.entries(r.limits)) {
          r.requests ??= {};
          if (r.requests[k] === undefined) r.requests[k] = v;
        }
      }
      if (spec.hostNetwork === true && Array.isArray(c?.ports))
        for (const p of c.ports) if (p && typeof p === 'object' && !p.hostPort) p.hostPort = p.containerPort;
    }
  }
}

/** Defaults for a pod template ({metadata, spec}). */
export function defaultPodTemplateSpec(template: any): void {
  if (!template || typeof template !== 'object') return;
  template.metadata ??= {};
  template.spec ??= {};
  defaultPodSpec(template.spec);
}

// ---------------------------------------------------------------------------------------------
// QoS

/** Upstream's QoS class: Guaranteed, Burstable or BestEffort. */
export function podQOSClass(pod: any): string {
  const spec = pod?.spec ?? {};
  // Sums per compute resource (cpu, memory) and whether any container set one; plain variables,
  // since every pod create asks.
  let reqCpu = 0, reqMem = 0, limCpu = 0, limMem = 0;
  let hasReqCpu = false, hasReqMem = false, hasLimCpu = false, hasLimMem = false;
  let guaranteed = true;
  for (const list of [spec.initContainers, spec.containers]) {
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      const req = c?.resources?.requests ?? {};
      const lim = c?.resources?.limits ?? {};
      let q = quantityNumber(req.cpu);
      if (q !== undefined && q !== 0) (reqCpu += q), (hasReqCpu = true);
      q = quantityNumber(req.memory);
      if (q !== undefined && q !== 0) (reqMem += q), (hasReqMem = true);
      let found = 0;
      q = quantityNumber(lim.cpu);
      if (q !== undefined && q !== 0) (limCpu += q), (hasLimCpu = true), found++;
      q = quantityNumber(lim.memory);
      if (q !== undefined && q !== 0) (limMem += q), (hasLimMem = true), found++;
      // Every container needs both cpu and memory limits to be Guaranteed.
      if (found !== 2) guaranteed = false;
    }
  }
  if (!hasReqCpu && !hasReqMem && !hasLimCpu && !hasLimMem) return 'BestEffort';
  if (guaranteed) {
    if (hasReqCpu && (!hasLimCpu || limCpu !== reqCpu)) guaranteed = false;
    if (hasReqMem && (!hasLimMem || limMem !== reqMem)) guaranteed = false;
    if (hasReqCpu !== hasLimCpu || hasReqMem !== hasLimMem) guaranteed = false;
  }
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

// ---------------------------------------------------------------------------------------------
// Validation

/** Upstream's IsValidPortName messages. */
export function isValidPortName(name: string): string[] {
  const out: string[] = [];
  if (name.length > 15) out.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) out.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  else if (!/[a-z]/.test(name)) out.push('must contain at least one letter (a-z)');
  if (name.includes('--')) out.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) out.push('must not begin or end with a hyphen');
  return out;
}

export function portRangeError(path: string, port: unknown): FieldError[] {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    return [field.invalid(path, port, 'must be between 1 and 65535, inclusive')];
  return [];
}

function validateEnvVarName(name: string): string[] {
  // Relaxed rule (GA upstream): any printable ASCII except '='.
  if (!/^[\x20-\x7e]+$/.test(name) || name.includes('='))
    return ["a valid environment variable name must consist only of printable ASCII characters other than '='"];
  return [];
}

function validateEnv(env: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (env === undefined || env === null) return errs;
  if (!Array.isArray(env)) return [field.invalid(path, env, 'must be a list')];
  env.forEach((e: any, i: number) => {
    const p = `${path}[${i}]`;
    if (!e || typeof e !== 'object') return errs.push(field.invalid(p, e, 'must be an object'));
    if (!e.name) errs.push(field.required(`${p}.name`));
    else for (const m of validateEnvVarName(e.name)) errs.push(field.invalid(`${p}.name`, e.name, m));
    if (e.valueFrom) {
      const vf = e.valueFrom;
      const sources = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef'].filter((k) => vf[k]);
      if (sources.length === 0) errs.push(field.invalid(`${p}.valueFrom`, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
      else if (sources.length > 1) errs.push(field.invalid(`${p}.valueFrom`, '', 'may not have more than one field specified at a time'));
      if (e.value) errs.push(field.invalid(`${p}.valueFrom`, '', 'may not be specified when `value` is not empty'));
      for (const k of ['configMapKeyRef', 'secretKeyRef'] as const) {
        const ref = vf[k];
        if (!ref) continue;
        if (!ref.key) errs.push(field.required(`${p}.valueFrom.${k}.key`));
        if (!ref.name) errs.push(field.required(`${p}.valueFrom.${k}.name`));
      }
      if (vf.fieldRef) {
        if (!vf.fieldRef.fieldPath) errs.push(field.required(`${p}.valueFrom.fieldRef.fieldPath`));
      }
      if (vf.resourceFieldRef && !vf.resourceFieldRef.resource) errs.push(field.required(`${p}.valueFrom.resourceFieldRef.resource`));
    }
  });
  return errs;
}

function validatePorts(ports: unknown, path: string, portNames: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  if (ports === undefined || ports === null) return errs;
  if (!Array.isArray(ports)) return [field.invalid(path, ports, 'must be a list')];
  ports.forEach((port: any, i: number) => {
    const p = `${path}[${i}]`;
    if (!port || typeof port !== 'object') return errs.push(field.invalid(p, port, 'must be an object'));
    if (port.name) {
      for (const m of isValidPortName(port.name)) errs.push(field.invalid(`${p}.name`, port.name, m));
      if (portNames.has(port.name)) errs.push(field.duplicate(`${p}.name`, port.name));
      else portNames.add(port.name);
    }
    if (!port.containerPort) errs.push(field.required(`${p}.containerPort`));
    else errs.push(...portRangeError(`${p}.containerPort`, port.containerPort));
    if (port.hostPort) errs.push(...portRangeError(`${p}.hostPort`, port.hostPort));
    if (!port.protocol) errs.push(field.required(`${p}.protocol`));
    else if (!protocols.includes(port.protocol)) errs.push(field.notSupported(`${p}.protocol`, port.protocol, protocols));
  });
  return errs;
}

function validateHandler(h: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const kinds = ['exec', 'httpGet', 'tcpSocket', 'grpc', 'sleep'].filter((k) => h[k]);
  if (kinds.length === 0) return [field.required(path, 'must specify a handler type')];
  if (kinds.length > 1) errs.push(field.forbidden(`${path}.${kinds[1]}`, 'may not specify more than 1 handler type'));
  if (h.exec && (!Array.isArray(h.exec.command) || h.exec.command.length === 0)) errs.push(field.required(`${path}.exec.command`));
  if (h.httpGet) {
    errs.push(...validatePortRef(h.httpGet.port, `${path}.httpGet.port`));
    if (h.httpGet.scheme && !['HTTP', 'HTTPS'].includes(h.httpGet.scheme))
      errs.push(field.notSupported(`${path}.httpGet.scheme`, h.httpGet.scheme, ['HTTP', 'HTTPS']));
  }
  if (h.tcpSocket) errs.push(...validatePortRef(h.tcpSocket.port, `${path}.tcpSocket.port`));
  if (h.grpc) errs.push(...portRangeError(`${path}.grpc.port`, h.grpc.port));
  return errs;
}

function validatePortRef(port: unknown, path: string): FieldError[] {
  if (port === undefined || port === null || port === '' || port === 0) return [field.required(path)];
  if (typeof port === 'number') return portRangeError(path, port);
  if (typeof port === 'string') {
    if (/^[0-9]+$/.test(port)) return portRangeError(path, Number(port));
    return isValidPortName(port).map((m) => field.invalid(path, port, m));
  }
  return [field.invalid(path, port, 'must be an integer or a string')];
}

function validateProbe(probe: any, path: string, isReadiness = false): FieldError[] {
  if (probe === undefined || probe === null) return [];
  const errs = validateHandler(probe, path);
  for (const k of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'])
    if (probe[k] !== undefined && (typeof probe[k] !== 'number' || probe[k] < 0)) errs.push(field.invalid(`${path}.${k}`, probe[k], 'must be greater than or equal to 0'));
  if (!isReadiness && probe.successThreshold !== undefined && probe.successThreshold !== 1)
    errs.push(field.invalid(`${path}.successThreshold`, probe.successThreshold, 'must be 1'));
  if (probe.terminationGracePeriodSeconds !== undefined && isReadiness)
    errs.push(field.invalid(`${path}.terminationGracePeriodSeconds`, probe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
  return errs;
}

function validateVolumeMounts(mounts: unknown, path: string, volumes: Map<string, any>): FieldError[] {
  const errs: FieldError[] = [];
  if (mounts === undefined || mounts === null) return errs;
  if (!Array.isArray(mounts)) return [field.invalid(path, mounts, 'must be a list')];
  const seen = new Set<string>();
  mounts.forEach((m: any, i: number) => {
    const p = `${path}[${i}]`;
    if (!m || typeof m !== 'object') return errs.push(field.invalid(p, m, 'must be an object'));
    if (!m.name) errs.push(field.required(`${p}.name`));
    else if (!volumes.has(m.name)) errs.push(notFound(`${p}.name`, m.name));
    if (!m.mountPath) errs.push(field.required(`${p}.mountPath`));
    else if (seen.has(m.mountPath)) errs.push(field.invalid(`${p}.mountPath`, m.mountPath, 'must be unique'));
    else seen.add(m.mountPath);
    if (m.subPath && (m.subPath.startsWith('/') || m.subPath.split('/').includes('..')))
      errs.push(field.invalid(`${p}.subPath`, m.subPath, m.subPath.startsWith('/') ? 'must be a relative path' : "must not contain '..'"));
    if (m.mountPropagation !== undefined && !['None', 'HostToContainer', 'Bidirectional'].includes(m.mountPropagation))
      errs.push(field.notSupported(`${p}.mountPropagation`, m.mountPropagation, ['Bidirectional', 'HostToContainer', 'None']));
  });
  return errs;
}

/**
 * `Not found` field error. The shared FieldError type has no NotFound member, so the type is
 * asserted here; the reason string is upstream's.
 */
export function notFound(path: string, value: unknown): FieldError {
  return { type: 'FieldValueNotFound' as FieldError['type'], field: path, detail: `Not found: ${JSON.stringify(value)}` };
}

type ContainerKind = 'container' | 'init' | 'ephemeral';

function validateContainer(c: any, path: string, kind: ContainerKind, volumes: Map<string, any>, portNames: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  if (!c || typeof c !== 'object') return [field.invalid(path, c, 'must be an object')];
  if (!c.name) errs.push(field.required(`${path}.name`));
  else for (const m of isDNS1123Label(c.name)) errs.push(field.invalid(`${path}.name`, c.name, m));
  if (!c.image) errs.push(field.required(`${path}.image`));
  else if (typeof c.image === 'string' && c.image.trim() !== c.image)
    errs.push(field.invalid(`${path}.image`, c.image, 'must not have leading or trailing whitespace'));
  if (c.imagePullPolicy === undefined || c.imagePullPolicy === '') errs.push(field.required(`${path}.imagePullPolicy`));
  else if (!pullPolicies.includes(c.imagePullPolicy)) errs.push(field.notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, pullPolicies));
  if (c.terminationMessagePolicy !== undefined && !terminationMessagePolicies.includes(c.terminationMessagePolicy))
    errs.push(field.notSupported(`${path}.terminationMessagePolicy`, c.terminationMessagePolicy, terminationMessagePolicies));
  if (kind === 'ephemeral' && c.ports?.length) errs.push(field.forbidden(`${path}.ports`, 'cannot be set for an Ephemeral Container'));
  else errs.push(...validatePorts(c.ports, `${path}.ports`, portNames));
  errs.push(...validateEnv(c.env, `${path}.env`));
  if (Array.isArray(c.envFrom))
    c.envFrom.forEach((ef: any, i: number) => {
      const p = `${path}.envFrom[${i}]`;
      const n = (ef?.configMapRef ? 1 : 0) + (ef?.secretRef ? 1 : 0);
      if (n === 0) errs.push(field.invalid(p, '', 'must specify one of: `configMapRef` or `secretRef`'));
      else if (n > 1) errs.push(field.invalid(p, '', 'may not have more than one field specified at a time'));
      if (ef?.configMapRef && !ef.configMapRef.name) errs.push(field.required(`${p}.configMapRef.name`));
      if (ef?.secretRef && !ef.secretRef.name) errs.push(field.required(`${p}.secretRef.name`));
    });
  errs.push(...validateVolumeMounts(c.volumeMounts, `${path}.volumeMounts`, volumes));
  if (c.resources && typeof c.resources === 'object') {
    errs.push(...validateResourceMap(c.resources.limits, `${path}.resources.limits`, true));
    errs.push(...validateResourceMap(c.resources.requests, `${path}.resources.requests`, true));
    errs.push(...validateRequestsVsLimits(c.resources, `${path}.resources`));
  }
  const sidecar = kind === 'init' && c.restartPolicy === 'Always';
  if (kind === 'init') {
    if (c.restartPolicy !== undefined && c.restartPolicy !== 'Always')
      errs.push(field.notSupported(`${path}.restartPolicy`, c.restartPolicy, ['Always']));
    if (!sidecar) {
      if (c.livenessProbe) errs.push(field.forbidden(`${path}.livenessProbe`, 'may not be set for init containers without restartPolicy=Always'));
      if (c.readinessProbe) errs.push(field.forbidden(`${path}.readinessProbe`, 'may not be set for init containers without restartPolicy=Always'));
      if (c.startupProbe) errs.push(field.forbidden(`${path}.startupProbe`, 'may not be set for init containers without restartPolicy=Always'));
      if (c.lifecycle) errs.push(field.forbidden(`${path}.lifecycle`, 'may not be set for init containers without restartPolicy=Always'));
    }
  } else if (kind === 'container') {
    if (c.restartPolicy !== undefined) errs.push(field.forbidden(`${path}.restartPolicy`, 'may not be set for non-init containers'));
  }
  if (kind === 'ephemeral') {
    for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'])
      if (c[k]) errs.push(field.forbidden(`${path}.${k}`, 'cannot be set for an Ephemeral Container'));
  } else if (kind === 'container' || sidecar) {
    errs.push(...validateProbe(c.livenessProbe, `${path}.livenessProbe`));
    errs.push(...validateProbe(c.readinessProbe, `${path}.readinessProbe`, true));
    errs.push(...validateProbe(c.startupProbe, `${path}.startupProbe`));
    if (c.lifecycle) {
      if (c.lifecycle.postStart) errs.push(...validateHandler(c.lifecycle.postStart, `${path}.lifecycle.postStart`));
      if (c.lifecycle.preStop) errs.push(...validateHandler(c.lifecycle.preStop, `${path}.lifecycle.preStop`));
    }
  }
  return errs;
}

function validateContainerList(list: unknown, path: string, kind: ContainerKind, volumes: Map<string, any>, names: Set<string>, portNames: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  if (list === undefined || list === null) return errs;
  if (!Array.isArray(list)) return [field.invalid(path, list, 'must be a list')];
  list.forEach((c: any, i: number) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainer(c, p, kind, volumes, portNames));
    if (c?.name) {
      if (names.has(c.name)) errs.push(field.duplicate(`${p}.name`, c.name));
      else names.add(c.name);
    }
  });
  return errs;
}

function validateDNSConfig(spec: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const cfg = spec.dnsConfig;
  if (spec.dnsPolicy === 'None' && !cfg) errs.push(field.required(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  if (!cfg) return errs;
  if (spec.dnsPolicy === 'None' && !(cfg.nameservers?.length > 0))
    errs.push(field.required(`${path}.dnsConfig.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
  if (Array.isArray(cfg.nameservers)) {
    if (cfg.nameservers.length > 3) errs.push(field.invalid(`${path}.dnsConfig.nameservers`, cfg.nameservers, 'must not have more than 3 nameservers'));
    cfg.nameservers.forEach((ns: any, i: number) => {
      if (typeof ns !== 'string' || !isIP(ns)) errs.push(field.invalid(`${path}.dnsConfig.nameservers[${i}]`, ns, 'must be a valid IP address'));
    });
  }
  if (Array.isArray(cfg.searches)) {
    if (cfg.searches.length > 32) errs.push(field.invalid(`${path}.dnsConfig.searches`, cfg.searches, 'must not have more than 32 search paths'));
    cfg.searches.forEach((s: any, i: number) => {
      const v = typeof s === 'string' && s !== '.' ? s.replace(/\.$/, '') : s;
      if (s === '.') return;
      for (const m of isDNS1123Subdomain(String(v))) errs.push(field.invalid(`${path}.dnsConfig.searches[${i}]`, s, m));
    });
  }
  if (Array.isArray(cfg.options))
    cfg.options.forEach((o: any, i: number) => {
      if (!o?.name) errs.push(field.required(`${path}.dnsConfig.options[${i}]`, 'Option.Name must not be empty'));
    });
  return errs;
}

function isIP(s: string): boolean {
  if (/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s)) return true;
  return s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s);
}

/** Upstream ValidatePodSpec. `path` is where the spec sits, e.g. 'spec' or 'spec.template.spec'. */
export function validatePodSpec(spec: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec || typeof spec !== 'object') return [field.required(path)];
  const { errs: volErrs, volumes } = validateVolumes(spec.volumes, `${path}.volumes`);
  errs.push(...volErrs);
  const names = new Set<string>();
  const portNames = new Set<string>();
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) errs.push(field.required(`${path}.containers`));
  else errs.push(...validateContainerList(spec.containers, `${path}.containers`, 'container', volumes, names, portNames));
  // Init container names share the namespace of regular container names.
  errs.push(...validateContainerList(spec.initContainers, `${path}.initContainers`, 'init', volumes, names, new Set()));
  errs.push(...validateContainerList(spec.ephemeralContainers, `${path}.ephemeralContainers`, 'ephemeral', volumes, names, new Set()));

  if (!spec.restartPolicy) errs.push(field.required(`${path}.restartPolicy`));
  else if (!restartPolicies.includes(spec.restartPolicy)) errs.push(field.notSupported(`${path}.restartPolicy`, spec.restartPolicy, restartPolicies));
  if (!spec.dnsPolicy) errs.push(field.required(`${path}.dnsPolicy`));
  else if (!dnsPolicies.includes(spec.dnsPolicy)) errs.push(field.notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, dnsPolicies));
  errs.push(...validateDNSConfig(spec, path));

  errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  if (spec.serviceAccountName) for (const m of isDNS1123Subdomain(spec.serviceAccountName)) errs.push(field.invalid(`${path}.serviceAccountName`, spec.serviceAccountName, m));
  if (spec.nodeName) for (const m of isDNS1123Subdomain(spec.nodeName)) errs.push(field.invalid(`${path}.nodeName`, spec.nodeName, m));
  if (spec.hostname) for (const m of isDNS1123Label(spec.hostname)) errs.push(field.invalid(`${path}.hostname`, spec.hostname, m));
  if (spec.subdomain) for (const m of isDNS1123Label(spec.subdomain)) errs.push(field.invalid(`${path}.subdomain`, spec.subdomain, m));
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
    const v = spec.activeDeadlineSeconds;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 2147483647)
      errs.push(field.invalid(`${path}.activeDeadlineSeconds`, v, 'must be between 1 and 2147483647, inclusive'));
  }
  if (spec.terminationGracePeriodSeconds !== undefined && spec.terminationGracePeriodSeconds !== null && typeof spec.terminationGracePeriodSeconds !== 'number')
    errs.push(field.invalid(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, 'must be an integer'));
  if (spec.priorityClassName) for (const m of isDNS1123Subdomain(spec.priorityClassName)) errs.push(field.invalid(`${path}.priorityClassName`, spec.priorityClassName, m));
  if (spec.preemptionPolicy !== undefined && !['PreemptLowerPriority', 'Never'].includes(spec.preemptionPolicy))
    errs.push(field.notSupported(`${path}.preemptionPolicy`, spec.preemptionPolicy, ['Never', 'PreemptLowerPriority']));
  if (spec.hostNetwork) {
    for (const [listName, list] of [['containers', spec.containers], ['initContainers', spec.initContainers]] as const)
      if (Array.isArray(list))
        list.forEach((c: any, i: number) =>
          (c?.ports ?? []).forEach((p: any, j: number) => {
            if (p?.hostPort && p.hostPort !== p.containerPort)
              errs.push(field.invalid(`${path}.${listName}[${i}].ports[${j}].containerPort`, p.containerPort, 'must match `hostPort` when `hostNetwork` is true'));
          }),
        );
  }
  errs.push(...validateTolerations(spec.tolerations, `${path}.tolerations`));
  errs.push(...validateAffinity(spec.affinity, `${path}.affinity`));
  if (Array.isArray(spec.imagePullSecrets))
    spec.imagePullSecrets.forEach((s: any, i: number) => {
      if (!s?.name) errs.push(field.required(`${path}.imagePullSecrets[${i}].name`));
    });
  if (Array.isArray(spec.hostAliases))
    spec.hostAliases.forEach((h: any, i: number) => {
      if (!h?.ip || !isIP(h.ip)) errs.push(field.invalid(`${path}.hostAliases[${i}].ip`, h?.ip ?? '', 'must be a valid IP address'));
      (h?.hostnames ?? []).forEach((n: any, j: number) => {
        for (const m of isDNS1123Subdomain(String(n))) errs.push(field.invalid(`${path}.hostAliases[${i}].hostnames[${j}]`, n, m));
      });
    });
  if (Array.isArray(spec.schedulingGates)) {
    const seen = new Set<string>();
    spec.schedulingGates.forEach((g: any, i: number) => {
      const p = `${path}.schedulingGates[${i}].name`;
      if (!g?.name) return errs.push(field.required(p));
      for (const m of isQualifiedName(g.name)) errs.push(field.invalid(p, g.name, m));
      if (seen.has(g.name)) errs.push(field.duplicate(p, g.name));
      seen.add(g.name);
    });
    if (spec.schedulingGates.length > 0 && spec.nodeName)
      errs.push(field.forbidden(`${path}.nodeName`, 'cannot be set until all schedulingGates have been cleared'));
  }
  return errs;
}

/** Upstream ValidatePodTemplateSpec: template metadata labels/annotations plus the pod spec. */
export function validatePodTemplateSpec(template: any, path: string): FieldError[] {
  if (!template || typeof template !== 'object') return [field.required(path)];
  const errs: FieldError[] = [];
  const meta = template.metadata ?? {};
  errs.push(...validateLabels(meta.labels, `${path}.metadata.labels`));
  errs.push(...validateAnnotations(meta.annotations, `${path}.metadata.annotations`));
  errs.push(...validatePodSpec(template.spec, `${path}.spec`));
  // Template pods may not carry ephemeral containers.
  if (Array.isArray(template.spec?.ephemeralContainers) && template.spec.ephemeralContainers.length > 0)
    errs.push(field.forbidden(`${path}.spec.ephemeralContainers`, 'ephemeral containers not allowed in pod template'));
  return errs;
}
