// RFC 7386 JSON merge patch, as the library upstream's API server uses it: objects merge
// recursively, null deletes, anything else (arrays included) replaces. Nulls inside values that
// are newly added are dropped, since they would mean "delete" for a field that is not there.

import { errors } from '../errors.ts';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Removes null members from objects, recursing through objects and arrays. */
export function pruneNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === null ? x : pruneNulls(x)));
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = pruneNulls(x);
    return out;
  }
  return v;
}

function mergeInto(doc: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  for (const [k, pv] of Object.entries(patch)) {
    if (pv === null) {
      delete doc[k];
      continue;
    }
    const cur = doc[k];
    if (cur === undefined || cur === null || !isObject(cur)) doc[k] = pruneNulls(pv);
    else if (!isObject(pv)) doc[k] = pv;
    else doc[k] = mergeInto(cur, pv);
  }
  return doc;
}

/**
 * Applies a decoded merge patch to a copy of `original`. The patch must be a JSON object
 * (a patch for a whole Kubernetes object cannot be anything else); otherwise 400.
 * `owned`: both arguments are the caller's private copies and may be changed (no copies made).
 */
export function applyMergePatch(original: unknown, patch: unknown, owned = false): any {
  if (!isObject(patch)) throw errors.badRequest('Invalid JSON Patch');
  const doc = isObject(original) ? (owned ? original : structuredClone(original)) : {};
  return mergeInto(doc, owned ? patch : structuredClone(patch));
}
