// Removing the fields of a set from a value (upstream's TypedValue.RemoveItems): a member path
// goes with everything below it; a map or list that ends up empty goes too.

import { fieldElement } from '../fieldpath/path-element.ts';
import { SELF, type FieldSet } from '../fieldpath/set.ts';
import { itemElements } from './items.ts';
import { asListType, asMapType, childType, isObject, type FieldType } from './types.ts';

export function removeItems(value: unknown, set: FieldSet, type: FieldType): unknown {
  for (const _ in set) return removeFrom(value, set, type);
  return value;
}

function isMember(n: FieldSet): boolean {
  if (SELF in n) return true;
  for (const _ in n) return false;
  return true;
}

function hasChildren(n: FieldSet): boolean {
  for (const k in n) if (k !== SELF) return true;
  return false;
}

/** `value` without the paths of `set` (relative to it); undefined when nothing is left. */
function removeFrom(value: unknown, set: FieldSet, t: FieldType): unknown {
  const m = asMapType(t, value);
  if (m) {
    if (m.atomic || !isObject(value)) return undefined;
    const out: Record<string, unknown> = {};
    let kept = 0;
    for (const k of Object.keys(value)) {
      const sub = set[fieldElement(k)];
      let v = value[k];
      if (sub) {
        if (isMember(sub)) continue;
        const ct = childType(m, k);
        if (ct && hasChildren(sub)) v = removeFrom(v, sub, ct);
        if (v === undefined) continue;
      }
      out[k] = v;
      kept++;
    }
    return kept ? out : undefined;
  }
  const l = asListType(t, value);
  if (l) {
    if (l.listType === 'atomic' || !Array.isArray(value) || value.length === 0) return undefined;
    const pes = itemElements(l, value);
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const pe = pes[i];
      const sub = pe === undefined ? undefined : set[pe];
      let v = value[i];
      if (sub) {
        if (isMember(sub)) continue;
        if (hasChildren(sub)) v = removeFrom(v, sub, l.items);
        if (v === undefined) continue;
      }
      out.push(v);
    }
    return out.length ? out : undefined;
  }
  return value;
}
