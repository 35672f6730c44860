// What changed between two objects, as three field sets (upstream's TypedValue.Compare): paths
// added, modified and removed. An update's manager owns what it added or modified; other
// managers lose what was removed (and, on apply, conflict on what changed under them).
//
// Like upstream, a map or list that appears or disappears is itself in the set (that is the `.`
// of update entries), both sides are read as upstream's Go structs would hold them (the type's
// zero fields present), and subtrees named by `ignore` (reset fields) are not looked at.

import { deepEqual } from './equal.ts';
import { fieldElement, type PathElement } from '../fieldpath/path-element.ts';
import { LEAF, SELF, emptyFieldSet, type FieldSet } from '../fieldpath/set.ts';
import { itemElements, sortElements } from './items.ts';
import { asListType, asMapType, childType, isObject, type FieldType, type ListType, type MapType } from './types.ts';

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** Compares two objects of `type` (lhs: before, rhs: after); `ignore` names subtrees to skip. */
export function compare(lhs: unknown, rhs: unknown, type: FieldType, ignore?: FieldSet): Comparison {
  const n = cmp(lhs, rhs, type, ignore);
  return { added: n.a ?? emptyFieldSet(), modified: n.m ?? emptyFieldSet(), removed: n.r ?? emptyFieldSet() };
}

/** This path's node in each of the three sets. */
interface Nodes {
  a?: FieldSet;
  m?: FieldSet;
  r?: FieldSet;
}

const none: Nodes = {};
const leafAdded: Nodes = { a: LEAF };
const leafRemoved: Nodes = { r: LEAF };
const leafModified: Nodes = { m: LEAF };

type Shape = 'map' | 'list' | 'leaf';

function shapeOf(t: FieldType, v: unknown): Shape {
  if (t.kind === 'map') return 'map';
  if (t.kind === 'list') return 'list';
  if (t.kind === 'untyped') return isObject(v) ? (t.atomic ? 'leaf' : 'map') : 'leaf';
  return 'leaf';
}

function leaf(l: unknown, r: unknown): Nodes {
  if (l === undefined) return leafAdded;
  if (r === undefined) return leafRemoved;
  return deepEqual(l, r) ? none : leafModified;
}

/** Keys of an object as a Go struct would hold them: its own plus the type's zero fields. */
function keysOf(v: Record<string, unknown> | undefined, m: MapType): string[] {
  if (!v) return [];
  const keys = Object.keys(v);
  if (m.zero) for (const [name] of m.zero) if (!(name in v)) keys.push(name);
  return keys;
}

/**
 * Sorts object keys in place as `keys.sort()` does (UTF-16 code units): by insertion when short,
 * since V8's sort copies the array first and a create sorts the keys of every object it holds.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 32) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const x = keys[i];
    let j = i - 1;
    for (; j >= 0 && keys[j] > x; j--) keys[j + 1] = keys[j];
    keys[j + 1] = x;
  }
}

function isZeroField(m: MapType, key: string): boolean {
  if (m.zero) for (const [name] of m.zero) if (name === key) return true;
  return false;
}

/** A key's value, with the type's zero value for a missing zero field. */
function valueAt(v: Record<string, unknown> | undefined, key: string, m: MapType): unknown {
  if (!v) return undefined;
  if (key in v) return v[key];
  if (m.zero) for (const [name, z] of m.zero) if (name === key) return z === 'object' ? {} : null;
  return undefined;
}

function isMemberNode(n: FieldSet): boolean {
  if (SELF in n) return true;
  for (const _ in n) return false;
  return true;
}

function cmp(l: unknown, r: unknown, t: FieldType, ign: FieldSet | undefined): Nodes {
  if (l === undefined && r === undefined) return none;
  const sl = l === undefined ? undefined : shapeOf(t, l);
  const sr = r === undefined ? undefined : shapeOf(t, r);
  const shape = sl ?? sr!;
  if (sl && sr && sl !== sr) return leaf(l, r);
  if (shape === 'map') {
    const m = asMapType(t, l ?? r)!;
    if (m.atomic) return leaf(l, r);
    const lm = isObject(l) ? l : undefined;
    const rm = isObject(r) ? r : undefined;
    const lk = keysOf(lm, m);
    const rk = keysOf(rm, m);
    if (lk.length === 0 && rk.length === 0) return leaf(l, r);
    if (l === undefined) return { a: allOf(r, t, ign) };
    if (r === undefined) return { r: allOf(l, t, ign) };
    return visitMap(lm, rm, lk, rk, m, ign);
  }
  if (shape === 'list') {
    const lt = asListType(t, l ?? r)!;
    if (lt.listType === 'atomic') return leaf(l, r);
    const ll = Array.isArray(l) ? l : undefined;
    const rl = Array.isArray(r) ? r : undefined;
    if (!ll?.length && !rl?.length) return leaf(l, r);
    if (l === undefined) return { a: allOf(r, t, ign) };
    if (r === undefined) return { r: allOf(l, t, ign) };
    return visitList(ll ?? [], rl ?? [], lt, ign);
  }
  return leaf(l, r);
}

function visitMap(l: Record<string, unknown> | undefined, r: Record<string, unknown> | undefined, lk: string[], rk: string[], m: MapType, ign: FieldSet | undefined): Nodes {
  // Output keys are sorted at the end, and only those that changed: most of an update is equal.
  const out: Out = { ak: [], an: [], mk: [], mn: [], rk: [], rn: [] };
  for (const k of lk) visitKey(l, r, k, m, ign, out);
  for (const k of rk) if (!(l && (k in l || isZeroField(m, k)))) visitKey(l, r, k, m, ign, out);
  return { a: sortedNode(out.ak, out.an), m: sortedNode(out.mk, out.mn), r: sortedNode(out.rk, out.rn) };
}

interface Out {
  ak: string[];
  an: FieldSet[];
  mk: string[];
  mn: FieldSet[];
  rk: string[];
  rn: FieldSet[];
}

function visitKey(l: Record<string, unknown> | undefined, r: Record<string, unknown> | undefined, k: string, m: MapType, ign: FieldSet | undefined, out: Out): void {
  const pe = fieldElement(k);
  const ci = ign?.[pe];
  if (ci && isMemberNode(ci)) return;
  const ct = childType(m, k);
  if (!ct) return;
  const n = cmp(valueAt(l, k, m), valueAt(r, k, m), ct, ci);
  if (n === none) return;
  if (n.a) out.ak.push(pe), out.an.push(n.a);
  if (n.m) out.mk.push(pe), out.mn.push(n.m);
  if (n.r) out.rk.push(pe), out.rn.push(n.r);
}

/** A node of children (field elements) in upstream's order; undefined when there are none. */
function sortedNode(keys: string[], nodes: FieldSet[]): FieldSet | undefined {
  const n = keys.length;
  if (n === 0) return undefined;
  if (n > 16) {
    const order = keys.map((_, i) => i).sort((x, y) => (keys[x] < keys[y] ? -1 : keys[x] > keys[y] ? 1 : 0));
    const big: FieldSet = {};
    for (const i of order) big[keys[i]] = nodes[i];
    return big;
  }
  // Insertion sort of the (few) changed keys, keeping their nodes alongside.
  for (let i = 1; i < n; i++) {
    const k = keys[i];
    const v = nodes[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j];
      nodes[j + 1] = nodes[j];
      j--;
    }
    keys[j + 1] = k;
    nodes[j + 1] = v;
  }
  const out: FieldSet = {};
  for (let i = 0; i < n; i++) out[keys[i]] = nodes[i];
  return out;
}

function visitList(l: readonly unknown[], r: readonly unknown[], t: ListType, ign: FieldSet | undefined): Nodes {
  // Items by path element; a key that appears more than once is compared as a whole, as upstream.
  const lpe = itemElements(t, l);
  const rpe = itemElements(t, r);
  const lv = new Map<PathElement, unknown[]>();
  const rv = new Map<PathElement, unknown[]>();
  const order: PathElement[] = [];
  for (let i = 0; i < l.length; i++) {
    const pe = lpe[i];
    if (pe === undefined) continue;
    const got = lv.get(pe);
    if (got) got.push(l[i]);
    else {
      lv.set(pe, [l[i]]);
      order.push(pe);
    }
  }
  for (let i = 0; i < r.length; i++) {
    const pe = rpe[i];
    if (pe === undefined) continue;
    const got = rv.get(pe);
    if (got) got.push(r[i]);
    else {
      rv.set(pe, [r[i]]);
      if (!lv.has(pe)) order.push(pe);
    }
  }
  sortElements(order);
  let a: FieldSet | undefined;
  let mo: FieldSet | undefined;
  let re: FieldSet | undefined;
  for (const pe of order) {
    const li = lv.get(pe) ?? [];
    const ri = rv.get(pe) ?? [];
    const ci = ign?.[pe];
    if (ci && isMemberNode(ci)) continue;
    if (li.length <= 1 && ri.length <= 1) {
      const n = cmp(li[0], ri[0], t.items, ci);
      if (n.a) (a ??= {})[pe] = n.a;
      if (n.m) (mo ??= {})[pe] = n.m;
      if (n.r) (re ??= {})[pe] = n.r;
    } else if (li.length >= 2 && ri.length >= 2) {
      if (!deepEqual(li, ri)) (mo ??= {})[pe] = LEAF;
    } else if (li.length >= 2) {
      if (ri.length) {
        const n = cmp(undefined, ri[0], t.items, ci);
        if (n.a) (a ??= {})[pe] = n.a;
      }
      (re ??= {})[pe] = LEAF;
    } else {
      if (li.length) {
        const n = cmp(li[0], undefined, t.items, ci);
        if (n.r) (re ??= {})[pe] = n.r;
      }
      (a ??= {})[pe] = LEAF;
    }
  }
  return { a, m: mo, r: re };
}

/**
 * Every path of a value that is only on one side (all added, or all removed): the value itself
 * and, when the type walks into it, everything below. The hot path of a create.
 */
export function allOf(v: unknown, t: FieldType, ign: FieldSet | undefined): FieldSet {
  const shape = shapeOf(t, v);
  if (shape === 'map') {
    const m = asMapType(t, v)!;
    if (m.atomic) return LEAF;
    const obj = isObject(v) ? v : undefined;
    const keys = keysOf(obj, m);
    if (keys.length === 0) return LEAF;
    sortKeys(keys);
    const out: FieldSet = { [SELF]: LEAF };
    for (const k of keys) {
      const pe = fieldElement(k);
      const ci = ign?.[pe];
      if (ci && isMemberNode(ci)) continue;
      const ct = childType(m, k);
      if (!ct) continue;
      out[pe] = allOf(valueAt(obj, k, m), ct, ci);
    }
    return Object.keys(out).length > 1 ? out : LEAF;
  }
  if (shape === 'list') {
    const lt = asListType(t, v)!;
    if (lt.listType === 'atomic' || !Array.isArray(v) || v.length === 0) return LEAF;
    const pes = itemElements(lt, v);
    const seen = new Map<PathElement, number>();
    const order: PathElement[] = [];
    for (let i = 0; i < v.length; i++) {
      const pe = pes[i];
      if (pe === undefined) continue;
      const n = seen.get(pe);
      if (n === undefined) {
        seen.set(pe, i);
        order.push(pe);
      } else seen.set(pe, -1);
    }
    sortElements(order);
    const out: FieldSet = { [SELF]: LEAF };
    for (const pe of order) {
      const i = seen.get(pe)!;
      out[pe] = i < 0 ? LEAF : allOf(v[i], lt.items, ign?.[pe]);
    }
    return out;
  }
  return LEAF;
}

/**
 * What a create sets (upstream: the update from the kind's zero value), in one walk: the same as
 * compare({}, obj) with its added and modified sets united, since an object compared with its
 * zero value removes nothing. Struct fields Go always holds (`spec`, `template`, ...) are compared
 * as present, everything else as added.
 */
export function createdFields(obj: unknown, type: FieldType, ignore?: FieldSet): FieldSet {
  return createdNode(obj, type, ignore) ?? emptyFieldSet();
}

function createdNode(v: unknown, t: FieldType, ign: FieldSet | undefined): FieldSet | undefined {
  const shape = shapeOf(t, v);
  if (shape === 'map') {
    const m = asMapType(t, v)!;
    if (m.atomic) return v === undefined || v === null ? undefined : LEAF;
    if (!isObject(v)) return undefined;
    const keys = Object.keys(v);
    if (keys.length === 0) return undefined;
    sortKeys(keys);
    let out: FieldSet | undefined;
    for (const k of keys) {
      const pe = fieldElement(k);
      const ci = ign?.[pe];
      if (ci && isMemberNode(ci)) continue;
      const ct = childType(m, k);
      if (!ct) continue;
      const c = isZeroField(m, k) ? createdNode(v[k], ct, ci) : allOf(v[k], ct, ci);
      if (c) (out ??= {})[pe] = c;
    }
    return out;
  }
  if (shape === 'list') {
    // A zero list is null: an empty one differs (a leaf), a full one adds its items.
    const lt = asListType(t, v)!;
    if (!Array.isArray(v)) return undefined;
    if (lt.listType === 'atomic' || v.length === 0) return LEAF;
    const all = allOf(v, t, ign);
    const { [SELF]: _self, ...items } = all;
    return items;
  }
  return v === undefined || v === null ? undefined : LEAF;
}
