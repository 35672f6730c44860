// Which path element names an item of a list: its key fields in a map list, its value in a set,
// its index otherwise. Upstream names items this way in field sets, merges and error paths.

import { compareElements, indexElement, keyElement, valueElement, type PathElement } from '../fieldpath/path-element.ts';
import { isObject, type ListType } from './types.ts';

/** An item that cannot be named under its list type (upstream's messages). */
export class ItemError extends Error {}

export function itemElement(t: ListType, item: unknown, index: number): PathElement {
  if (t.listType === 'map' && t.keys && t.keys.length) {
    if (item === null || item === undefined) throw new ItemError('associative list with keys may not have a null element');
    if (!isObject(item)) throw new ItemError('associative list with keys may not have non-map elements');
    const fields: Array<[string, unknown]> = [];
    for (const k of t.keys) {
      if (k in item && item[k] !== undefined) fields.push([k, item[k]]);
      else if (t.keyDefaults && k in t.keyDefaults) fields.push([k, t.keyDefaults[k]]);
      else throw new ItemError(`associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`);
    }
    return keyElement(fields);
  }
  if (t.listType === 'set' || t.listType === 'map') {
    if (isObject(item)) throw new ItemError("associative list without keys has an element that's a map type");
    if (Array.isArray(item)) throw new ItemError('not supported: associative list with lists as elements');
    if (item === null || item === undefined) throw new ItemError("associative list without keys has an element that's an explicit null");
    return valueElement(item);
  }
  return indexElement(index);
}

/** Item elements of a list, or undefined for an item that cannot be named. */
export function itemElements(t: ListType, list: readonly unknown[]): Array<PathElement | undefined> {
  const out: Array<PathElement | undefined> = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    try {
      out[i] = itemElement(t, list[i], i);
    } catch (e) {
      if (!(e instanceof ItemError)) throw e;
      out[i] = undefined;
    }
  }
  return out;
}

/** Sorts path elements into upstream's order (in place). */
export function sortElements(pes: PathElement[]): PathElement[] {
  if (pes.length < 2) return pes;
  // A short list sorts in place by insertion (stable, as Array.prototype.sort): V8's sort copies
  // the array first, and creates sort a few short lists each.
  if (pes.length <= 16) {
    for (let i = 1; i < pes.length; i++) {
      const x = pes[i];
      let j = i - 1;
      for (; j >= 0 && compareElements(pes[j], x) > 0; j--) pes[j + 1] = pes[j];
      pes[j + 1] = x;
    }
    return pes;
  }
  // Field names compare as strings; list items need their decoded keys, so sort once with a comparator.
  return pes.sort(compareElements);
}
