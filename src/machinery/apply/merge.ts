// Merging an apply configuration into the live object (upstream's TypedValue.Merge): the
// configuration's values win at every leaf; maps merge key by key, map lists item by item (by
// key fields) and sets by value; atomic lists and maps are replaced whole. An explicit null in the
// configuration removes the field, as decoding into a Go struct drops it.
//
// The result shares unchanged subtrees of `live` (the caller's private copy) and copies
// everything it takes from the configuration.

import type { PathElement } from '../fieldpath/path-element.ts';
import { itemElements } from './items.ts';
import { asListType, asMapType, childType, isObject, type FieldType, type ListType, type MapType } from './types.ts';

export function merge(live: unknown, config: unknown, type: FieldType): unknown {
  return mergeValue(live, config, type);
}

/** A configuration value as it will be stored: a copy without nulls in its objects. */
function fromConfig(v: unknown): unknown {
  if (v === null) return undefined;
  if (Array.isArray(v)) return v.map((x) => (x === null ? null : fromConfig(x)));
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      const c = fromConfig(v[k]);
      if (c !== undefined) out[k] = c;
    }
    return out;
  }
  return v;
}

function keepConfig(l: unknown, r: unknown): unknown {
  return r !== undefined ? fromConfig(r) : l;
}

type Shape = 'map' | 'list' | 'leaf';

function shapeOf(t: FieldType, v: unknown): Shape {
  if (t.kind === 'map') return 'map';
  if (t.kind === 'list') return 'list';
  if (t.kind === 'untyped') return isObject(v) && !t.atomic ? 'map' : 'leaf';
  return 'leaf';
}

function mergeValue(l: unknown, r: unknown, t: FieldType): unknown {
  // One side only: the live value as it is, or the configuration's as it will be stored.
  if (r === undefined) return l;
  if (l === undefined) return fromConfig(r);
  const sl = l === undefined ? undefined : shapeOf(t, l);
  const sr = r === undefined ? undefined : shapeOf(t, r);
  if (sl && sr && sl !== sr) return keepConfig(l, r);
  const shape = sl ?? sr!;
  if (shape === 'map') {
    const m = asMapType(t, l ?? r)!;
    const lm = isObject(l) ? l : undefined;
    const rm = isObject(r) ? r : undefined;
    const empty = (!lm || isEmptyObject(lm)) && (!rm || isEmptyObject(rm));
    if (m.atomic || empty || (!lm && !rm)) return keepConfig(l, r);
    return mergeMap(lm, rm, m);
  }
  if (shape === 'list') {
    const lt = asListType(t, l ?? r)!;
    const ll = Array.isArray(l) ? l : undefined;
    const rl = Array.isArray(r) ? r : undefined;
    if (lt.listType === 'atomic' || (!ll?.length && !rl?.length)) return keepConfig(l, r);
    return mergeList(ll ?? [], rl ?? [], lt);
  }
  return keepConfig(l, r);
}

function isEmptyObject(o: Record<string, unknown>): boolean {
  for (const _ in o) return false;
  return true;
}

function mergeMap(l: Record<string, unknown> | undefined, r: Record<string, unknown> | undefined, m: MapType): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (l)
    for (const k of Object.keys(l)) {
      const ct = childType(m, k);
      const v = ct ? mergeValue(l[k], r?.[k], ct) : r && k in r ? fromConfig(r[k]) : l[k];
      if (v !== undefined) out[k] = v;
    }
  if (r)
    for (const k of Object.keys(r)) {
      if (l && k in l) continue;
      const ct = childType(m, k);
      const v = ct ? mergeValue(undefined, r[k], ct) : fromConfig(r[k]);
      if (v !== undefined) out[k] = v;
    }
  return out;
}

/**
 * Items of both lists by their path elements, in upstream's order: the live list's order, with
 * the configuration's items placed where the configuration puts them relative to the items both
 * have, and its new items after the shared item they follow.
 */
function mergeList(l: readonly unknown[], r: readonly unknown[], t: ListType): unknown[] {
  const rpe = itemElements(t, r);
  const lpe = itemElements(t, l);
  const rhsOrder: PathElement[] = [];
  const observedRHS = new Map<PathElement, unknown>();
  for (let i = 0; i < r.length; i++) {
    const pe = rpe[i];
    if (pe === undefined || observedRHS.has(pe)) continue; // refused by validation before
    observedRHS.set(pe, r[i]);
    rhsOrder.push(pe);
  }
  // Live items by element; duplicates (the live object may hold them) stay where they are unless
  // the configuration names that key, which then replaces them all.
  const lhsOrder: PathElement[] = [];
  const observedLHS = new Map<PathElement, unknown>();
  const dupes = new Map<PathElement, unknown[]>();
  const unnamed: Array<[number, unknown]> = [];
  for (let i = 0; i < l.length; i++) {
    const pe = lpe[i];
    if (pe === undefined) {
      unnamed.push([i, l[i]]);
      continue;
    }
    if (observedLHS.has(pe)) {
      const d = dupes.get(pe) ?? [observedLHS.get(pe)];
      d.push(l[i]);
      dupes.set(pe, d);
      continue;
    }
    observedLHS.set(pe, l[i]);
    lhsOrder.push(pe);
  }
  const shared = rhsOrder.filter((pe) => observedLHS.has(pe));
  let sharedAt = 0;
  let nextShared: PathElement | undefined = shared[sharedAt++];
  const advanceShared = () => {
    nextShared = shared[sharedAt++];
  };
  const out: unknown[] = [];
  const emit = (pe: PathElement, lv: unknown, rv: unknown) => {
    const d = dupes.get(pe);
    if (d && rv === undefined) {
      out.push(...d);
      return;
    }
    const v = mergeValue(d ? undefined : lv, rv, t.items);
    if (v !== undefined) out.push(v);
  };
  const merged = new Set<PathElement>();
  let lI = 0;
  let rI = 0;
  while (lI < lhsOrder.length || rI < rhsOrder.length) {
    if (lI < lhsOrder.length && rI < rhsOrder.length) {
      const pe = lhsOrder[lI];
      if (pe === rhsOrder[rI]) {
        merged.add(pe);
        emit(pe, observedLHS.get(pe), observedRHS.get(pe));
        lI++;
        rI++;
        advanceShared();
        continue;
      }
      if (observedRHS.has(pe) && nextShared !== undefined && nextShared !== pe) {
        // A shared item, but not the one the configuration puts next: it comes later.
        lI++;
        continue;
      }
    }
    if (lI < lhsOrder.length) {
      const pe = lhsOrder[lI];
      if (!observedRHS.has(pe)) {
        emit(pe, observedLHS.get(pe), undefined);
        lI++;
        continue;
      }
      if (merged.has(pe)) {
        lI++;
        continue;
      }
    }
    if (rI < rhsOrder.length) {
      const pe = rhsOrder[rI];
      merged.add(pe);
      emit(pe, observedLHS.get(pe), observedRHS.get(pe));
      rI++;
      if (nextShared === pe) advanceShared();
    }
  }
  // Items that cannot be named (refused in configurations; only a broken live object has them).
  for (const [, v] of unnamed) out.push(v);
  return out;
}
