// What an authorizer is asked: upstream's authorizer.Attributes, built from a request's RequestInfo
// or from a SubjectAccessReview's spec.

import type { UserInfo } from '../authn/user.ts';
import type { RequestInfo } from '../request-info.ts';

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

export interface Attributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  /** Non-resource requests: the URL path. */
  path: string;
  namespace: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  name: string;
  /** list/watch field selector requirements (the node authorizer reads spec.nodeName=). */
  fieldSelector?: FieldRequirement[];
}

export type Decision = 'Allow' | 'Deny' | 'NoOpinion';

export interface AuthorizerResult {
  decision: Decision;
  reason: string;
}

export interface Authorizer {
  authorize(a: Attributes): AuthorizerResult;
}

/** Exact-match field requirements of a selector string; anything else is ignored (only equality scopes access). */
export function parseFieldRequirements(selector: string | null | undefined): FieldRequirement[] | undefined {
  if (!selector) return undefined;
  const out: FieldRequirement[] = [];
  for (const part of selector.split(',')) {
    const ne = part.indexOf('!=');
    if (ne > 0) {
      out.push({ field: part.slice(0, ne).trim(), operator: '!=', value: part.slice(ne + 2).trim() });
      continue;
    }
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const value = part[eq + 1] === '=' ? part.slice(eq + 2) : part.slice(eq + 1);
    out.push({ field: part.slice(0, eq).trim(), operator: '=', value: value.trim() });
  }
  return out;
}

export function attributesFor(user: UserInfo, info: RequestInfo, query?: URLSearchParams): Attributes {
  const a: Attributes = {
    user,
    verb: info.verb,
    isResourceRequest: info.isResourceRequest,
    path: info.path,
    // A namespace's own requests are in that namespace, so a RoleBinding there can grant reading it.
    namespace: info.namespace ?? (info.resource === 'namespaces' && info.name ? info.name : ''),
    apiGroup: info.group,
    apiVersion: info.version,
    resource: info.resource ?? '',
    subresource: info.subresource ?? '',
    name: info.name ?? '',
  };
  // As upstream's RequestInfo: a list or watch scoped to one name by `metadata.name=` is
  // authorized as that name (a kubelet watching its own Node), and the field selector is kept for
  // authorizers that scope by it (the node authorizer's spec.nodeName=).
  if (info.isResourceRequest && (info.verb === 'list' || info.verb === 'watch') && query) {
    const fs = query.get('fieldSelector');
    if (fs) {
      a.fieldSelector = parseFieldRequirements(fs);
      const byName = a.fieldSelector?.find((r) => r.field === 'metadata.name' && r.operator === '=');
      if (!a.name && byName && byName.value && !/[/%]/.test(byName.value) && byName.value !== '.' && byName.value !== '..') a.name = byName.value;
    }
  }
  return a;
}

/** A stable key for a decision cache. */
export function attributesKey(a: Attributes): string {
  let k = a.isResourceRequest
    ? `${a.verb}\u0000${a.namespace}\u0000${a.apiGroup}\u0000${a.resource}\u0000${a.subresource}\u0000${a.name}`
    : `${a.verb}\u0000${a.path}`;
  if (a.fieldSelector) for (const r of a.fieldSelector) k += `\u0000${r.field}${r.operator}${r.value}`;
  return k;
}
