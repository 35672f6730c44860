// Which resource a scaleTargetRef (apiVersion + kind) names, found through discovery as upstream's
// scale client does with a REST mapper: the resource of that kind that has a `scale` subresource.
// Works for Deployments, ReplicaSets, StatefulSets, ReplicationControllers and custom resources.

import type { ApiClient } from '../../client/api-client.ts';

export interface ScaleTarget {
  group: string;
  version: string;
  resource: string;
}

const TTL_MS = 30_000;

export class ScaleTargetResolver {
  private cache = new Map<string, { at: number; byKind: Map<string, string> }>();

  constructor(private readonly client: ApiClient) {}

  async resolve(apiVersion: string, kind: string, now = Date.now()): Promise<ScaleTarget> {
    const slash = apiVersion.indexOf('/');
    const group = slash >= 0 ? apiVersion.slice(0, slash) : '';
    const version = slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion;
    let entry = this.cache.get(apiVersion);
    // A kind missing from a cached answer may be a CRD created since: ask again.
    if (!entry || now - entry.at > TTL_MS || !entry.byKind.has(kind)) {
      const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
      let list: any;
      try {
        list = await this.client.request('GET', path);
      } catch (e) {
        throw new Error(`unable to get the scale subresource of ${kind} in ${apiVersion}: ${(e as Error).message}`);
      }
      const names = new Set<string>((list?.resources ?? []).map((r: any) => r.name));
      const byKind = new Map<string, string>();
      for (const r of list?.resources ?? []) if (!String(r.name).includes('/') && names.has(`${r.name}/scale`)) byKind.set(r.kind, r.name);
      entry = { at: now, byKind };
      this.cache.set(apiVersion, entry);
    }
    const resource = entry.byKind.get(kind);
    if (!resource) throw new Error(`no matches for kind "${kind}" in group "${group}" with a scale subresource`);
    return { group, version, resource };
  }
}
