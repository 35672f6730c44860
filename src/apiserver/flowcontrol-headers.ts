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

/** Distinct request kinds remembered before the memo starts over (5,000 nodes' leases fit). */
const MEMO_MAX = 20_000;

export class FlowControlHeaders {
  private items: CachedObject[] = [];
  private sorted: KObject[] = [];
  /**
   * The matching schema by what a match depends on (user, groups, verb, resource, namespace or
   * path), for as long as the schemas are the same objects: every request is classified, and
   * walking the schemas' rules (a regular expression per service-account subject) per request cost
   * about a tenth of a lease renewal's time on the server.
   */
  private memo = new Map<string, KObject | null>();
  /** Priority-level UIDs by cached object (a cached object's parse is held weakly). */
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
      this.memo.clear();
    }
    return this.sorted;
  }

  set(res: ServerResponse, user: UserInfo, info: RequestInfo): void {
    const schemas = this.schemas();
    const key = info.isResourceRequest
      ? `r\n${user.name}\n${user.groups.join('\n')}\n${info.verb}\n${info.group}\n${info.resource ?? ''}/${info.subresource ?? ''}\n${info.namespace ?? '\0'}`
      : `n\n${user.name}\n${user.groups.join('\n')}\n${info.verb}\n${info.path}`;
    let fs = this.memo.get(key);
    if (fs === undefined) {
      fs = schemas.find((s) => flowSchemaMatches(s, user, info)) ?? null;
      if (this.memo.size >= MEMO_MAX) this.memo.clear();
      this.memo.set(key, fs);
    }
    if (!fs) return;
    res.setHeader('X-Kubernetes-PF-FlowSchema-UID', fs.metadata.uid!);
    const plc = this.lookup(GROUP, 'prioritylevelconfigurations')?.tryGet(undefined, fs.spec?.priorityLevelConfiguration?.name);
    if (!plc) return;
    let uid = this.plUids.get(plc);
    if (uid === undefined && !this.plUids.has(plc)) this.plUids.set(plc, (uid = plc.obj.metadata.uid));
    if (uid) res.setHeader('X-Kubernetes-PF-PriorityLevel-UID', uid);
  }
}
