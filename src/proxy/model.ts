// What the proxy programs, taken out of Services and EndpointSlices: one ServicePortInfo per
// (Service, port) and its endpoints. Everything the kernel rules cannot express is collected as
// a problem (reported as an Event on the Service) instead of being thrown.

import type { KObject } from '../api/types.ts';
import { parseIPv4 } from '../machinery/ipv4.ts';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePortInfo {
  /** `namespace/name:portName` (portName may be empty), upstream's ServicePortName. */
  key: string;
  namespace: string;
  name: string;
  portName: string;
  protocol: Protocol;
  /** IPv4 cluster IP ('' for a headless Service, which gets no rules). */
  clusterIP: string;
  port: number;
  nodePort: number;
  /** spec.externalIPs and status.loadBalancer.ingress[].ip (IPv4 only). */
  externalIPs: string[];
  /** ClientIP affinity timeout in seconds, 0 without affinity. */
  affinitySeconds: number;
  externalLocal: boolean;
  internalLocal: boolean;
  publishNotReady: boolean;
}

export interface EndpointInfo {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** On this node (EndpointSlice endpoint.nodeName). */
  local: boolean;
}

export interface ServiceModel {
  ports: ServicePortInfo[];
  /** Why parts of the Service are not programmed (one Event each). */
  problems: string[];
}

const PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);

export function isIPv4(s: unknown): s is string {
  return typeof s === 'string' && parseIPv4(s) !== undefined;
}

/** Protocols the kernel here can match (found by a probe at start; all three by default). */
export function serviceModel(svc: KObject, supported: ReadonlySet<Protocol> = PROTOCOLS as ReadonlySet<Protocol>): ServiceModel {
  const spec = svc.spec ?? {};
  const ns = svc.metadata.namespace ?? '';
  const name = svc.metadata.name ?? '';
  const problems: string[] = [];
  if (spec.type === 'ExternalName') return { ports: [], problems };
  const clusterIPs: string[] = (Array.isArray(spec.clusterIPs) ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : []).filter((ip: unknown) => typeof ip === 'string');
  const headless = clusterIPs[0] === 'None';
  const clusterIP = headless ? '' : (clusterIPs.find(isIPv4) ?? '');
  const v6 = headless ? [] : clusterIPs.filter((ip) => !isIPv4(ip));
  if (!headless && v6.length > 0 && !clusterIP) {
    problems.push(`cluster IP ${v6.join(', ')} is IPv6; this proxy programs IPv4 only`);
    return { ports: [], problems };
  }
  const external: string[] = [];
  for (const ip of Array.isArray(spec.externalIPs) ? spec.externalIPs : []) {
    if (isIPv4(ip)) external.push(ip);
    else problems.push(`external IP ${String(ip)} is not IPv4; this proxy programs IPv4 only`);
  }
  for (const ing of Array.isArray(svc.status?.loadBalancer?.ingress) ? svc.status.loadBalancer.ingress : []) {
    if (typeof ing?.ip !== 'string') continue;
    if (isIPv4(ing.ip)) external.push(ing.ip);
    else problems.push(`load balancer IP ${ing.ip} is not IPv4; this proxy programs IPv4 only`);
  }
  if (Array.isArray(spec.loadBalancerSourceRanges) && spec.loadBalancerSourceRanges.length > 0)
    problems.push('loadBalancerSourceRanges are not enforced by this proxy');
  const affinitySeconds = spec.sessionAffinity === 'ClientIP' ? Number(spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800) : 0;
  const ports: ServicePortInfo[] = [];
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
    const protocol = String(p?.protocol ?? 'TCP');
    const portName = typeof p?.name === 'string' ? p.name : '';
    if (!PROTOCOLS.has(protocol) || !supported.has(protocol as Protocol)) {
      problems.push(`port ${portName || p?.port}: protocol ${protocol} is not supported by this node's kernel`);
      continue;
    }
    const isNodePort = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    ports.push({
      key: `${ns}/${name}:${portName}`,
      namespace: ns,
      name,
      portName,
      protocol: protocol as Protocol,
      clusterIP,
      port: Number(p.port),
      nodePort: isNodePort && Number.isInteger(p.nodePort) ? p.nodePort : 0,
      externalIPs: external,
      affinitySeconds: Number.isFinite(affinitySeconds) && affinitySeconds > 0 ? Math.floor(affinitySeconds) : 0,
      externalLocal: isNodePort || external.length > 0 ? spec.externalTrafficPolicy === 'Local' : false,
      internalLocal: spec.internalTrafficPolicy === 'Local',
      publishNotReady: spec.publishNotReadyAddresses === true,
    });
  }
  return { ports, problems };
}

/**
 * The endpoints of one service port from the Service's EndpointSlices (IPv4 slices only; FQDN and
 * IPv6 slices are skipped as upstream's IPv4 proxier does). Duplicates across slices count once.
 */
export function endpointsFor(port: ServicePortInfo, slices: Iterable<KObject>, nodeName: string): EndpointInfo[] {
  const out = new Map<string, EndpointInfo>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const sp = (Array.isArray(slice.ports) ? slice.ports : []).find(
      (x: any) => (x?.name ?? '') === port.portName && (x?.protocol ?? 'TCP') === port.protocol,
    );
    if (!sp || !Number.isInteger(sp.port)) continue;
    for (const ep of Array.isArray(slice.endpoints) ? slice.endpoints : []) {
      const c = ep?.conditions ?? {};
      // Upstream: unset ready means ready; serving defaults to ready; terminating to false.
      const ready = c.ready !== false;
      const info: EndpointInfo = {
        ip: '',
        port: sp.port,
        ready,
        serving: c.serving ?? ready,
        terminating: c.terminating === true,
        local: !!nodeName && ep.nodeName === nodeName,
      };
      for (const ip of Array.isArray(ep.addresses) ? ep.addresses.slice(0, 1) : []) {
        if (!isIPv4(ip)) continue;
        const k = `${ip}:${sp.port}`;
        if (!out.has(k)) out.set(k, { ...info, ip });
      }
    }
  }
  return [...out.values()].sort((a, b) => cmpIP(a.ip, b.ip) || a.port - b.port);
}

function cmpIP(a: string, b: string): number {
  return (parseIPv4(a) ?? 0) - (parseIPv4(b) ?? 0);
}

/**
 * Which endpoints take traffic (upstream's CategorizeEndpoints): ready ones, or every one with
 * publishNotReadyAddresses; when none is ready, serving-and-terminating ones so a rolling update
 * does not drop connections. Local ones are the same choice among the endpoints on this node.
 */
export function usableEndpoints(port: ServicePortInfo, eps: EndpointInfo[]): { cluster: EndpointInfo[]; local: EndpointInfo[] } {
  const pick = (list: EndpointInfo[]): EndpointInfo[] => {
    if (port.publishNotReady) return list;
    const ready = list.filter((e) => e.ready);
    if (ready.length > 0) return ready;
    return list.filter((e) => e.serving && e.terminating);
  };
  return { cluster: pick(eps), local: pick(eps.filter((e) => e.local)) };
}
