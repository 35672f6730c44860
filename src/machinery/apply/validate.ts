// Checks an apply configuration against its type before anything is merged (upstream converts it
// to a typed value and refuses it with these messages): fields the schema does not declare,
// values of the wrong kind, list items without their keys, duplicate keys.

import { fieldElement, formatPath, type PathElement } from '../fieldpath/path-element.ts';
import { itemElement, ItemError } from './items.ts';
import { asListType, asMapType, childType, isObject, type FieldType } from './types.ts';

/** Upstream-style messages, one per problem: `.spec.foo: field not declared in schema`. */
export function validateConfig(value: unknown, type: FieldType): string[] {
  const errs: string[] = [];
  walk(value, type, [], errs);
  return errs;
}

/** Joined as upstream's ValidationErrors print. */
export function formatValidationErrors(errs: string[]): string {
  return errs.length === 1 ? errs[0] : ['errors:', ...errs.map((e) => `  ${e}`)].join('\n');
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return `list ${JSON.stringify(v)}`;
  if (isObject(v)) return `map ${JSON.stringify(v)}`;
  return `${typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string'} ${JSON.stringify(v)}`;
}

function at(path: PathElement[], msg: string): string {
  return path.length ? `${formatPath(path)}: ${msg}` : msg;
}

function walk(v: unknown, t: FieldType, path: PathElement[], errs: string[]): void {
  if (v === null || v === undefined) return;
  if (t.kind === 'untyped') return;
  if (t.kind === 'scalar') {
    if (isObject(v) || Array.isArray(v)) {
      errs.push(at(path, `expected ${scalarName(t.scalar)}, got ${describe(v)}`));
      return;
    }
    const ok = t.scalar === 'any' || (t.scalar === 'string' && typeof v === 'string') || (t.scalar === 'numeric' && typeof v === 'number') || (t.scalar === 'boolean' && typeof v === 'boolean');
    if (!ok) errs.push(at(path, `expected ${scalarName(t.scalar)}, got ${describe(v)}`));
    return;
  }
  const m = asMapType(t, v);
  if (m) {
    if (!isObject(v)) {
      errs.push(at(path, `expected map, got ${describe(v)}`));
      return;
    }
    for (const k of Object.keys(v)) {
      const ct = childType(m, k);
      const p = [...path, fieldElement(k)];
      if (!ct) {
        errs.push(at(p, 'field not declared in schema'));
        continue;
      }
      walk(v[k], ct, p, errs);
    }
    return;
  }
  const l = asListType(t, v);
  if (l) {
    if (!Array.isArray(v)) {
      errs.push(at(path, `expected list, got ${describe(v)}`));
      return;
    }
    const seen = new Set<PathElement>();
    for (let i = 0; i < v.length; i++) {
      let pe: PathElement;
      try {
        pe = itemElement(l, v[i], i);
      } catch (e) {
        if (!(e instanceof ItemError)) throw e;
        errs.push(at(path, `element ${i}: ${e.message}`));
        continue;
      }
      if (l.listType !== 'atomic') {
        if (seen.has(pe)) errs.push(at(path, `duplicate entries for key ${formatPath([pe])}`));
        seen.add(pe);
      }
      walk(v[i], l.items, [...path, pe], errs);
    }
  }
}

function scalarName(s: string): string {
  return s === 'numeric' ? 'numeric (int or float)' : s === 'any' ? 'any scalar' : s;
}
