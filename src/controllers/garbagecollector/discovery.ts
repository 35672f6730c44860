// Resource discovery for controllers that act on every kind (garbage collector, namespace
// deleter): the preferred version of each group from /api/v1 and /apis, top-level resources only.

import type { ApiClient } from '../../client/api-client.ts';

export interface DiscoveredResource {
  group: string;
  version: string;
  /** Plural resource name, e.g. `deployments`. */
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

export interface DiscoveryResult {
  resources: DiscoveredResource[];
  /** groupVersion -> error message, for groups whose document could not be read. */
  failed: Map<string, string>;
}

interface APIResourceList {
  groupVersion?: string;
  resources?: Array<{ name: string; kind: string; namespaced: boolean; verbs?: string[] }>;
}

function parse(group: string, version: string, doc: APIResourceList): DiscoveredResource[] {
  const out: DiscoveredResource[] = [];
  for (const r of doc.resources ?? []) {
    if (r.name.includes('/')) continue; // subresources
    out.push({ group, version, resource: r.name, kind: r.kind, namespaced: !!r.namespaced, verbs: r.verbs ?? [] });
  }
  return out;
}

/** Preferred-version resources of every group; a failing group is reported, not fatal. */
export async function discoverResources(client: ApiClient): Promise<DiscoveryResult> {
  const failed = new Map<string, string>();
  const resources: DiscoveredResource[] = [];
  const core = await client.request<APIResourceList>('GET', '/api/v1');
  resources.push(...parse('', 'v1', core));
  const groups = await client.request<{ groups?: Array<{ name: string; preferredVersion?: { groupVersion: string; version: string }; versions?: Array<{ version: string }> }> }>('GET', '/apis');
  await Promise.all(
    (groups.groups ?? []).map(async (g) => {
      const version = g.preferredVersion?.version ?? g.versions?.[0]?.version;
      if (!version) return;
      try {
        const doc = await client.request<APIResourceList>('GET', `/apis/${g.name}/${version}`);
        resources.push(...parse(g.name, version, doc));
      } catch (e) {
        failed.set(`${g.name}/${version}`, (e as Error).message);
      }
    }),
  );
  resources.sort((a, b) => (a.group + '/' + a.resource).localeCompare(b.group + '/' + b.resource));
  return { resources, failed };
}

export function hasVerbs(r: DiscoveredResource, ...verbs: string[]): boolean {
  return verbs.every((v) => r.verbs.includes(v));
}

/** `group/version` as used in apiVersion fields (`v1` for the core group). */
export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The group of an apiVersion string. */
export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}
