// Discovery documents built from the resource list: the legacy per-path documents (/api,
// /apis, /apis/<group>, /api/v1, /apis/<group>/<version>) and aggregated discovery
// (apidiscovery.k8s.io v2 and v2beta1 APIGroupDiscoveryList), which kubectl 1.32 asks for first.

import { createHash } from 'node:crypto';
import type { ResourceDef } from '../api/types.ts';
import { localPriority, orderGroups, type Priority } from './aggregator/priorities.ts';

const defaultVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const subresourceVerbs = ['get', 'patch', 'update'];

interface GVK {
  group: string;
  version: string;
  kind: string;
}

/** A subresource as discovery advertises it; group/version only when they differ from the parent. */
export interface SubresourceInfo {
  name: string;
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
}

/**
 * Subresources besides status and scale (which come from the ResourceDef), as upstream serves
 * them, keyed by `<group>/<plural>` ('' group for core).
 */
export const extraSubresources: Record<string, SubresourceInfo[]> = {
  '/pods': [
    { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
    { name: 'binding', kind: 'Binding', verbs: ['create'] },
    { name: 'ephemeralcontainers', kind: 'Pod', verbs: subresourceVerbs },
    { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
    { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'log', kind: 'Pod', verbs: ['get'] },
    { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
    { name: 'proxy', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  ],
  '/services': [{ name: 'proxy', kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }],
  '/nodes': [{ name: 'proxy', kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }],
  '/namespaces': [{ name: 'finalize', kind: 'Namespace', verbs: ['update'] }],
  'certificates.k8s.io/certificatesigningrequests': [{ name: 'approval', kind: 'CertificateSigningRequest', verbs: ['get', 'patch', 'update'] }],
  '/serviceaccounts': [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] }],
};

function subresourcesOf(r: ResourceDef): SubresourceInfo[] {
  const out: SubresourceInfo[] = [];
  if (r.status) out.push({ name: 'status', kind: r.kind, verbs: subresourceVerbs });
  if (r.scale) out.push({ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: subresourceVerbs });
  out.push(...(extraSubresources[`${r.group}/${r.plural}`] ?? []));
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Upstream's storageVersionHash: base64 of the first 8 bytes of sha256("<group>/<version>/<kind>"). */
export function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash('sha256').update(`${group}/${version}/${kind}`).digest().subarray(0, 8).toString('base64');
}

// --- legacy documents -----------------------------------------------------------------------

function apiResource(r: ResourceDef): Record<string, unknown> {
  const out: Record<string, unknown> = { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs ?? defaultVerbs };
  if (r.shortNames?.length) out.shortNames = r.shortNames;
  if (r.categories?.length) out.categories = r.categories;
  // Only stored kinds have a storage version (upstream's reviews have none).
  if (!r.virtual) out.storageVersionHash = storageVersionHash(r.group, r.version, r.kind);
  return out;
}

function subApiResource(r: ResourceDef, s: SubresourceInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced };
  if (s.group !== undefined) out.group = s.group;
  if (s.version !== undefined) out.version = s.version;
  out.kind = s.kind;
  out.verbs = s.verbs;
  return out;
}

function apiResourceList(groupVersion: string, defs: ResourceDef[]): Record<string, unknown> {
  const resources: Array<Record<string, unknown>> = [];
  for (const r of defs) {
    resources.push(apiResource(r));
    for (const s of subresourcesOf(r)) resources.push(subApiResource(r, s));
  }
  resources.sort((a, b) => String(a.name).localeCompare(String(b.name)));
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

interface GroupInfo {
  name: string;
  versions: string[];
}

/**
 * Groups (excluding core) in discovery order, as upstream sorts its APIServices: by group priority,
 * then name; versions by version priority, then kube-aware order (the first is preferred).
 */
function groupsOf(resources: ResourceDef[], remote: RemoteGroupVersion[] = []): GroupInfo[] {
  const ranked = [];
  for (const r of resources) if (r.group !== '') ranked.push({ group: r.group, version: r.version, priority: localPriority(r.group, r.version) });
  for (const v of remote) if (v.group !== '') ranked.push(v);
  return orderGroups(ranked);
}

function apiGroup(g: GroupInfo, withTypeMeta: boolean): Record<string, unknown> {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  const out: Record<string, unknown> = withTypeMeta ? { kind: 'APIGroup', apiVersion: 'v1' } : {};
  out.name = g.name;
  out.versions = versions;
  out.preferredVersion = versions[0];
  return out;
}

// --- aggregated discovery -------------------------------------------------------------------

function discoveryResource(r: ResourceDef): Record<string, unknown> {
  const out: Record<string, unknown> = {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs ?? defaultVerbs,
  };
  if (r.shortNames?.length) out.shortNames = r.shortNames;
  if (r.categories?.length) out.categories = r.categories;
  const subs = subresourcesOf(r);
  if (subs.length)
    out.subresources = subs.map((s) => ({
      subresource: s.name,
      responseKind: { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind } satisfies GVK,
      verbs: s.verbs,
    }));
  return out;
}

function groupDiscovery(name: string, versions: string[], resources: ResourceDef[], remote: RemoteGroupVersion[] = []): Record<string, unknown> {
  const metadata: Record<string, unknown> = name ? { name, creationTimestamp: null } : { creationTimestamp: null };
  return {
    metadata,
    versions: versions.map((v) => {
      const served = remote.find((r) => r.group === name && r.version === v);
      if (served) return remoteVersionDiscovery(served);
      return {
        version: v,
        resources: resources
          .filter((r) => r.group === name && r.version === v)
          .sort((a, b) => a.plural.localeCompare(b.plural))
          .map(discoveryResource),
        freshness: 'Current',
      };
    }),
  };
}

/** An aggregated server's group/version, from the APIResourceList it serves (Stale when unknown). */
function remoteVersionDiscovery(rv: RemoteGroupVersion): Record<string, unknown> {
  const list = rv.resources ?? [];
  const top = list.filter((r) => !String(r.name).includes('/'));
  const resources = top
    .map((r) => {
      const name = String(r.name);
      const out: Record<string, unknown> = {
        resource: name,
        responseKind: { group: (r.group as string) ?? rv.group, version: (r.version as string) ?? rv.version, kind: r.kind },
        scope: r.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: r.singularName || String(r.kind ?? '').toLowerCase(),
        verbs: r.verbs ?? [],
      };
      if (Array.isArray(r.shortNames) && r.shortNames.length) out.shortNames = r.shortNames;
      if (Array.isArray(r.categories) && r.categories.length) out.categories = r.categories;
      const subs = list.filter((s) => String(s.name).startsWith(`${name}/`));
      if (subs.length)
        out.subresources = subs.map((s) => ({
          subresource: String(s.name).slice(name.length + 1),
          responseKind: { group: (s.group as string) || rv.group, version: (s.version as string) || rv.version, kind: s.kind },
          verbs: s.verbs ?? [],
        }));
      return out;
    })
    .sort((a, b) => String(a.resource).localeCompare(String(b.resource)));
  return { version: rv.version, resources, freshness: rv.resources && rv.fresh ? 'Current' : 'Stale' };
}

function discoveryList(apiVersion: string, items: Array<Record<string, unknown>>): Record<string, unknown> {
  return { kind: 'APIGroupDiscoveryList', apiVersion, metadata: {}, items };
}

// --- public API -----------------------------------------------------------------------------

/** A group/version another server serves through this one (an APIService with a service). */
export interface RemoteGroupVersion {
  group: string;
  version: string;
  priority: Priority;
  /** The APIResourceList's `resources` the aggregated server last answered with, if any. */
  resources?: Array<Record<string, unknown>>;
  /** The server answered its last discovery check. */
  fresh: boolean;
}

export interface DiscoveryDocuments {
  /** Legacy documents keyed by URL path: '/api', '/apis', '/apis/apps', '/api/v1', '/apis/apps/v1'. */
  legacy: Record<string, Record<string, unknown>>;
  /** Aggregated discovery for '/api' and '/apis' in each served version. */
  aggregated: Record<'v2' | 'v2beta1', { '/api': Record<string, unknown>; '/apis': Record<string, unknown> }>;
}

/**
 * All discovery documents for a resource list. `serverAddress` is host:port as clients should
 * reach the server (advertised in /api's serverAddressByClientCIDRs).
 */
export function discoveryDocuments(resources: ResourceDef[], serverAddress: string, remote: RemoteGroupVersion[] = []): DiscoveryDocuments {
  const legacy: Record<string, Record<string, unknown>> = {};
  const coreVersions = [...new Set(resources.filter((r) => r.group === '').map((r) => r.version))];
  if (!coreVersions.length) coreVersions.push('v1');
  legacy['/api'] = { kind: 'APIVersions', versions: coreVersions, serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  for (const v of coreVersions)
    legacy[`/api/${v}`] = apiResourceList(
      v,
      resources.filter((r) => r.group === '' && r.version === v),
    );
  const groups = groupsOf(resources, remote);
  const isRemote = (g: string, v: string) => remote.some((r) => r.group === g && r.version === v);
  legacy['/apis'] = { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => apiGroup(g, false)) };
  for (const g of groups) {
    legacy[`/apis/${g.name}`] = apiGroup(g, true);
    // An aggregated group/version's resource list is the aggregated server's: the request is proxied.
    for (const v of g.versions.filter((x) => !isRemote(g.name, x)))
      legacy[`/apis/${g.name}/${v}`] = apiResourceList(
        `${g.name}/${v}`,
        resources.filter((r) => r.group === g.name && r.version === v),
      );
  }

  const aggregated = {} as DiscoveryDocuments['aggregated'];
  for (const version of ['v2', 'v2beta1'] as const) {
    const apiVersion = `apidiscovery.k8s.io/${version}`;
    aggregated[version] = {
      '/api': discoveryList(apiVersion, [groupDiscovery('', coreVersions, resources)]),
      '/apis': discoveryList(
        apiVersion,
        groups.map((g) => groupDiscovery(g.name, g.versions, resources, remote)),
      ),
    };
  }
  return { legacy, aggregated };
}

/** Response Content-Type for each discovery format. */
export const discoveryContentTypes = {
  v2: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  v2beta1: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
  legacy: 'application/json',
} as const;

/**
 * Picks the discovery format for an Accept header: the first (highest q) JSON media range that
 * asks for an aggregated APIGroupDiscoveryList version we serve; otherwise the legacy documents.
 */
export function negotiateDiscovery(acceptHeader: string | undefined): 'v2' | 'v2beta1' | 'legacy' {
  if (!acceptHeader) return 'legacy';
  const ranges = acceptHeader.split(',').map((part, index) => {
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
    }
    const qv = params.q !== undefined ? Number(params.q) : 1;
    return { type: type.toLowerCase(), params, q: Number.isNaN(qv) ? 0 : qv, index };
  });
  ranges.sort((a, b) => b.q - a.q || a.index - b.index);
  for (const r of ranges) {
    if (r.q <= 0) continue;
    if (r.params.g === 'apidiscovery.k8s.io' && r.params.as === 'APIGroupDiscoveryList') {
      if (r.type !== 'application/json' && r.type !== 'application/*' && r.type !== '*/*') continue; // no protobuf
      if (r.params.v === 'v2') return 'v2';
      if (r.params.v === 'v2beta1') return 'v2beta1';
      continue;
    }
    if (r.params.g || r.params.as) continue; // some other typed form we do not serve
    if (r.type === 'application/json' || r.type === 'application/*' || r.type === '*/*' || r.type === 'application/yaml') return 'legacy';
  }
  return 'legacy';
}
