// What the DNS server needs to know of a Service and its endpoints, or of a pod: small plain objects
// the informer side computes (records.ts turns them into names) and posts to the server's thread.

import { normalizeIP } from './names.ts';

export interface PortEntry {
  /** The port's name ('' when unnamed: no SRV record of its own). */
  name: string;
  port: number;
  protocol: string;
}

export interface EndpointEntry {
  ips: string[];
  /** EndpointSlice endpoint hostname (pod spec.hostname with a matching subdomain). */
  hostname?: string;
  /** The slice's ports: headless SRV records point at the endpoints' own ports. */
  ports: PortEntry[];
}

export interface ServiceEntry {
  namespace: string;
  name: string;
  kind: 'ClusterIP' | 'Headless' | 'ExternalName';
  clusterIPs: string[];
  externalName?: string;
  ports: PortEntry[];
  /** Ready endpoints (or all when the Service publishes not-ready addresses), one per address set. */
  endpoints: EndpointEntry[];
}

export interface PodEntry {
  namespace: string;
  ips: string[];
}

/** A change for the server: the key's entry now, or undefined when it is gone. */
export type ZoneUpdate = { kind: 'service'; key: string; entry?: ServiceEntry } | { kind: 'pod'; key: string; entry?: PodEntry };

// Minimal shapes of the API objects read here (the informers hold the full objects).
interface ServiceLike {
  metadata: { name?: string; namespace?: string };
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalName?: string;
    publishNotReadyAddresses?: boolean;
    ports?: { name?: string; port: number; protocol?: string }[];
  };
}

export interface EndpointSliceLike {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  addressType?: string;
  endpoints?: { addresses?: string[]; hostname?: string; conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean } }[] | null;
  ports?: { name?: string; port?: number; protocol?: string }[] | null;
}

interface PodLike {
  metadata: { namespace?: string };
  spec?: { hostNetwork?: boolean };
  status?: { podIP?: string; podIPs?: { ip: string }[]; phase?: string };
}

const ips = (list: (string | undefined)[]) => [...new Set(list.map((ip) => (ip ? normalizeIP(ip) : undefined)).filter((ip): ip is string => !!ip))];

/** The DNS view of a Service and its EndpointSlices (upstream's DNS spec, section 2). */
export function serviceEntry(svc: ServiceLike, slices: EndpointSliceLike[]): ServiceEntry {
  const spec = svc.spec ?? {};
  const base = { namespace: svc.metadata.namespace ?? 'default', name: svc.metadata.name ?? '' };
  const ports = (spec.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' }));
  if (spec.type === 'ExternalName') {
    return { ...base, kind: 'ExternalName', clusterIPs: [], externalName: (spec.externalName ?? '').replace(/\.$/, '').toLowerCase(), ports, endpoints: [] };
  }
  const clusterIPs = spec.clusterIP === 'None' ? [] : ips(spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP]);
  if (clusterIPs.length) return { ...base, kind: 'ClusterIP', clusterIPs, ports, endpoints: [] };
  const endpoints: EndpointEntry[] = [];
  for (const slice of [...slices].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
    if (slice.addressType === 'FQDN') continue;
    const slicePorts = (slice.ports ?? []).filter((p) => p.port !== undefined).map((p) => ({ name: p.name ?? '', port: p.port!, protocol: p.protocol ?? 'TCP' }));
    for (const ep of slice.endpoints ?? []) {
      // An absent ready condition means ready (EndpointSlice API); published not-ready addresses count too.
      if (ep.conditions?.ready === false && !spec.publishNotReadyAddresses) continue;
      const addrs = ips(ep.addresses ?? []);
      if (addrs.length) endpoints.push({ ips: addrs, hostname: ep.hostname || undefined, ports: slicePorts });
    }
  }
  return { ...base, kind: 'Headless', clusterIPs: [], ports, endpoints };
}

/** The pod's addresses for its PTR and verified A records; undefined when it has none of its own. */
export function podEntry(pod: PodLike): PodEntry | undefined {
  if (pod.spec?.hostNetwork) return undefined;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return undefined;
  const addrs = ips([pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)]);
  if (!addrs.length) return undefined;
  return { namespace: pod.metadata.namespace ?? 'default', ips: addrs };
}
