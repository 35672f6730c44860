// RFC 7386 JSON merge patch, as the library upstream's API server uses it: objects merge
// recursively, null deletes, anything else (arrays included) replaces. Nulls inside values that
// are newly added are dropped, since they would mean "delete" for a field that is not there.

import { errors } from '../errors.ts';
import { cloneJSON, copyFiltered } from '../json-values.ts';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A copy without null object members, at any depth (nulls in arrays stay). */
export function pruneNulls(v: unknown): unknown {
  return copyFiltered(v, (_k, x) => x !== null);
}

/** Merges `patch` into `doc` in place, level by level (no recursion: both may nest deeply). */
function mergeInto(doc: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const docs = [doc];
  const patches = [patch];
  while (docs.length) {
    const d = docs.pop()!;
    const p = patches.pop()!;
    for (const [k, pv] of Object.entries(p)) {
      if (pv === null) {
        delete d[k];
        continue;
      }
      const cur = d[k];
      if (cur === undefined || cur === null || !isObject(cur)) d[k] = pruneNulls(pv);
      else if (!isObject(pv)) d[k] = pv;
      else {
        docs.push(cur);
        patches.push(pv);
      }
    }
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
  const doc = isObject(original) ? (owned ? original : cloneJSON(original)) : {};
  return mergeInto(doc, owned ? patch : cloneJSON(patch));
}
