// Strategic merge patch (application/strategic-merge-patch+json), the patch format kubectl
// apply/edit/label/scale/rollout use. Semantics follow upstream's strategicpatch package as the
// API server runs it: parallel deletion lists are merged and nulls for absent fields are ignored.
//
// Per-field metadata (x-kubernetes-patch-strategy / x-kubernetes-patch-merge-key) comes from a
// PatchSchema; without one, maps merge recursively and lists are replaced.

import { errors, StatusError } from '../errors.ts';
import { patchApplyFailed } from './json-patch.ts';
import { cloneJSON, copyFiltered } from '../json-values.ts';

export interface PatchMeta {
  /** 'merge' | 'replace' | 'retainKeys' | 'merge,retainKeys' */
  strategy?: string;
  mergeKey?: string;
}

export interface PatchSchema {
  /** Schema of a field's value (for lists: the element's schema; for maps: the value's schema), or undefined when unknown (then merge like a JSON merge patch / replace lists). */
  field(name: string): PatchSchema | undefined;
  /** Patch strategy and merge key of a list/map field, from x-kubernetes-patch-strategy / x-kubernetes-patch-merge-key. */
  meta(name: string): PatchMeta | undefined;
}

type Obj = Record<string, unknown>;

const directiveMarker = '$patch';
const retainKeysDirective = '$retainKeys';
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList';
const setElementOrderPrefix = '$setElementOrder';

// Upstream's mergepatch error texts.
const errBadPatchFormatForPrimitiveList = 'invalid patch format of primitive list';
const errBadPatchFormatForRetainKeys = 'invalid patch format of retainKeys';
const errBadPatchFormatForSetElementOrderList = 'invalid patch format of setElementOrder list';
const errNoListOfLists = 'lists of lists are not supported';

/** Upstream maps some failures to 400 and a few to a 422; everything else here is reported as 400. */
function badPatch(message: string): StatusError {
  return errors.badRequest(message);
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Renders a value the way Go's %v prints decoded JSON, for error messages (deep values cut short). */
function goFormat(v: unknown, depth = 0): string {
  if (v === null || v === undefined) return '<nil>';
  if (depth > 32 && typeof v === 'object') return '...';
  if (Array.isArray(v)) return `[${v.map((x) => goFormat(x, depth + 1)).join(' ')}]`;
  if (isObject(v))
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goFormat(v[k], depth + 1)}`)
      .join(' ')}]`;
  return String(v);
}

const errNoMergeKey = (m: Obj, key: string) => badPatch(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
const errBadPatchType = (t: unknown, m: Obj) => badPatch(`unknown patch type: ${goFormat(t)} in map: ${goFormat(m)}`);

/** Splits "merge,retainKeys" into the list strategy ('merge' | 'replace' | '') it carries. */
function listOrMapStrategy(meta: PatchMeta | undefined): string {
  if (!meta?.strategy) return '';
  const parts = meta.strategy.split(',').map((s) => s.trim()).filter(Boolean);
  const others = parts.filter((p) => p !== 'retainKeys');
  if (others.length > 1 || parts.length > 2) throw badPatch(`unexpected patch strategy: ${meta.strategy}`);
  return others[0] ?? '';
}

function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw badPatch(prefix === deleteFromPrimitiveListPrefix ? errBadPatchFormatForPrimitiveList : errBadPatchFormatForSetElementOrderList);
  }
  return key.slice(slash + 1);
}

function isPatchKeyword(k: string): boolean {
  return k === directiveMarker || k === retainKeysDirective || k.startsWith(`${setElementOrderPrefix}/`) || k.startsWith(`${deleteFromPrimitiveListPrefix}/`);
}

/**
 * A new value taken from the patch: nulls removed, and patch directives too (upstream drops maps
 * that carry `$patch` and relies on typed decoding to drop the other directive keys; we store raw
 * JSON, so those keys are removed here). Undefined when the value itself is such a map. Works at
 * any depth.
 */
function fromPatch(v: unknown): unknown {
  const carriesDirective = (o: Obj) => o[directiveMarker] !== undefined && o[directiveMarker] !== null;
  if (isObject(v) && carriesDirective(v)) return undefined;
  return copyFiltered(v, (k, x) => x !== null && !isPatchKeyword(k), carriesDirective);
}

/**
 * Applies a strategic merge patch to a copy of `original`. Errors are StatusErrors (400, or 422
 * for the cases upstream reports as unprocessable). Neither argument is modified, unless `owned`
 * says both are the caller's private copies (then no copies are made).
 */
export function applyStrategicMergePatch(original: any, patch: any, schema: PatchSchema | undefined, owned = false): any {
  if (!isObject(patch)) throw badPatch(`json: cannot unmarshal ${kindOf(patch) === 'null' ? 'null' : kindOf(patch)} into Go value of type map[string]interface {}`);
  const doc = isObject(original) ? (owned ? original : cloneJSON(original)) : {};
  return mergeMap(doc, owned ? patch : cloneJSON(patch), schema);
}

function mergeMap(original: Obj, patch: Obj, schema: PatchSchema | undefined): Obj {
  if (directiveMarker in patch) {
    const directive = patch[directiveMarker];
    if (directive === 'replace') {
      delete patch[directiveMarker];
      return fromPatch(patch) as Obj;
    }
    if (directive === 'delete') return {};
    throw errBadPatchType(directive, patch);
  }

  applyRetainKeys(original, patch);
  mergeSetElementOrder(original, patch, schema);

  for (let [key, pv] of Object.entries(patch)) {
    let isDeleteList = false;
    if (key.startsWith(deleteFromPrimitiveListPrefix)) {
      key = extractKey(key, deleteFromPrimitiveListPrefix);
      isDeleteList = true;
    }

    if (pv === null) {
      delete original[key];
      continue;
    }

    const has = Object.prototype.hasOwnProperty.call(original, key);
    const ov = original[key];
    if (!has || kindOf(ov) !== kindOf(pv)) {
      // New field, or the type changed: take the patch's value (a deletion list has nothing to delete from).
      if (!isDeleteList) {
        const v = fromPatch(pv);
        if (v === undefined) delete original[key];
        else original[key] = v;
      }
      continue;
    }

    const meta = schema?.meta(key);
    const strategy = listOrMapStrategy(meta);
    const sub = schema?.field(key);
    if (isObject(ov) && isObject(pv)) {
      original[key] = strategy === 'replace' ? fromPatch(pv) : mergeMap(ov, pv, sub);
    } else if (Array.isArray(ov) && Array.isArray(pv)) {
      original[key] = mergeSliceHandler(ov, pv, sub, strategy, meta?.mergeKey ?? '', isDeleteList);
    } else {
      original[key] = pv;
    }
  }
  return original;
}

/** `$retainKeys`: drop fields of original not listed; every field the patch sets must be listed. */
function applyRetainKeys(original: Obj, patch: Obj): void {
  if (!(retainKeysDirective in patch)) return;
  const list = patch[retainKeysDirective];
  delete patch[retainKeysDirective];
  if (!Array.isArray(list)) throw badPatch(errBadPatchFormatForRetainKeys);
  const keep = new Set(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(deleteFromPrimitiveListPrefix) || k.startsWith(setElementOrderPrefix)) continue;
    if (!keep.has(k)) throw badPatch(errBadPatchFormatForRetainKeys);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

function mergeSliceHandler(original: unknown[], patch: unknown[], elemSchema: PatchSchema | undefined, strategy: string, mergeKey: string, isDeleteList: boolean): unknown[] {
  if (strategy === 'merge') return mergeSlice(original, patch, elemSchema, mergeKey, isDeleteList);
  // Upstream would replace the list with the deletion list here; kubectl only sends deletion
  // lists for merge lists, so deleting is the safer reading.
  if (isDeleteList) return deleteFromSlice(original, patch);
  return fromPatch(patch) as unknown[];
}

/** The common kind of all elements: 'object' or a scalar kind. */
function sliceElementKind(...lists: unknown[][]): string | undefined {
  let kind: string | undefined;
  for (const l of lists) {
    for (const v of l) {
      const k = kindOf(v);
      if (kind === undefined) {
        if (k === 'array') throw patchApplyFailed(errNoListOfLists);
        kind = k;
      } else if (k !== kind) {
        throw badPatch(`list element types are not identical: ${lists.map(goFormat).join(' ')}`);
      }
    }
  }
  return kind;
}

function mergeSlice(original: unknown[], patch: unknown[], elemSchema: PatchSchema | undefined, mergeKey: string, isDeleteList: boolean): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind(original, patch)!;
  let merged: unknown[];
  if (kind !== 'object') {
    if (isDeleteList) return deleteFromSlice(original, patch);
    merged = dedupeScalars([...original, ...patch]);
    return normalizeElementOrder(partition(merged, patch, ''), patch, original, '');
  }
  if (!mergeKey) throw badPatch('cannot merge lists without merge key for type map');
  const special = mergeSliceWithSpecialElements(original as Obj[], patch as Obj[], mergeKey);
  original = special.original;
  const rest = special.patch;
  merged = [...original];
  for (const elem of rest) {
    if (!(mergeKey in elem)) throw errNoMergeKey(elem, mergeKey);
    const i = findByKey(merged, mergeKey, elem[mergeKey]);
    if (i >= 0) merged[i] = mergeMap(merged[i] as Obj, elem, elemSchema);
    else merged.push(fromPatch(elem));
  }
  return normalizeElementOrder(partition(merged, rest, mergeKey), rest, original, mergeKey);
}

/** Handles list elements carrying `$patch`: delete by merge key, or replace the whole list. */
function mergeSliceWithSpecialElements(original: Obj[], patch: Obj[], mergeKey: string): { original: unknown[]; patch: Obj[] } {
  const plain: Obj[] = [];
  let replace = false;
  let out: unknown[] = original;
  for (const elem of patch) {
    if (!isObject(elem)) throw badPatch(`value for key ${mergeKey} is not a map.`);
    if (!(directiveMarker in elem)) {
      plain.push(elem);
      continue;
    }
    const directive = elem[directiveMarker];
    if (directive === 'delete') {
      if (!(mergeKey in elem)) throw errNoMergeKey(elem, mergeKey);
      out = out.filter((o) => !(isObject(o) && Object.prototype.hasOwnProperty.call(o, mergeKey) && o[mergeKey] === elem[mergeKey]));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw badPatch('merging lists cannot yet be specified in the patch');
    } else {
      throw errBadPatchType(directive, elem);
    }
  }
  if (replace) return { original: plain.map((p) => fromPatch(p)), patch: [] };
  return { original: out, patch: plain };
}

function findByKey(list: unknown[], mergeKey: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (!isObject(v)) throw badPatch(`value for key ${i} is not a map.`);
    if (Object.prototype.hasOwnProperty.call(v, mergeKey) && v[mergeKey] === value) return i;
  }
  return -1;
}

function deleteFromSlice(current: unknown[], toDelete: unknown[]): unknown[] {
  const del = new Set(toDelete);
  return current.filter((v) => !del.has(v));
}

function dedupeScalars(list: unknown[]): unknown[] {
  return [...new Set(list)];
}

/** Identity used for ordering: the merge key's value for maps, the value itself for scalars. */
function identity(v: unknown, mergeKey: string): unknown {
  return mergeKey ? (isObject(v) ? v[mergeKey] : undefined) : v;
}

function indexIn(list: unknown[], v: unknown, mergeKey: string): number {
  const id = identity(v, mergeKey);
  return list.findIndex((x) => identity(x, mergeKey) === id);
}

interface Partitioned {
  patchItems: unknown[];
  serverOnly: unknown[];
}

/** Splits merged items into those named by `by` and those only on the server. */
function partition(merged: unknown[], by: unknown[], mergeKey: string): Partitioned {
  const patchItems: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of merged) {
    if (mergeKey) {
      if (!isObject(v)) throw badPatch(`value for key ${mergeKey} is not a map.`);
      if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey);
    }
    (indexIn(by, v, mergeKey) >= 0 ? patchItems : serverOnly).push(v);
  }
  return { patchItems, serverOnly };
}

/** Stable sort of `items` by their position in `order` (items not in `order` keep their place at the end). */
function sortByOrder(items: unknown[], order: unknown[], mergeKey: string): unknown[] {
  if (mergeKey) {
    for (const v of [...items, ...order]) {
      if (!isObject(v)) throw badPatch(`value for key ${mergeKey} is not a map.`);
      if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey);
    }
  }
  const keyed = items.map((v, i) => ({ v, i, at: indexIn(order, v, mergeKey) }));
  keyed.sort((a, b) => {
    const ai = a.at < 0 ? Infinity : a.at;
    const bi = b.at < 0 ? Infinity : b.at;
    return ai === bi ? a.i - b.i : ai - bi;
  });
  return keyed.map((k) => k.v);
}

/**
 * Orders a merged list: patch items by `patchOrder`, server-only items by the live order, then
 * interleaves them. A server-only item goes before a patch item only when both appear in the
 * live list and it came first there; otherwise patch items lead.
 */
function normalizeElementOrder(parts: Partitioned, patchOrder: unknown[], serverOrder: unknown[], mergeKey: string): unknown[] {
  const right = sortByOrder(parts.patchItems, patchOrder, mergeKey);
  const left = sortByOrder(parts.serverOnly, serverOrder, mergeKey);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey);
      const ri = indexIn(serverOrder, right[j], mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** Checks the patch list is a subsequence of the `$setElementOrder` list (ignoring deletions). */
function validatePatchWithSetOrderList(patchList: unknown[], setOrder: unknown[], mergeKey: string): void {
  if (setOrder.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? patchList.filter((v) => !(isObject(v) && v[directiveMarker] === 'delete')) : patchList;
  let pi = 0;
  let si = 0;
  while (pi < nonDelete.length && si < setOrder.length) {
    const p = nonDelete[pi];
    if (isObject(p) && directiveMarker in p) {
      pi++;
      continue;
    }
    if (mergeKey) {
      const s = setOrder[si];
      if (!isObject(p)) throw badPatch(`value for key ${mergeKey} is not a map.`);
      if (!isObject(s)) throw badPatch(errBadPatchFormatForSetElementOrderList);
      if (!(mergeKey in p)) throw errNoMergeKey(p, mergeKey);
      if (!(mergeKey in s)) throw errNoMergeKey(s, mergeKey);
      if (p[mergeKey] === s[mergeKey]) pi++;
    } else if (p === setOrder[si]) pi++;
    si++;
  }
  if (pi < nonDelete.length && si >= setOrder.length) {
    throw badPatch(`The order in patch list:\n${goFormat(patchList)}\n doesn't match ${setElementOrderPrefix} list:\n${goFormat(setOrder)}\n`);
  }
}

/**
 * `$setElementOrder/<field>`: merges the field's patch list (if any) into the live list and
 * orders the result by the directive's list, keeping server-only items near their live position.
 * Processed fields are removed from the patch.
 */
function mergeSetElementOrder(original: Obj, patch: Obj, schema: PatchSchema | undefined): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(setElementOrderPrefix)) continue;
    const setOrder = patch[key];
    delete patch[key];
    if (!Array.isArray(setOrder)) throw badPatch(errBadPatchFormatForSetElementOrderList);
    const field = extractKey(key, setElementOrderPrefix);
    const hasOriginal = Object.prototype.hasOwnProperty.call(original, field) && original[field] !== null;
    const hasPatch = Object.prototype.hasOwnProperty.call(patch, field) && patch[field] !== null;
    const origList = hasOriginal ? original[field] : [];
    const patchList = hasPatch ? patch[field] : [];
    if (!Array.isArray(origList) || !Array.isArray(patchList)) throw badPatch(errBadPatchFormatForSetElementOrderList);
    const meta = schema?.meta(field);
    const strategy = listOrMapStrategy(meta);
    const mergeKey = meta?.mergeKey ?? '';
    validatePatchWithSetOrderList(patchList, setOrder, mergeKey);

    let merged: unknown[];
    if (hasOriginal && hasPatch) merged = mergeSliceHandler(origList, patchList, schema?.field(field), strategy, mergeKey, false);
    else if (hasPatch) merged = mergeSliceHandler([], patchList, schema?.field(field), strategy, mergeKey, false);
    else if (hasOriginal) merged = origList;
    else continue;

    if (merged.length > 0) {
      const kind = sliceElementKind(merged);
      const key = kind === 'object' ? mergeKey : '';
      merged = normalizeElementOrder(partition(merged, setOrder, key), setOrder, origList, key);
    }
    original[field] = merged;
    delete patch[field];
  }
}
