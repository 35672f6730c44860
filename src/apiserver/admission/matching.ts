// Which writes a webhook or a ValidatingAdmissionPolicy applies to (upstream's admission
// `matching` and `rules` packages): rules on operations, groups, versions, resources (with
// `*`, `pods/*`, `*/status`) and scope, excluded rules, and namespace and object label selectors.

import type { KObject } from '../../api/types.ts';
import { labelSelectorFromObject } from '../../machinery/labels.ts';
import type { AdmissionRequest, Lookup } from './types.ts';

export interface Rule {
  operations?: string[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  resourceNames?: string[];
  scope?: string;
}

const has = (list: unknown, v: string) => Array.isArray(list) && (list.includes(v) || list.includes('*'));

function resourceMatches(patterns: unknown, resource: string, sub: string | undefined): boolean {
  if (!Array.isArray(patterns)) return false;
  for (const p of patterns) {
    if (typeof p !== 'string') continue;
    if (p === '*/*') return true;
    const [res, s] = p.split('/', 2);
    const resOK = res === '*' || res === resource;
    if (!resOK) continue;
    if (s === undefined ? !sub : s === '*' || s === sub) return true;
  }
  return false;
}

/** One rule against the request; `exact` (matchPolicy Exact) also requires the version. */
export function ruleMatches(rule: Rule, r: AdmissionRequest, exact: boolean): boolean {
  if (!rule || typeof rule !== 'object') return false;
  if (rule.operations !== undefined && !has(rule.operations, r.operation)) return false;
  if (!has(rule.apiGroups, r.def.group)) return false;
  if (exact && !has(rule.apiVersions, r.def.version)) return false;
  if (!exact && !Array.isArray(rule.apiVersions)) return false;
  if (!resourceMatches(rule.resources, r.def.plural, r.subresource)) return false;
  const scope = rule.scope ?? '*';
  if (scope === 'Cluster' && r.def.namespaced) return false;
  if (scope === 'Namespaced' && !r.def.namespaced) return false;
  if (Array.isArray(rule.resourceNames) && rule.resourceNames.length && !rule.resourceNames.includes(r.obj.metadata.name ?? '')) return false;
  return true;
}

function selectorMatches(sel: unknown, labels: Record<string, string> | undefined): boolean {
  if (sel === undefined || sel === null) return true;
  try {
    return labelSelectorFromObject(sel as any).matches(labels ?? {});
  } catch {
    return false;
  }
}

/** Upstream's namespaceSelector: the object's namespace's labels; a Namespace's own; other cluster-scoped objects always match. */
export function namespaceMatches(sel: unknown, r: AdmissionRequest, lookup: Lookup): boolean {
  if (sel === undefined || sel === null) return true;
  if (r.def.group === '' && r.def.plural === 'namespaces') return selectorMatches(sel, r.obj.metadata.labels) || (!!r.old && selectorMatches(sel, r.old.metadata.labels));
  if (!r.def.namespaced) return true;
  const ns = namespaceOf(r, lookup);
  return selectorMatches(sel, ns?.metadata.labels);
}

export function namespaceOf(r: AdmissionRequest, lookup: Lookup): KObject | undefined {
  const name = r.obj.metadata.namespace;
  return name ? lookup('', 'namespaces')?.tryGet(undefined, name)?.obj : undefined;
}

/** objectSelector: the new object's labels or the old one's. */
export function objectMatches(sel: unknown, r: AdmissionRequest): boolean {
  if (sel === undefined || sel === null) return true;
  return selectorMatches(sel, r.operation === 'DELETE' ? undefined : r.obj.metadata.labels) || (!!r.old && selectorMatches(sel, r.old.metadata.labels));
}

/** A webhook's or policy's matchConstraints-style block (rules + exclusions + selectors). */
export function matches(
  m: { rules?: Rule[]; resourceRules?: Rule[]; excludeResourceRules?: Rule[]; namespaceSelector?: unknown; objectSelector?: unknown; matchPolicy?: string } | undefined,
  r: AdmissionRequest,
  lookup: Lookup,
): boolean {
  if (!m) return false;
  const exact = m.matchPolicy === 'Exact';
  const rules = m.rules ?? m.resourceRules;
  if (!Array.isArray(rules) || !rules.some((rule) => ruleMatches(rule, r, exact))) return false;
  if (Array.isArray(m.excludeResourceRules) && m.excludeResourceRules.some((rule) => ruleMatches(rule, r, exact))) return false;
  return namespaceMatches(m.namespaceSelector, r, lookup) && objectMatches(m.objectSelector, r);
}
