// Escalation prevention (upstream pkg/registry/rbac/validation): a user may create or change a role
// only with rules they already hold, and bind a role only when they hold its rules or may `bind` it.
// Rules are compared one atom at a time (one verb on one group/resource/name, or one verb on one URL).

import type { PolicyRule } from './rbac.ts';

const has = (set: string[] | undefined, v: string) => (set ?? []).includes(v);
const hasAll = (set: string[] | undefined, vs: string[] | undefined) => (vs ?? []).every((v) => has(set, v));

/** Split a rule into rules with one verb, one group, one resource, one name (or one URL) each. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const g of rule.apiGroups ?? []) {
    for (const res of rule.resources ?? []) {
      for (const v of rule.verbs ?? []) {
        if (rule.resourceNames?.length) for (const n of rule.resourceNames) out.push({ apiGroups: [g], resources: [res], verbs: [v], resourceNames: [n] });
        else out.push({ apiGroups: [g], resources: [res], verbs: [v] });
      }
    }
  }
  for (const u of rule.nonResourceURLs ?? []) for (const v of rule.verbs ?? []) out.push({ nonResourceURLs: [u], verbs: [v] });
  return out;
}

function resourceCoversAll(set: string[] | undefined, wanted: string[] | undefined): boolean {
  if (has(set, '*') || hasAll(set, wanted)) return true;
  for (const path of wanted ?? []) {
    if (has(set, path)) continue;
    const slash = path.indexOf('/');
    if (slash < 0) return false;
    if (!has(set, `*/${path.slice(slash + 1)}`)) return false;
  }
  return true;
}

function urlCovers(owner: string, url: string): boolean {
  if (owner === url) return true;
  return owner.endsWith('*') && url.startsWith(owner.slice(0, -1));
}

function nonResourceURLsCoverAll(set: string[] | undefined, wanted: string[] | undefined): boolean {
  return (wanted ?? []).every((u) => (set ?? []).some((o) => urlCovers(o, u)));
}

export function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = has(owner.verbs, '*') || hasAll(owner.verbs, sub.verbs);
  const groups = has(owner.apiGroups, '*') || hasAll(owner.apiGroups, sub.apiGroups);
  const resources = resourceCoversAll(owner.resources, sub.resources);
  const urls = nonResourceURLsCoverAll(owner.nonResourceURLs, sub.nonResourceURLs);
  const names = sub.resourceNames?.length ? !owner.resourceNames?.length || hasAll(owner.resourceNames, sub.resourceNames) : !owner.resourceNames?.length;
  return verbs && groups && resources && names && urls;
}

/** Whether `owner` covers every rule in `wanted`, and the atoms it does not. */
export function covers(owner: PolicyRule[], wanted: PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const w of wanted) for (const atom of breakdownRule(w)) if (!owner.some((o) => ruleCovers(o, atom))) missing.push(atom);
  return { covered: missing.length === 0, missing };
}

const goQuote = (s: string) => JSON.stringify(s);
const list = (l: string[]) => `[${l.map(goQuote).join(' ')}]`;

/** Upstream's PolicyRule CompactString: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`. */
export function compactRule(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${list(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${list(r.resources)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${list(r.resourceNames)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${list(r.nonResourceURLs)}`);
  if (r.verbs?.length) parts.push(`Verbs:${list(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** Compact atoms back into rules that differ only in verbs, as upstream prints missing rights. */
export function compactRules(rules: PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const byKey = new Map<string, PolicyRule>();
  for (const r of rules) {
    const key = JSON.stringify([r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []]);
    const prev = byKey.get(key);
    if (prev) {
      for (const v of r.verbs) if (!prev.verbs.includes(v)) prev.verbs.push(v);
      continue;
    }
    const copy: PolicyRule = { ...r, verbs: [...r.verbs] };
    byKey.set(key, copy);
    out.push(copy);
  }
  return out;
}

export const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];
