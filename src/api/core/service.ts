// Services: defaults, cluster IP / node port allocation, validation and the table.

import { errors, field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef, StrategyContext } from '../types.ts';
import { deepEqual, isDNS1123Label, isDNS1123Subdomain, validateLabels } from '../validation.ts';
import { age, ageColumn, clone, col, formatLabels, isIP, nameColumn, stricterNameErrors } from './common.ts';
import { isValidPortName, portRangeError } from './pod-spec.ts';
import { AllocationError } from './service-allocator.ts';

const serviceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const protocols = ['SCTP', 'TCP', 'UDP'];

const needsClusterIP = (s: any) => (s?.type ?? 'ClusterIP') !== 'ExternalName';
const needsNodePorts = (s: any) => s?.type === 'NodePort' || (s?.type === 'LoadBalancer' && s?.allocateLoadBalancerNodePorts !== false);
const isHeadless = (s: any) => s?.clusterIP === 'None' || (Array.isArray(s?.clusterIPs) && s.clusterIPs[0] === 'None');

/** Upstream SetDefaults_Service. */
export function defaultService(svc: KObject): void {
  const spec = (svc.spec ??= {});
  spec.sessionAffinity ??= 'None';
  spec.type ??= 'ClusterIP';
  if (Array.isArray(spec.ports))
    for (const p of spec.ports) {
      if (!p || typeof p !== 'object') continue;
      p.protocol ??= 'TCP';
      if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
    }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  if (spec.sessionAffinity === 'ClientIP') {
    spec.sessionAffinityConfig ??= {};
    spec.sessionAffinityConfig.clientIP ??= {};
    spec.sessionAffinityConfig.clientIP.timeoutSeconds ??= 10800;
  }
  // clusterIP and clusterIPs[0] mirror each other (upstream normalises them in the registry).
  if (spec.clusterIP && !Array.isArray(spec.clusterIPs)) spec.clusterIPs = [spec.clusterIP];
  else if (!spec.clusterIP && Array.isArray(spec.clusterIPs) && spec.clusterIPs.length) spec.clusterIP = spec.clusterIPs[0];
}

function validateTargetPort(tp: unknown, path: string): FieldError[] {
  if (typeof tp === 'number') return portRangeError(path, tp);
  if (typeof tp === 'string') {
    if (/^[0-9]+$/.test(tp)) return portRangeError(path, Number(tp));
    return isValidPortName(tp).map((m) => field.invalid(path, tp, m));
  }
  return [];
}

/** Upstream ValidateService (the rules that matter), minus metadata. */
export function validateService(svc: KObject): FieldError[] {
  const errs: FieldError[] = stricterNameErrors(svc.metadata?.name, 'dns1035');
  const spec = svc.spec ?? {};
  const type = spec.type;
  if (!serviceTypes.includes(type)) errs.push(type ? field.notSupported('spec.type', type, serviceTypes) : field.required('spec.type'));
  const ports: any[] = Array.isArray(spec.ports) ? spec.ports : [];
  const headless = isHeadless(spec);
  if (type === 'ExternalName') {
    if (spec.clusterIP) errs.push(field.forbidden('spec.clusterIP', 'may not be set for ExternalName services'));
    if (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length) errs.push(field.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if (spec.ipFamilies?.length) errs.push(field.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy) errs.push(field.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
    const name = typeof spec.externalName === 'string' ? spec.externalName.replace(/\.$/, '') : '';
    if (!spec.externalName) errs.push(field.required('spec.externalName'));
    else for (const m of isDNS1123Subdomain(name)) errs.push(field.invalid('spec.externalName', spec.externalName, m));
  } else if (ports.length === 0 && !headless) {
    errs.push(field.required('spec.ports'));
  }
  if (type === 'ClusterIP' || type === 'ExternalName' || !type)
    ports.forEach((p, i) => {
      if (p?.nodePort) errs.push(field.forbidden(`spec.ports[${i}].nodePort`, `may not be used when \`type\` is '${type || 'ClusterIP'}'`));
    });
  const names = new Set<string>();
  const keys = new Set<string>();
  const nodePorts = new Set<string>();
  ports.forEach((p: any, i: number) => {
    const pp = `spec.ports[${i}]`;
    if (!p || typeof p !== 'object') return errs.push(field.invalid(pp, p, 'must be an object'));
    if (ports.length > 1 && !p.name) errs.push(field.required(`${pp}.name`));
    if (p.name) {
      for (const m of isDNS1123Label(p.name)) errs.push(field.invalid(`${pp}.name`, p.name, m));
      if (names.has(p.name)) errs.push(field.duplicate(`${pp}.name`, p.name));
      names.add(p.name);
    }
    errs.push(...portRangeError(`${pp}.port`, p.port));
    if (!p.protocol) errs.push(field.required(`${pp}.protocol`));
    else if (!protocols.includes(p.protocol)) errs.push(field.notSupported(`${pp}.protocol`, p.protocol, protocols));
    errs.push(...validateTargetPort(p.targetPort, `${pp}.targetPort`));
    if (p.nodePort !== undefined && p.nodePort !== 0) errs.push(...portRangeError(`${pp}.nodePort`, p.nodePort));
    const key = `${p.port}/${p.protocol}`;
    if (keys.has(key)) errs.push(field.duplicate(pp, { port: p.port, protocol: p.protocol }));
    keys.add(key);
    if (p.nodePort) {
      const nk = `${p.nodePort}/${p.protocol}`;
      if (nodePorts.has(nk)) errs.push(field.duplicate(`${pp}.nodePort`, p.nodePort));
      nodePorts.add(nk);
    }
    if (p.appProtocol !== undefined) {
      const bare = String(p.appProtocol).includes('/') ? String(p.appProtocol).split('/')[1] : String(p.appProtocol);
      if (!bare) errs.push(field.invalid(`${pp}.appProtocol`, p.appProtocol, 'name part must be non-empty'));
    }
  });
  if (spec.selector !== undefined) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  if (!['None', 'ClientIP'].includes(spec.sessionAffinity)) {
    errs.push(spec.sessionAffinity ? field.notSupported('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']) : field.required('spec.sessionAffinity'));
  }
  if (spec.sessionAffinity === 'ClientIP') {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (typeof t !== 'number' || t <= 0 || t > 86400)
      errs.push(field.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t ?? 0, 'must be greater than 0 and less than 86400'));
  }
  const ips: unknown[] = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') return;
    if (ip === 'None') errs.push(field.invalid(`spec.clusterIPs[${i}]`, ip, "'None' must be the first and only value"));
    else if (!isIP(ip)) errs.push(field.invalid(`spec.clusterIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  });
  if (spec.clusterIP && ips.length && spec.clusterIP !== ips[0]) errs.push(field.invalid('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  if (ips.length > 1 && ips[0] === 'None') errs.push(field.invalid('spec.clusterIPs', ips, "'None' must be the first and only value"));
  if (headless && (type === 'NodePort' || type === 'LoadBalancer'))
    errs.push(field.invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`));
  if (Array.isArray(spec.externalIPs))
    spec.externalIPs.forEach((ip: unknown, i: number) => {
      if (!isIP(ip)) errs.push(field.invalid(`spec.externalIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    });
  if (spec.externalTrafficPolicy !== undefined && spec.externalTrafficPolicy !== '') {
    if (type !== 'NodePort' && type !== 'LoadBalancer') {
      if (type !== 'ExternalName' || spec.externalTrafficPolicy)
        errs.push(field.invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
    } else if (!['Cluster', 'Local'].includes(spec.externalTrafficPolicy))
      errs.push(field.notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, ['Cluster', 'Local']));
  } else if (type === 'NodePort' || type === 'LoadBalancer') errs.push(field.required('spec.externalTrafficPolicy'));
  if (spec.internalTrafficPolicy !== undefined && !['Cluster', 'Local'].includes(spec.internalTrafficPolicy))
    errs.push(field.notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, ['Cluster', 'Local']));
  if (spec.healthCheckNodePort && !(type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local'))
    errs.push(field.invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, 'may only be set when `type` is \'LoadBalancer\' and `externalTrafficPolicy` is \'Local\''));
  if (spec.ipFamilyPolicy !== undefined && !['SingleStack', 'PreferDualStack', 'RequireDualStack'].includes(spec.ipFamilyPolicy))
    errs.push(field.notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, ['PreferDualStack', 'RequireDualStack', 'SingleStack']));
  if (Array.isArray(spec.ipFamilies))
    spec.ipFamilies.forEach((f: unknown, i: number) => {
      if (f !== 'IPv4' && f !== 'IPv6') errs.push(field.notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
    });
  return errs;
}

/** Upstream ValidateServiceUpdate: clusterIP may not change (except to/from ExternalName). */
export function validateServiceUpdate(svc: KObject, old: KObject): FieldError[] {
  const errs = validateService(svc);
  const spec = svc.spec ?? {};
  const oldSpec = old.spec ?? {};
  if (needsClusterIP(spec) && needsClusterIP(oldSpec)) {
    const next: string[] = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
    const prev: string[] = Array.isArray(oldSpec.clusterIPs) ? oldSpec.clusterIPs : [];
    if (prev.length && (next[0] ?? '') !== prev[0]) errs.push(field.invalid('spec.clusterIPs[0]', next, 'may not change once set'));
    else if (spec.clusterIP !== undefined && (spec.clusterIP ?? '') !== (oldSpec.clusterIP ?? '') && oldSpec.clusterIP)
      errs.push(field.invalid('spec.clusterIP', spec.clusterIP, 'field is immutable'));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Allocation

type Allocators = NonNullable<StrategyContext['allocators']>;

function rethrow(e: unknown, svc: KObject, path: string): never {
  if (e instanceof AllocationError && e.code === 422)
    throw errors.invalid('Service', '', svc.metadata?.name ?? '', [{ ...e.fieldError, field: path }]);
  throw e;
}

/** One value allocate() took: where it went, and whether the client asked for exactly it. */
interface Allocated {
  kind: 'ip' | 'port';
  value: string | number;
  requested: boolean;
  path: string;
  /** Put another value in its place (after losing it to another API server). */
  replace(v: string | number): void;
}

/** Allocates what a new Service needs; rolls back on failure so nothing leaks. Returns what it took. */
function allocate(svc: KObject, alloc: Allocators, keepPorts: Set<number> = new Set(), keepIP = false): Allocated[] {
  const spec = svc.spec;
  const taken: { ips: string[]; ports: number[] } = { ips: [], ports: [] };
  const out: Allocated[] = [];
  try {
    if (needsClusterIP(spec) && !isHeadless(spec) && !keepIP) {
      const requested = (Array.isArray(spec.clusterIPs) && spec.clusterIPs[0]) || spec.clusterIP || undefined;
      let ip: string;
      try {
        ip = alloc.allocateClusterIP(requested);
      } catch (e) {
        rethrow(e, svc, 'spec.clusterIPs');
      }
      taken.ips.push(ip);
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
      out.push({
        kind: 'ip',
        value: ip,
        requested: !!requested,
        path: 'spec.clusterIPs',
        replace: (v) => {
          spec.clusterIP = v;
          spec.clusterIPs = [v];
        },
      });
    }
    if (needsClusterIP(spec)) {
      spec.ipFamilyPolicy ??= 'SingleStack';
      if (!Array.isArray(spec.ipFamilies) || spec.ipFamilies.length === 0) spec.ipFamilies = ['IPv4'];
      if (isHeadless(spec)) {
        spec.clusterIP = 'None';
        spec.clusterIPs = ['None'];
      }
    }
    const ports: any[] = Array.isArray(spec.ports) ? spec.ports : [];
    // A port number may serve several protocols of one Service (e.g. 53/TCP and 53/UDP).
    const assigned = new Map<number, number>();
    ports.forEach((p, i) => {
      const wantsPort = needsNodePorts(spec) || (spec.type === 'LoadBalancer' && p.nodePort);
      if (!wantsPort) return;
      if (p.nodePort && (keepPorts.has(p.nodePort) || assigned.has(p.nodePort))) return;
      try {
        const requested = !!p.nodePort;
        const n = alloc.allocateNodePort(p.nodePort || undefined);
        taken.ports.push(n);
        assigned.set(n, i);
        p.nodePort = n;
        out.push({ kind: 'port', value: n, requested, path: `spec.ports[${i}].nodePort`, replace: (v) => (p.nodePort = v) });
      } catch (e) {
        rethrow(e, svc, `spec.ports[${i}].nodePort`);
      }
    });
    if (spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' && !keepPorts.has(spec.healthCheckNodePort)) {
      try {
        const requested = !!spec.healthCheckNodePort;
        spec.healthCheckNodePort = alloc.allocateNodePort(spec.healthCheckNodePort || undefined);
        taken.ports.push(spec.healthCheckNodePort);
        out.push({ kind: 'port', value: spec.healthCheckNodePort, requested, path: 'spec.healthCheckNodePort', replace: (v) => (spec.healthCheckNodePort = v) });
      } catch (e) {
        rethrow(e, svc, 'spec.healthCheckNodePort');
      }
    }
  } catch (e) {
    for (const ip of taken.ips) alloc.releaseClusterIP(ip);
    for (const p of taken.ports) alloc.releaseNodePort(p);
    throw e;
  }
  return out;
}

/**
 * On storage shared by several API servers: claim in storage what allocate() took from this
 * server's view. A value another server took a moment ago (not yet in our view) is replaced by
 * a fresh one when we chose it, and is an error when the client asked for exactly it, as it
 * would have been had our view been current. On failure nothing stays claimed.
 */
async function claimAll(svc: KObject, taken: Allocated[], alloc: Allocators): Promise<void> {
  const owner = `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? svc.metadata?.generateName ?? ''}`;
  const held: Allocated[] = [];
  const release = (t: Allocated) => (t.kind === 'ip' ? alloc.releaseClusterIP(String(t.value)) : alloc.releaseNodePort(Number(t.value)));
  let i = 0;
  try {
    for (; i < taken.length; i++) {
      const t = taken[i];
      for (let tries = 0; ; tries++) {
        if (await alloc.claim!(t.kind, t.value, owner)) {
          held.push(t);
          break;
        }
        // Lost to another server. Its Service marks the value in our view when our cache sees it;
        // meanwhile (and if it never comes) we do not hold it.
        release(t);
        if (t.requested)
          throw errors.invalid('Service', '', svc.metadata?.name ?? '', [field.invalid(t.path, t.value, t.kind === 'ip' ? `failed to allocate IP ${t.value}: provided IP is already allocated` : 'provided port is already allocated')]);
        if (tries >= 16) throw errors.internal(`failed to allocate a ${t.kind === 'port' ? 'nodePort' : 'serviceIP'}: allocations keep colliding with other API servers`);
        // Dynamic allocation moves on from where it was, so this picks another value.
        const next = t.kind === 'ip' ? alloc.allocateClusterIP() : alloc.allocateNodePort();
        t.value = next;
        t.replace(next);
      }
    }
  } catch (e) {
    for (const t of held) {
      alloc.unclaim?.(t.kind, t.value);
      release(t);
    }
    // Values not yet claimed were only ours in memory.
    for (const t of taken.slice(i)) release(t);
    throw e;
  }
}

function allocatedPorts(spec: any): Set<number> {
  const out = new Set<number>();
  for (const p of spec?.ports ?? []) if (p?.nodePort) out.add(p.nodePort);
  if (spec?.healthCheckNodePort) out.add(spec.healthCheckNodePort);
  return out;
}

function allocatedIPs(spec: any): string[] {
  const ips: string[] = Array.isArray(spec?.clusterIPs) ? spec.clusterIPs : spec?.clusterIP ? [spec.clusterIP] : [];
  return ips.filter((ip) => ip && ip !== 'None');
}

/** Carry over values the server allocated when the client's update omits them (upstream patchAllocatedValues). */
function patchAllocatedValues(spec: any, oldSpec: any): void {
  if (needsClusterIP(spec) && needsClusterIP(oldSpec)) {
    if (!spec.clusterIP && !(Array.isArray(spec.clusterIPs) && spec.clusterIPs.length)) {
      spec.clusterIP = oldSpec.clusterIP;
      spec.clusterIPs = clone(oldSpec.clusterIPs);
    }
    if (!spec.ipFamilies && oldSpec.ipFamilies) spec.ipFamilies = clone(oldSpec.ipFamilies);
    if (!spec.ipFamilyPolicy && oldSpec.ipFamilyPolicy) spec.ipFamilyPolicy = oldSpec.ipFamilyPolicy;
  }
  if (needsNodePorts(spec) && needsNodePorts(oldSpec)) {
    for (const p of spec.ports ?? []) {
      if (!p || p.nodePort) continue;
      const match = (oldSpec.ports ?? []).find((o: any) => o?.port === p.port && o?.protocol === p.protocol && o?.nodePort);
      if (match) p.nodePort = match.nodePort;
    }
  }
  if (spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' && !spec.healthCheckNodePort && oldSpec.healthCheckNodePort)
    spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
}

/**
 * When the type changes, values that only made sense for the old type are cleared if the client
 * left them as they were (upstream dropTypeDependentFields), so `kubectl edit` of the type alone works.
 */
function dropTypeDependentFields(spec: any, oldSpec: any): void {
  if (needsClusterIP(oldSpec) && !needsClusterIP(spec)) {
    if (deepEqual(spec.clusterIPs, oldSpec.clusterIPs) || spec.clusterIP === oldSpec.clusterIP) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (deepEqual(spec.ipFamilies, oldSpec.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === oldSpec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
    if (spec.internalTrafficPolicy === oldSpec.internalTrafficPolicy) delete spec.internalTrafficPolicy;
  }
  const oldHad = oldSpec.type === 'NodePort' || oldSpec.type === 'LoadBalancer';
  const newHas = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  if (oldHad && !newHas) {
    const same = (spec.ports ?? []).every((p: any) => !p?.nodePort || (oldSpec.ports ?? []).some((o: any) => o?.nodePort === p.nodePort));
    if (same) for (const p of spec.ports ?? []) if (p) delete p.nodePort;
  }
  if (!(spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local') && spec.healthCheckNodePort === oldSpec.healthCheckNodePort)
    delete spec.healthCheckNodePort;
  if (!newHas && spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) delete spec.externalTrafficPolicy;
  if (spec.type !== 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
}

function serviceRow(svc: KObject, now: number): unknown[] {
  const spec = svc.spec ?? {};
  const type = spec.type ?? '';
  const clusterIP = spec.clusterIP || '<none>';
  const externalIPs: string[] = Array.isArray(spec.externalIPs) ? spec.externalIPs : [];
  let external: string;
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      external = externalIPs.length ? externalIPs.join(',') : '<none>';
      break;
    case 'LoadBalancer': {
      const lb = (svc.status?.loadBalancer?.ingress ?? []).map((i: any) => i?.ip || i?.hostname).filter(Boolean);
      const all = [...externalIPs, ...lb];
      external = all.length ? all.join(',') : '<pending>';
      break;
    }
    case 'ExternalName':
      external = spec.externalName ?? '';
      break;
    default:
      external = '<unknown>';
  }
  const ports = (spec.ports ?? [])
    .map((p: any) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`))
    .join(',');
  return [svc.metadata.name, type, clusterIP, external, ports || '<none>', age(svc, now), formatLabels(spec.selector)];
}

export const services: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  model: 'V1Service',
  strategy: {
    defaults: defaultService,
    prepareForCreate(obj, ctx) {
      obj.status = { loadBalancer: {} };
      // Allocate only for objects that will pass validation, so a rejected create holds nothing.
      if (validateService(obj).length > 0 || !ctx.allocators) return;
      const taken = allocate(obj, ctx.allocators);
      if (ctx.allocators.claim && taken.length) return claimAll(obj, taken, ctx.allocators);
    },
    prepareForUpdate(obj, old, ctx) {
      obj.status = clone(old.status);
      const spec = (obj.spec ??= {});
      const oldSpec = old.spec ?? {};
      patchAllocatedValues(spec, oldSpec);
      dropTypeDependentFields(spec, oldSpec);
      if (validateServiceUpdate(obj, old).length > 0 || !ctx.allocators) return;
      const alloc = ctx.allocators;
      const oldPorts = allocatedPorts(oldSpec);
      const oldIPs = allocatedIPs(oldSpec);
      const keepIP = needsClusterIP(spec) && needsClusterIP(oldSpec) && oldIPs.length > 0;
      const taken = allocate(obj, alloc, oldPorts, keepIP);
      // Release whatever the old object held that the new one no longer uses (in this server's
      // view; a claim in shared storage is left to the repair loop, since the update may still fail).
      const newPorts = allocatedPorts(spec);
      for (const p of oldPorts) if (!newPorts.has(p)) alloc.releaseNodePort(p);
      if (!keepIP) for (const ip of oldIPs) if (!allocatedIPs(spec).includes(ip)) alloc.releaseClusterIP(ip);
      if (alloc.claim && taken.length) return claimAll(obj, taken, alloc);
    },
    validate: validateService,
    validateUpdate: validateServiceUpdate,
    afterDelete(obj, ctx) {
      const alloc = ctx.allocators;
      if (!alloc) return;
      for (const ip of allocatedIPs(obj.spec)) {
        alloc.releaseClusterIP(ip);
        alloc.unclaim?.('ip', ip);
      }
      for (const p of allocatedPorts(obj.spec)) {
        alloc.releaseNodePort(p);
        alloc.unclaim?.('port', p);
      }
    },
  },
  status: {
    validateUpdate(obj) {
      const errs: FieldError[] = [];
      (obj.status?.loadBalancer?.ingress ?? []).forEach((ing: any, i: number) => {
        if (ing?.ip && !isIP(ing.ip)) errs.push(field.invalid(`status.loadBalancer.ingress[${i}].ip`, ing.ip, 'must be a valid IP address'));
        if (ing?.hostname) for (const m of isDNS1123Subdomain(ing.hostname)) errs.push(field.invalid(`status.loadBalancer.ingress[${i}].hostname`, ing.hostname, m));
      });
      return errs;
    },
  },
  table: {
    columns: [
      nameColumn,
      col('Type', 'string', 0, 'type determines how the Service is exposed.'),
      col('Cluster-IP', 'string', 0, 'clusterIP is the IP address of the service and is usually assigned randomly.'),
      col('External-IP', 'string', 0, 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
      col('Port(s)', 'string', 0, 'The list of ports that are exposed by this service.'),
      ageColumn,
      col('Selector', 'string', 1, 'Route service traffic to pods with label keys and values matching this selector.'),
    ],
    row: serviceRow,
  },
};
