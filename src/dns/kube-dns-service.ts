// The `kube-dns` Service in kube-system, and one EndpointSlice per node that points at that node's
// DNS server. The Service has no selector (no DNS pods: every real node serves DNS in Mizzen's own
// process) and internalTrafficPolicy Local, so the service proxy sends a pod's queries to its own
// node's server.

import { isIPv6 } from 'node:net';
import { createHash } from 'node:crypto';
import type { KObject } from '../api/types.ts';
import { isAlreadyExists, isNotFound, type ApiClient } from '../client/api-client.ts';
import { formatIPv4, parseIPv4 } from '../machinery/ipv4.ts';
import { SERVICE_NAME_LABEL } from './feed.ts';

export const KUBE_DNS_NAMESPACE = 'kube-system';
export const KUBE_DNS_SERVICE = 'kube-dns';
export const DEFAULT_CLUSTER_DNS = '10.43.0.10';
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
export const DNS_MANAGED_BY = 'mizzen-dns';
const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';

const servicesRef = { version: 'v1', resource: 'services', namespace: KUBE_DNS_NAMESPACE };
const slicesRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: KUBE_DNS_NAMESPACE };

/** The tenth address of the service range (k3s's 10.43.0.10 for 10.43.0.0/16), the default --cluster-dns. */
export function clusterDNSForServiceCIDR(cidr: string | undefined): string {
  if (!cidr) return DEFAULT_CLUSTER_DNS;
  const [addr, bits] = cidr.split('/');
  const n = parseIPv4(addr);
  if (n === undefined) return DEFAULT_CLUSTER_DNS;
  const size = 2 ** (32 - Number(bits));
  return formatIPv4(Math.floor(n / size) * size + 10);
}

export function kubeDNSServiceObject(clusterIP: string): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: KUBE_DNS_SERVICE,
      namespace: KUBE_DNS_NAMESPACE,
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'Mizzen-DNS' },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      internalTrafficPolicy: 'Local',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      ],
    },
  } as KObject;
}

/**
 * Create the kube-dns Service if it is missing (idempotent, safe to call from every node). An
 * existing one with another ClusterIP is left alone and reported: ClusterIPs cannot change.
 */
export async function ensureKubeDNSService(client: ApiClient, clusterIP: string, log: (m: string) => void = () => {}): Promise<KObject> {
  try {
    const existing = await client.get<KObject>({ ...servicesRef, name: KUBE_DNS_SERVICE });
    const ip = (existing as any).spec?.clusterIP;
    if (ip !== clusterIP) log(`service ${KUBE_DNS_NAMESPACE}/${KUBE_DNS_SERVICE} has ClusterIP ${ip}, not ${clusterIP} (--cluster-dns): pods are told ${clusterIP}`);
    return existing;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  try {
    return await client.create<KObject>(servicesRef, kubeDNSServiceObject(clusterIP));
  } catch (e) {
    if (isAlreadyExists(e)) return client.get<KObject>({ ...servicesRef, name: KUBE_DNS_SERVICE });
    throw e;
  }
}

/** `kube-dns-<node>`, shortened with a hash when the node name is long. */
export function nodeSliceName(nodeName: string): string {
  const name = `${KUBE_DNS_SERVICE}-${nodeName}`;
  if (name.length <= 63) return name;
  const h = createHash('sha256').update(nodeName).digest('hex').slice(0, 10);
  return `${name.slice(0, 52).replace(/[-.]+$/, '')}-${h}`;
}

export function nodeSliceObject(nodeName: string, address: string, port: number, owner?: KObject): KObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: nodeSliceName(nodeName),
      namespace: KUBE_DNS_NAMESPACE,
      labels: { [SERVICE_NAME_LABEL]: KUBE_DNS_SERVICE, [MANAGED_BY_LABEL]: DNS_MANAGED_BY },
      ...(owner?.metadata.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: KUBE_DNS_SERVICE, uid: owner.metadata.uid }] } : {}),
    },
    addressType: isIPv6(address) ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true, serving: true, terminating: false }, nodeName }],
    ports: [
      { name: 'dns', port, protocol: 'UDP' },
      { name: 'dns-tcp', port, protocol: 'TCP' },
    ],
  } as KObject;
}

/** Create or replace this node's kube-dns EndpointSlice. */
export async function publishNodeDNSEndpoint(client: ApiClient, nodeName: string, address: string, port: number, owner?: KObject): Promise<void> {
  const want = nodeSliceObject(nodeName, address, port, owner);
  const name = want.metadata.name!;
  for (let attempt = 0; attempt < 5; attempt++) {
    let existing: KObject | undefined;
    try {
      existing = await client.get<KObject>({ ...slicesRef, name });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    try {
      if (!existing) await client.create(slicesRef, want);
      else await client.update({ ...slicesRef, name }, { ...want, metadata: { ...want.metadata, resourceVersion: existing.metadata.resourceVersion } });
      return;
    } catch (e) {
      if (!isAlreadyExists(e) && (e as { code?: number }).code !== 409) throw e;
    }
  }
  throw new Error(`could not publish ${KUBE_DNS_NAMESPACE}/${name}: kept conflicting`);
}

export async function removeNodeDNSEndpoint(client: ApiClient, nodeName: string): Promise<void> {
  try {
    await client.delete({ ...slicesRef, name: nodeSliceName(nodeName) });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}
