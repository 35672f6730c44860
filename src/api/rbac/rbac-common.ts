// Validation and printing shared by the four RBAC kinds (stored only; nothing enforces them).

import { rfc3339 } from '../../machinery/time.ts';
import { field, type FieldError } from '../../machinery/errors.ts';
import { validateLabelSelector } from '../../machinery/labels.ts';
import type { KObject, TableColumn } from '../types.ts';
import { isDNS1123Subdomain } from '../validation.ts';

export const rbacGroup = 'rbac.authorization.k8s.io';

/** RBAC object names are path segments (upstream ValidatePathSegmentName), e.g. `system:node`. */
export function rbacNameErrors(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const out: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) out.push(`may not contain '${bad}'`);
  return out;
}

export function validatePolicyRule(rule: any, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(rule?.verbs) || rule.verbs.length === 0) errs.push(field.required(`${path}.verbs`, 'verbs must contain at least one value'));
  const urls = rule?.nonResourceURLs;
  if (Array.isArray(urls) && urls.length > 0) {
    if (namespaced) errs.push(field.invalid(`${path}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
    if ((rule.apiGroups?.length ?? 0) > 0 || (rule.resources?.length ?? 0) > 0 || (rule.resourceNames?.length ?? 0) > 0)
      errs.push(field.invalid(`${path}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    return errs;
  }
  if (!Array.isArray(rule?.apiGroups) || rule.apiGroups.length === 0)
    errs.push(field.required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (!Array.isArray(rule?.resources) || rule.resources.length === 0)
    errs.push(field.required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

export function validateRules(obj: KObject, namespaced: boolean): FieldError[] {
  const rules = obj.rules;
  if (!Array.isArray(rules)) return [];
  return rules.flatMap((r: any, i: number) => validatePolicyRule(r, namespaced, `rules[${i}]`));
}

export function validateAggregationRule(obj: KObject): FieldError[] {
  const agg = obj.aggregationRule;
  if (agg === undefined || agg === null) return [];
  const sels = agg.clusterRoleSelectors;
  if (!Array.isArray(sels) || sels.length === 0)
    return [field.required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil')];
  return sels.flatMap((s: unknown, i: number) => validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`));
}

/** Upstream SetDefaults for bindings: roleRef group, and the RBAC group for User/Group subjects. */
export function defaultBinding(obj: KObject): void {
  obj.roleRef ??= {};
  obj.roleRef.apiGroup ||= rbacGroup;
  for (const s of Array.isArray(obj.subjects) ? obj.subjects : []) {
    if (!s || typeof s !== 'object' || s.apiGroup) continue;
    if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = rbacGroup;
  }
}

function validateSubject(s: any, bindingNamespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = s?.name ?? '';
  if (name === '') errs.push(field.required(`${path}.name`));
  const apiGroup = s?.apiGroup ?? '';
  switch (s?.kind) {
    case 'ServiceAccount':
      if (name !== '') for (const m of isDNS1123Subdomain(name)) errs.push(field.invalid(`${path}.name`, name, m));
      if (apiGroup !== '') errs.push(field.notSupported(`${path}.apiGroup`, apiGroup, ['']));
      if (!bindingNamespaced && !s?.namespace) errs.push(field.required(`${path}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== rbacGroup) errs.push(field.notSupported(`${path}.apiGroup`, apiGroup, [rbacGroup]));
      break;
    default:
      errs.push(field.notSupported(`${path}.kind`, s?.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

export function validateBinding(obj: KObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = obj.roleRef ?? {};
  if (ref.apiGroup !== rbacGroup) errs.push(field.notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [rbacGroup]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) errs.push(field.notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(field.required('roleRef.name'));
  else for (const m of rbacNameErrors(ref.name)) errs.push(field.invalid('roleRef.name', ref.name, m));
  if (Array.isArray(obj.subjects)) obj.subjects.forEach((s: any, i: number) => errs.push(...validateSubject(s, namespaced, `subjects[${i}]`)));
  return errs;
}

export function validateBindingUpdate(obj: KObject, old: KObject, namespaced: boolean): FieldError[] {
  const errs = validateBinding(obj, namespaced);
  const a = obj.roleRef ?? {};
  const b = old.roleRef ?? {};
  if (a.apiGroup !== b.apiGroup || a.kind !== b.kind || a.name !== b.name) errs.push(field.invalid('roleRef', a, 'cannot change roleRef'));
  return errs;
}

/** Users, groups and `namespace/name` service accounts of a binding, each joined by ", ". */
export function subjectCells(obj: KObject): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of Array.isArray(obj.subjects) ? obj.subjects : []) {
    if (s?.kind === 'User') users.push(s.name);
    else if (s?.kind === 'Group') groups.push(s.name);
    else if (s?.kind === 'ServiceAccount') sas.push(`${s.namespace ?? ''}/${s.name}`);
  }
  return [users.join(', '), groups.join(', '), sas.join(', ')];
}

/** Roles have no printer upstream, so they get the default Name / Created At table. */
export const createdAtColumns: TableColumn[] = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
  { name: 'Created At', type: 'date', description: 'When the object was created.', priority: 0 },
];

/** The creation time in RFC 3339 form, seconds precision, UTC. */
export function createdAt(obj: KObject): string {
  const t = Date.parse(obj.metadata.creationTimestamp ?? '');
  if (Number.isNaN(t)) return '';
  return rfc3339(new Date(t));
}

export const bindingColumns: TableColumn[] = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
  { name: 'Role', type: 'string', description: 'Role the binding refers to.', priority: 0 },
  { name: 'Age', type: 'string', description: 'Time since the object was created.', priority: 0 },
  { name: 'Users', type: 'string', priority: 1, description: 'Users bound.' },
  { name: 'Groups', type: 'string', priority: 1, description: 'Groups bound.' },
  { name: 'ServiceAccounts', type: 'string', priority: 1, description: 'Service accounts bound.' },
];
