// The fields a value sets (upstream's TypedValue.ToFieldSet): every leaf, every atomic list or
// map, every list item, and every map key that is not a declared struct field. This is what an
// apply configuration claims; prune also uses it on whole objects.

import { fieldElement, type PathElement } from '../fieldpath/path-element.ts';
import { LEAF, SELF, emptyFieldSet, type FieldSet } from '../fieldpath/set.ts';
import { itemElement, ItemError, sortElements } from './items.ts';
import { asListType, asMapType, childType, isDeclaredField, type FieldType } from './types.ts';

export function toFieldSet(value: unknown, type: FieldType): FieldSet {
  return collect(value, type) ?? emptyFieldSet();
}

const memberLeaf = (): FieldSet => LEAF;

/** The node for one value: `{}` when the value itself is a member leaf, its children otherwise. */
function collect(v: unknown, t: FieldType): FieldSet | undefined {
  const m = asMapType(t, v);
  if (m) {
    if (m.atomic) return memberLeaf();
    if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) return undefined;
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 0) return undefined;
    keys.sort();
    let out: FieldSet | undefined;
    for (const k of keys) {
      const ct = childType(m, k);
      if (!ct) continue;
      let c = collect(obj[k], ct);
      // Keys of a plain map (not declared fields) are members themselves.
      if (!isDeclaredField(m, k)) c = withSelf(c);
      if (c) (out ??= {})[fieldElement(k)] = c;
    }
    return out;
  }
  const l = asListType(t, v);
  if (l) {
    if (l.listType === 'atomic') return memberLeaf();
    if (!Array.isArray(v) || v.length === 0) return undefined;
    const entries: Array<[PathElement, FieldSet]> = [];
    const seen = new Set<PathElement>();
    for (let i = 0; i < v.length; i++) {
      let pe: PathElement;
      try {
        pe = itemElement(l, v[i], i);
      } catch (e) {
        if (e instanceof ItemError) continue;
        throw e;
      }
      if (seen.has(pe)) continue;
      seen.add(pe);
      entries.push([pe, withSelf(collect(v[i], l.items))]);
    }
    if (!entries.length) return undefined;
    const order = sortElements(entries.map((e) => e[0]));
    const byPe = new Map(entries);
    const out: FieldSet = {};
    for (const pe of order) out[pe] = byPe.get(pe)!;
    return out;
  }
  // Scalars and anything the type does not walk into are leaves.
  return memberLeaf();
}

/** Marks a node as a member itself. */
function withSelf(n: FieldSet | undefined): FieldSet {
  if (!n) return LEAF;
  if (SELF in n) return n;
  let empty = true;
  for (const _ in n) {
    empty = false;
    break;
  }
  if (empty) return n;
  return { [SELF]: LEAF, ...n };
}

/**
 * The set with every declared struct field on the way to a member made a member too (upstream's
 * EnsureNamedFieldsAreMembers): `spec.replicas` also claims `spec`, and `metadata.labels.app`
 * claims `metadata.labels` (a declared field of ObjectMeta), but never a map key or a list item.
 * Prune uses it so that a struct emptied by a removal goes with it.
 */
export function ensureNamedFieldsAreMembers(s: FieldSet, t: FieldType): FieldSet {
  return ensureNode(s, t, true) ?? emptyFieldSet();
}

function ensureNode(n: FieldSet, t: FieldType | undefined, root: boolean): FieldSet | undefined {
  const keys = Object.keys(n);
  if (keys.length === 0) return n;
  let out: FieldSet | undefined;
  let changed = false;
  const m = t && t.kind === 'map' ? t : undefined;
  const l = t && t.kind === 'list' ? t : undefined;
  for (const k of keys) {
    if (k === SELF) continue;
    let c = n[k];
    let ct: FieldType | undefined;
    let named = false;
    if (k.startsWith('f:') && m) {
      const name = k.slice(2);
      named = isDeclaredField(m, name);
      ct = childType(m, name);
    } else if (k.startsWith('k:') && l) {
      ct = l.items;
    }
    if (ct && hasChildren(c)) {
      const e = ensureNode(c, ct, false);
      if (e !== c) {
        c = e!;
        changed = true;
      }
    }
    if (named && !(SELF in c) && hasChildren(c)) {
      c = { [SELF]: LEAF, ...c };
      changed = true;
    }
    (out ??= root || !(SELF in n) ? {} : { [SELF]: LEAF })[k] = c;
  }
  return changed ? out : n;
}

function hasChildren(n: FieldSet): boolean {
  for (const k in n) if (k !== SELF) return true;
  return false;
}
