// Pieces shared by the admissionregistration.k8s.io kinds: rules, selectors, match conditions and
// their defaults (upstream pkg/apis/admissionregistration/validation and v1/defaults.go).

import { field, type FieldError } from '../../machinery/errors.ts';
import { validateLabelSelector } from '../../machinery/labels.ts';
import { expressionErrors } from '../../apiserver/admission/cel-admission.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName } from '../validation.ts';

const operations = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];
const scopes = ['*', 'Cluster', 'Namespaced'];
export const failurePolicies = ['Fail', 'Ignore'];
const matchPolicies = ['Equivalent', 'Exact'];
const maxMatchConditions = 64;
const celIdentifierRe = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

/** Defaults of a rule list entry (scope "*"). */
export function defaultRules(rules: unknown): void {
  for (const r of Array.isArray(rules) ? rules : []) if (r && typeof r === 'object') r.scope ??= '*';
}

function nonEmptyList(list: unknown, path: string, what: string): FieldError[] {
  if (!Array.isArray(list) || list.length === 0) return [field.required(path, '')];
  const errs: FieldError[] = [];
  if (list.length > 1 && list.includes('*')) errs.push(field.invalid(path, list, `if '*' is present, must not specify other ${what}`));
  return errs;
}

/** Upstream validateRule: API groups, versions, resources (and subresources), scope. */
export function validateRule(rule: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...nonEmptyList(rule?.apiGroups, `${path}.apiGroups`, 'API groups'));
  errs.push(...nonEmptyList(rule?.apiVersions, `${path}.apiVersions`, 'API versions'));
  (Array.isArray(rule?.apiVersions) ? rule.apiVersions : []).forEach((v: string, i: number) => {
    if (v === '') errs.push(field.required(`${path}.apiVersions[${i}]`, ''));
  });
  const resources: unknown[] = Array.isArray(rule?.resources) ? rule.resources : [];
  if (resources.length === 0) errs.push(field.required(`${path}.resources`, ''));
  const seen = new Set<string>();
  resources.forEach((r, i) => {
    const p = `${path}.resources[${i}]`;
    if (typeof r !== 'string' || r === '') return errs.push(field.required(p, ''));
    if (seen.has(r)) errs.push(field.duplicate(p, r));
    seen.add(r);
    const parts = r.split('/');
    if (parts.length > 2) errs.push(field.invalid(p, r, 'must be "*" or "resource" or "resource/subresource" or "*/subresource" or "resource/*" or "*/*"'));
  });
  if (resources.includes('*') && resources.length > 1) errs.push(field.invalid(`${path}.resources`, resources, "if '*' is present, must not specify other resources without subresources"));
  if (rule?.scope !== undefined && rule?.scope !== null && !scopes.includes(rule.scope)) errs.push(field.notSupported(`${path}.scope`, rule.scope, scopes));
  return errs;
}

export function validateRuleWithOperations(rule: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const ops: unknown[] = Array.isArray(rule?.operations) ? rule.operations : [];
  if (ops.length === 0) errs.push(field.required(`${path}.operations`, ''));
  if (ops.length > 1 && ops.includes('*')) errs.push(field.invalid(`${path}.operations`, ops, "if '*' is present, must not specify other operations"));
  ops.forEach((o, i) => {
    if (!operations.includes(o as string)) errs.push(field.notSupported(`${path}.operations[${i}]`, o, operations));
  });
  errs.push(...validateRule(rule, path));
  return errs;
}

export function validateFailurePolicy(v: unknown, path: string): FieldError[] {
  return v !== undefined && v !== null && !failurePolicies.includes(v as string) ? [field.notSupported(path, v, failurePolicies)] : [];
}

export function validateMatchPolicy(v: unknown, path: string): FieldError[] {
  return v !== undefined && v !== null && !matchPolicies.includes(v as string) ? [field.notSupported(path, v, matchPolicies)] : [];
}

export function validateSelectors(obj: any, path: string): FieldError[] {
  return [...validateLabelSelector(obj?.namespaceSelector, `${path}.namespaceSelector`), ...validateLabelSelector(obj?.objectSelector, `${path}.objectSelector`)];
}

/**
 * Match conditions: named CEL expressions. The names and the presence of expressions are checked
 * here; compiling the CEL belongs with the CEL library (see docs/design.md).
 */
export function validateMatchConditions(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(list)) return errs;
  if (list.length > maxMatchConditions) errs.push(field.tooMany(path, list.length, maxMatchConditions));
  const names = new Set<string>();
  list.forEach((c: any, i: number) => {
    const p = `${path}[${i}]`;
    const name = c?.name ?? '';
    if (!name) errs.push(field.required(`${p}.name`, ''));
    else {
      for (const m of isQualifiedName(name)) errs.push(field.invalid(`${p}.name`, name, m));
      if (names.has(name)) errs.push(field.duplicate(`${p}.name`, name));
      names.add(name);
    }
    if (!c?.expression) errs.push(field.required(`${p}.expression`, ''));
    else errs.push(...expressionErrors(c.expression, `${p}.expression`, 'bool'));
  });
  return errs;
}

/** CEL variable names must be identifiers (upstream's validateVariable). */
export function validateCELIdentifier(name: string, path: string): FieldError[] {
  if (!name) return [field.required(path, '')];
  return celIdentifierRe.test(name) ? [] : [field.invalid(path, name, 'name is not a valid CEL identifier')];
}

/** Upstream IsFullyQualifiedName: a DNS subdomain with at least three segments. */
export function validateFullyQualifiedName(name: string, path: string): FieldError[] {
  if (!name) return [field.required(path, '')];
  const errs = isDNS1123Subdomain(name).map((m) => field.invalid(path, name, m));
  if (name.split('.').length < 3) errs.push(field.invalid(path, name, 'should be a domain with at least three segments separated by dots'));
  return errs;
}

/** Upstream ValidateWebhookClientConfig: exactly one of a https URL or a Service reference. */
export function validateClientConfig(cc: any, path: string): FieldError[] {
  const hasURL = cc?.url !== undefined && cc?.url !== null;
  const hasService = !!cc?.service;
  if (hasURL === hasService) return [field.required(path, 'exactly one of url or service is required')];
  if (hasURL) {
    const p = `${path}.url`;
    let u: URL;
    try {
      u = new URL(cc.url);
    } catch (e) {
      return [field.invalid(p, cc.url, `host must be specified`)];
    }
    const errs: FieldError[] = [];
    if (u.protocol !== 'https:') errs.push(field.invalid(p, cc.url, "'https' is the only allowed URL scheme"));
    if (!u.hostname) errs.push(field.invalid(p, cc.url, 'host must be specified'));
    if (u.username || u.password) errs.push(field.invalid(p, cc.url, 'user information is not permitted in the URL'));
    if (u.hash) errs.push(field.invalid(p, cc.url, 'fragments are not permitted in the URL'));
    if (u.search) errs.push(field.invalid(p, cc.url, 'query parameters are not permitted in the URL'));
    return errs;
  }
  return validateServiceReference(cc.service, `${path}.service`);
}

export function validateServiceReference(svc: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!svc.name) errs.push(field.required(`${path}.name`, 'service name is required'));
  else for (const m of isDNS1123Label(svc.name)) errs.push(field.invalid(`${path}.name`, svc.name, m));
  if (!svc.namespace) errs.push(field.required(`${path}.namespace`, 'service namespace is required'));
  else for (const m of isDNS1123Label(svc.namespace)) errs.push(field.invalid(`${path}.namespace`, svc.namespace, m));
  if (svc.port !== undefined && svc.port !== null && !(Number.isInteger(svc.port) && svc.port >= 1 && svc.port <= 65535))
    errs.push(field.invalid(`${path}.port`, svc.port, 'port is not valid: must be between 1 and 65535, inclusive'));
  if (svc.path !== undefined && svc.path !== null && svc.path !== '') {
    const p: string = svc.path;
    if (!p.startsWith('/')) errs.push(field.invalid(`${path}.path`, p, "must start with a '/'"));
    else if (p.includes('//')) errs.push(field.invalid(`${path}.path`, p, 'segment[1] may not be empty'));
  }
  return errs;
}
