// RFC 6902 JSON Patch with the behaviour of the library upstream's API server uses
// (evanphx/json-patch v4): its error texts, negative array indexes, and `replace` on a missing
// object key acting like `add`. Failures to apply are 422 Invalid with upstream's generic message.

import { errors, StatusError } from '../errors.ts';
import { cloneJSON, jsonEqual } from '../json-values.ts';

/** Upstream's cap on the number of operations in one JSON patch. */
export const maxJSONPatchOperations = 10000;

type Container = Record<string, unknown> | unknown[];

class PatchApplyError extends Error {}

/** 422 with upstream's generic text; the library's message is carried as the cause. */
export function patchApplyFailed(message: string): StatusError {
  return new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ reason: 'UnexpectedServerResponse', message }],
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeKey(k: string): string {
  return k.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The container holding the last path segment, and that segment; undefined when a parent is missing. */
function findParent(doc: unknown, path: string): [Container, string] | undefined {
  const split = path.split('/');
  if (split.length < 2 || split[0] !== '') return undefined;
  let cur: unknown = doc;
  for (const raw of split.slice(1, -1)) {
    const next = getChild(cur, decodeKey(raw));
    if (next === undefined || next === null || typeof next !== 'object') return undefined;
    cur = next;
  }
  if (cur === null || typeof cur !== 'object') return undefined;
  return [cur as Container, decodeKey(split[split.length - 1])];
}

function getChild(c: unknown, key: string): unknown {
  if (Array.isArray(c)) {
    const i = arrayIndex(key, c.length);
    return i === undefined || i < 0 || i >= c.length ? undefined : c[i];
  }
  if (isObject(c)) return Object.prototype.hasOwnProperty.call(c, key) ? c[key] : undefined;
  return undefined;
}

/** Parses an array index, resolving negative indexes from the end; undefined if not an integer. */
function arrayIndex(key: string, len: number): number | undefined {
  if (!/^-?[0-9]+$/.test(key)) return undefined;
  const i = Number(key);
  return i < 0 ? i + len : i;
}

function indexOrThrow(key: string, len: number, allowEnd: boolean): number {
  if (!/^-?[0-9]+$/.test(key)) throw new PatchApplyError(`value was not a proper array index: '${key}': strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`);
  const raw = Number(key);
  if (raw < -len) throw new PatchApplyError(`Unable to access invalid index: ${raw}: invalid index referenced`);
  const i = raw < 0 ? raw + len : raw;
  if (i > len || (!allowEnd && i === len)) throw new PatchApplyError(`Unable to access invalid index: ${raw}: invalid index referenced`);
  return i;
}

function addTo(c: Container, key: string, value: unknown): void {
  if (Array.isArray(c)) {
    if (key === '-') c.push(value);
    else c.splice(indexOrThrow(key, c.length, true), 0, value);
  } else c[key] = value;
}

function removeFrom(c: Container, key: string): unknown {
  if (Array.isArray(c)) {
    const i = indexOrThrow(key, c.length, false);
    return c.splice(i, 1)[0];
  }
  if (!Object.prototype.hasOwnProperty.call(c, key)) throw new PatchApplyError(`Unable to remove nonexistent key: ${key}: missing value`);
  const v = c[key];
  delete c[key];
  return v;
}

function getFrom(c: Container, key: string): unknown {
  if (Array.isArray(c)) return c[indexOrThrow(key, c.length, false)];
  return Object.prototype.hasOwnProperty.call(c, key) ? c[key] : undefined;
}

function setIn(c: Container, key: string, value: unknown): void {
  if (Array.isArray(c)) c[indexOrThrow(key, c.length, false)] = value;
  else c[key] = value;
}

function stringField(op: Record<string, unknown>, name: string, kind: string): string {
  const v = op[name];
  if (typeof v !== 'string') throw new PatchApplyError(name === 'from' ? `${kind} operation missing from field: missing value` : `operation missing path field: missing value`);
  return v;
}

function applyOne(doc: unknown, op: Record<string, unknown>): void {
  const kind = typeof op.op === 'string' ? op.op : 'unknown';
  const value = op.value === undefined ? null : cloneJSON(op.value);
  switch (kind) {
    case 'add': {
      const path = stringField(op, 'path', kind);
      const found = findParent(doc, path);
      if (!found) throw new PatchApplyError(`add operation does not apply: doc is missing path: "${path}": missing value`);
      wrap(() => addTo(found[0], found[1], value), `error in add for path: '${path}'`);
      return;
    }
    case 'remove': {
      const path = stringField(op, 'path', kind);
      const found = findParent(doc, path);
      if (!found) throw new PatchApplyError(`remove operation does not apply: doc is missing path: "${path}": missing value`);
      wrap(() => removeFrom(found[0], found[1]), `error in remove for path: '${path}'`);
      return;
    }
    case 'replace': {
      const path = stringField(op, 'path', kind);
      const found = findParent(doc, path);
      if (!found) throw new PatchApplyError(`replace operation does not apply: doc is missing path: ${path}: missing value`);
      const [c, key] = found;
      if (Array.isArray(c) && (arrayIndex(key, c.length) === undefined || arrayIndex(key, c.length)! >= c.length || arrayIndex(key, c.length)! < 0))
        throw new PatchApplyError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
      wrap(() => setIn(c, key, value), `error in remove for path: '${path}'`);
      return;
    }
    case 'move':
    case 'copy': {
      const from = stringField(op, 'from', kind);
      const path = stringField(op, 'path', kind);
      const src = findParent(doc, from);
      if (!src) throw new PatchApplyError(`${kind} operation does not apply: doc is missing from path: ${from}: missing value`);
      let v: unknown;
      if (kind === 'move') v = wrap(() => removeFrom(src[0], src[1]), `error in move for path: '${src[1]}'`);
      else {
        v = wrap(() => getFrom(src[0], src[1]), `error in copy for from: '${from}'`);
        if (v === undefined) throw new PatchApplyError(`copy operation does not apply: doc is missing from path: ${from}: missing value`);
        v = cloneJSON(v);
      }
      const dst = findParent(doc, path);
      if (!dst) throw new PatchApplyError(`${kind} operation does not apply: doc is missing destination path: ${path}: missing value`);
      wrap(() => addTo(dst[0], dst[1], v), `error in ${kind} for path: '${path}'`);
      return;
    }
    case 'test': {
      const path = stringField(op, 'path', kind);
      const found = findParent(doc, path);
      if (!found) throw new PatchApplyError(`test operation does not apply: is missing path: ${path}: missing value`);
      const cur = wrap(() => {
        try {
          return getFrom(found[0], found[1]);
        } catch {
          return undefined;
        }
      }, `error in test for path: '${path}'`);
      // A missing value and null are the same to the library: both equal a null test value.
      if ((cur === undefined || cur === null) && value === null) return;
      if (cur !== undefined && jsonEqual(cur, value)) return;
      throw new PatchApplyError(`testing value ${path} failed: test failed`);
    }
    default:
      throw new PatchApplyError(`Unexpected kind: ${kind}`);
  }
}

function wrap<T>(fn: () => T, context: string): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PatchApplyError) throw new PatchApplyError(`${context}: ${e.message}`);
    throw e;
  }
}

/**
 * Applies a decoded JSON patch document to a copy of `original`.
 * Not an array of operations -> 400; too many operations -> 413; an operation that cannot apply -> 422.
 */
export function applyJSONPatch(original: unknown, patch: unknown): any {
  if (!Array.isArray(patch)) throw errors.badRequest(`json: cannot unmarshal ${jsonKind(patch)} into Go value of type jsonpatch.Patch`);
  for (const op of patch) {
    if (!isObject(op)) throw errors.badRequest(`json: cannot unmarshal ${jsonKind(op)} into Go value of type jsonpatch.Operation`);
  }
  if (patch.length > maxJSONPatchOperations)
    throw errors.tooLarge(`Request entity too large: The allowed maximum operations in a JSON patch is ${maxJSONPatchOperations}, got ${patch.length}`);
  const doc = cloneJSON(original);
  try {
    for (const op of patch as Record<string, unknown>[]) applyOne(doc, op);
  } catch (e) {
    if (e instanceof PatchApplyError) throw patchApplyFailed(e.message);
    throw e;
  }
  return doc;
}

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

// Re-exported so callers can tell our 422 apart in tests.
export { PatchApplyError };
