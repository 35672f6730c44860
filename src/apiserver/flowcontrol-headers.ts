// The X-Kubernetes-PF-FlowSchema-UID and X-Kubernetes-PF-PriorityLevel-UID response headers: which
// FlowSchema (lowest matchingPrecedence, then name) matches a request and its priority level, as
// upstream's API Priority and Fairness filter reports them. Mizzen classifies but does not queue.

import type { ServerResponse } from 'node:http';
import type { KObject } from '../api/types.ts';
import type { CachedObject } from './registry/cached-object.ts';
import type { ResourceStore } from './registry/resource-store.ts';
import type { RequestInfo } from './request-info.ts';
import type { UserInfo } from './authn.ts';

type Lookup = (group: string, plural: string) => ResourceStore | undefined;
const GROUP = 'flowcontrol.apiserver.k8s.io';

const has = (list: unknown, v: string) => Array.isArray(list) && (list.includes(v) || list.includes('*'));

function subjectMatches(s: any, user: UserInfo): boolean {
  switch (s?.kind) {
    case 'User':
      return s.user?.name === '*' || s.user?.name === user.name;
    case 'Group':
      return s.group?.name === '*' || user.groups.includes(s.group?.name);
    case 'ServiceAccount': {
      const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user.name);
      return !!m && m[1] === s.serviceAccount?.namespace && (s.serviceAccount?.name === '*' || s.serviceAccount?.name === m[2]);
    }
    default:
      return false;
  }
}

function urlMatches(patterns: unknown, path: string): boolean {
  if (!Array.isArray(patterns)) return false;
  return patterns.some((p: string) => p === '*' || p === path || (p.endsWith('/*') && path.startsWith(p.slice(0, -1))));
}

/** Upstream's matchesFlowSchema for one request. */
export function flowSchemaMatches(fs: KObject, user: UserInfo, info: RequestInfo): boolean {
  for (const rule of fs.spec?.rules ?? []) {
    if (!(rule.subjects ?? []).some((s: any) => subjectMatches(s, user))) continue;
    if (info.isResourceRequest) {
      const resource = info.subresource ? `${info.resource}/${info.subresource}` : (info.resource ?? '');
      const ok = (rule.resourceRules ?? []).some(
        (r: any) =>
          has(r.verbs, info.verb) &&
          has(r.apiGroups, info.group) &&
          has(r.resources, resource) &&
          (info.namespace ? has(r.namespaces, info.namespace) : r.clusterScope === true),
      );
      if (ok) return true;
    } else if ((rule.nonResourceRules ?? []).some((r: any) => has(r.verbs, info.verb) && urlMatches(r.nonResourceURLs, info.path))) return true;
  }
  return false;
}

export class FlowControlHeaders {
  private items: CachedObject[] = [];
  private sorted: KObject[] = [];
  /**
   * Priority-level UIDs by cached object: a cached object's parse is held weakly, so reading
   * `.obj` per request parsed the priority level again. (A memo of the matching schema by user,
   * verb, resource and namespace was tried too: building its key cost as much as the match.)
   */
  private plUids = new WeakMap<CachedObject, string | undefined>();

  constructor(private readonly lookup: Lookup) {}

  /** The schemas by precedence, re-sorted only when the cached objects changed. */
  private schemas(): KObject[] {
    const rs = this.lookup(GROUP, 'flowschemas');
    if (!rs) return [];
    const items = rs.cache.list(rs.listPrefix()).items;
    if (items.length !== this.items.length || items.some((c, i) => c !== this.items[i])) {
      this.items = items;
      this.sorted = items.map((c) => c.obj).sort((a, b) => (a.spec?.matchingPrecedence ?? 0) - (b.spec?.matchingPrecedence ?? 0) || a.metadata.name!.localeCompare(b.metadata.name!));
    }
    return this.sorted;
  }

  set(res: ServerResponse, user: UserInfo, info: RequestInfo): void {
    const fs = this.schemas().find((s) => flowSchemaMatches(s, user, info));
    if (!fs) return;
    res.setHeader('X-Kubernetes-PF-FlowSchema-UID', fs.metadata.uid!);
    const plc = this.lookup(GROUP, 'prioritylevelconfigurations')?.tryGet(undefined, fs.spec?.priorityLevelConfiguration?.name);
    if (!plc) return;
    let uid = this.plUids.get(plc);
    if (uid === undefined && !this.plUids.has(plc)) this.plUids.set(plc, (uid = plc.obj.metadata.uid));
    if (uid) res.setHeader('X-Kubernetes-PF-PriorityLevel-UID', uid);
  }
}
