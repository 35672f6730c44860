// RBAC with upstream's semantics (plugin/pkg/auth/authorizer/rbac): a request is allowed when a
// rule of a role bound to the user (by name, group or ServiceAccount) matches it. ClusterRoleBindings
// apply everywhere, RoleBindings only in their namespace (and may reference a ClusterRole, whose
// rules then apply in that namespace only). Nothing denies: an unmatched request has no opinion.

import type { KObject } from '../../api/types.ts';
import type { UserInfo } from '../authn/user.ts';
import type { Attributes, Authorizer, AuthorizerResult } from './attributes.ts';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  for (const v of rule.verbs ?? []) if (v === '*' || v === verb) return true;
  return false;
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  for (const g of rule.apiGroups ?? []) if (g === '*' || g === group) return true;
  return false;
}

// `combined` is `pods` or `pods/log`; a rule's `*` + `/log` matches any resource's log subresource.
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource && r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames;
  if (!names || names.length === 0) return true;
  return names.includes(name);
}

// A rule URL matches exactly, or as a prefix when it ends in `*` (as `/healthz/` + `*`, or `*`).
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (a.isResourceRequest) {
    const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    return verbMatches(rule, a.verb) && apiGroupMatches(rule, a.apiGroup) && resourceMatches(rule, combined, a.subresource) && resourceNameMatches(rule, a.name);
  }
  return verbMatches(rule, a.verb) && nonResourceURLMatches(rule, a.path);
}

export function rulesAllow(a: Attributes, rules: PolicyRule[]): boolean {
  for (const r of rules) if (ruleAllows(a, r)) return true;
  return false;
}

/** The RBAC objects, read from the watch caches. */
export interface RbacObjects {
  clusterRole(name: string): KObject | undefined;
  role(namespace: string, name: string): KObject | undefined;
  clusterRoleBindings(): KObject[];
  roleBindings(namespace: string): KObject[];
  /** Subscribe to any change of the four kinds. */
  onChange(cb: () => void): void;
}

export function appliesTo(subject: any, user: UserInfo, bindingNamespace: string): boolean {
  switch (subject?.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      return ns !== '' && user.name === `system:serviceaccount:${ns}:${subject.name}`;
    }
  }
  return false;
}

interface Visit {
  /** The binding's description for errors ("ClusterRoleBinding \"x\""). */
  rules?: PolicyRule[];
  error?: string;
}

const rbacGroup = 'rbac.authorization.k8s.io';

/** Bindings by subject, rebuilt when an RBAC object changes, so a user's bindings are found without a scan. */
class SubjectIndex {
  private clusterByKey = new Map<string, KObject[]>();
  private nsByKey = new Map<string, Map<string, KObject[]>>();

  constructor(objs: RbacObjects) {
    for (const b of objs.clusterRoleBindings()) this.add(this.clusterByKey, b, '');
  }

  private add(into: Map<string, KObject[]>, b: KObject, ns: string): void {
    for (const s of Array.isArray(b.subjects) ? b.subjects : []) {
      let key: string | undefined;
      if (s?.kind === 'User') key = `u:${s.name}`;
      else if (s?.kind === 'Group') key = `g:${s.name}`;
      else if (s?.kind === 'ServiceAccount') key = `u:system:serviceaccount:${s.namespace || ns}:${s.name}`;
      if (!key) continue;
      const list = into.get(key);
      if (!list) into.set(key, [b]);
      else if (!list.includes(b)) list.push(b);
    }
  }

  private namespace(objs: RbacObjects, ns: string): Map<string, KObject[]> {
    let m = this.nsByKey.get(ns);
    if (!m) {
      m = new Map();
      for (const b of objs.roleBindings(ns)) this.add(m, b, ns);
      this.nsByKey.set(ns, m);
    }
    return m;
  }

  bindingsFor(objs: RbacObjects, user: UserInfo, ns: string): { cluster: KObject[]; namespaced: KObject[] } {
    const pick = (m: Map<string, KObject[]>) => {
      const out: KObject[] = [];
      const seen = new Set<KObject>();
      const take = (list: KObject[] | undefined) => {
        if (list) for (const b of list) if (!seen.has(b)) (seen.add(b), out.push(b));
      };
      take(m.get(`u:${user.name}`));
      for (const g of user.groups) take(m.get(`g:${g}`));
      return out;
    };
    return { cluster: pick(this.clusterByKey), namespaced: ns ? pick(this.namespace(objs, ns)) : [] };
  }
}

export class RbacAuthorizer implements Authorizer {
  private index?: SubjectIndex;
  /** Bumped on every RBAC change; decision caches keyed on it. */
  generation = 0;
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly objs: RbacObjects) {
    objs.onChange(() => {
      this.index = undefined;
      this.generation++;
      for (const l of this.listeners) l();
    });
  }

  onChange(cb: () => void): void {
    this.listeners.push(cb);
  }

  private roleRules(ref: any, ns: string): Visit {
    if (ref?.apiGroup && ref.apiGroup !== rbacGroup) return { error: `unsupported role reference kind: ${JSON.stringify(ref.kind)}` };
    if (ref?.kind === 'ClusterRole') {
      const r = this.objs.clusterRole(ref.name);
      if (!r) return { error: `clusterrole.rbac.authorization.k8s.io "${ref.name}" not found` };
      return { rules: Array.isArray(r.rules) ? r.rules : [] };
    }
    if (ref?.kind === 'Role' && ns) {
      const r = this.objs.role(ns, ref.name);
      if (!r) return { error: `role.rbac.authorization.k8s.io "${ref.name}" not found` };
      return { rules: Array.isArray(r.rules) ? r.rules : [] };
    }
    return { error: `unsupported role reference kind: ${JSON.stringify(ref?.kind)}` };
  }

  /** Visit every rule that applies to the user in the namespace; stop when visit returns false. */
  visitRules(user: UserInfo, ns: string, visit: (rules: PolicyRule[] | undefined, error?: string) => boolean): void {
    this.index ??= new SubjectIndex(this.objs);
    const { cluster, namespaced } = this.index.bindingsFor(this.objs, user, ns);
    for (const b of cluster) {
      if (!(b.subjects ?? []).some((s: any) => appliesTo(s, user, ''))) continue;
      const v = this.roleRules(b.roleRef, '');
      if (!visit(v.rules, v.error)) return;
    }
    for (const b of namespaced) {
      if (!(b.subjects ?? []).some((s: any) => appliesTo(s, user, ns))) continue;
      const v = this.roleRules(b.roleRef, ns);
      if (!visit(v.rules, v.error)) return;
    }
  }

  authorize(a: Attributes): AuthorizerResult {
    let allowed = false;
    const errs: string[] = [];
    this.visitRules(a.user, a.namespace, (rules, error) => {
      if (error) errs.push(error);
      if (rules && rulesAllow(a, rules)) allowed = true;
      return !allowed;
    });
    if (allowed) return { decision: 'Allow', reason: '' };
    return { decision: 'NoOpinion', reason: errs.length ? `RBAC: ${errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`}` : '' };
  }

  /** Every rule that applies to the user in the namespace (SelfSubjectRulesReview, escalation checks). */
  rulesFor(user: UserInfo, ns: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visitRules(user, ns, (r, e) => {
      if (r) rules.push(...r);
      if (e) errors.push(e);
      return true;
    });
    return { rules, errors };
  }
}
