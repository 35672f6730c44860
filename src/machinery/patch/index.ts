// Entry point for PATCH requests: picks the patch format from the Content-Type.

import { errors } from '../errors.ts';
import { checkNesting } from '../json-values.ts';
import { applyJSONPatch } from './json-patch.ts';
import { applyMergePatch } from './merge-patch.ts';
import { applyStrategicMergePatch, type PatchSchema } from './strategic-merge-patch.ts';

export { applyJSONPatch, maxJSONPatchOperations, patchApplyFailed } from './json-patch.ts';
export { applyMergePatch } from './merge-patch.ts';
export { applyStrategicMergePatch, type PatchMeta, type PatchSchema } from './strategic-merge-patch.ts';

export const jsonPatchType = 'application/json-patch+json';
export const mergePatchType = 'application/merge-patch+json';
export const strategicMergePatchType = 'application/strategic-merge-patch+json';
export const applyPatchType = 'application/apply-patch+yaml';

/** Patch content types the API server accepts, in upstream's order (apply is served by the field manager, not here). */
export const supportedPatchTypes = [jsonPatchType, mergePatchType, strategicMergePatchType, applyPatchType];

/** Upstream's 415 for a PATCH body in a format the resource does not accept. */
export function unsupportedPatchType(accepted: string[] = supportedPatchTypes) {
  return errors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}

/** The media type without parameters (`; charset=utf-8`), as upstream compares it. */
export function patchMediaType(contentType: string | undefined): string {
  const ct = contentType ?? '';
  const i = ct.indexOf(';');
  return (i > 0 ? ct.slice(0, i) : ct).trim().toLowerCase();
}

function decode(body: Buffer | string): unknown {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let patch: unknown;
  try {
    patch = JSON.parse(text);
  } catch (e) {
    throw errors.badRequest(`error decoding patch: ${(e as Error).message}`);
  }
  checkNesting(patch, 'the patch', text.length);
  return patch;
}

/**
 * Applies a PATCH body to `original` and returns the patched object. `original` is not modified
 * unless `ownsOriginal` says it is the caller's private copy (then it is patched in place).
 * - json-patch+json: RFC 6902 (400 bad document, 413 too many ops, 422 cannot apply).
 * - merge-patch+json: RFC 7386.
 * - strategic-merge-patch+json: strategic merge with `schema`. Without a schema (a kind with no
 *   patch metadata) we fall back to strategic semantics with every list replaced, which equals a
 *   JSON merge patch plus directive handling; upstream instead refuses it for custom resources
 *   with 415, which callers can do themselves via unsupportedPatchType().
 * Any other type -> 415. The result must be a JSON object, as a Kubernetes object is.
 */
export function applyPatch(type: string, original: any, patchBody: Buffer | string, schema?: PatchSchema, ownsOriginal = false): any {
  const media = patchMediaType(type);
  if (media !== jsonPatchType && media !== mergePatchType && media !== strategicMergePatchType) throw unsupportedPatchType();
  const patch = decode(patchBody);
  let result: unknown;
  try {
    switch (media) {
      case jsonPatchType:
        result = applyJSONPatch(original, patch);
        // Operations can put values inside values: the result may nest deeper than either input.
        checkNesting(result, 'the patched object');
        break;
      case mergePatchType:
        // The decoded patch is ours; the original is the caller's to give (ownsOriginal).
        result = ownsOriginal ? applyMergePatch(original, patch, true) : applyMergePatch(original, patch);
        break;
      default:
        result = ownsOriginal ? applyStrategicMergePatch(original, patch, schema, true) : applyStrategicMergePatch(original, patch, schema);
    }
  } catch (e) {
    // Merging recurses where the object and the patch both nest: thousands of levels deep in both
    // (possible only in free-form fields) is more than the stack holds.
    if (e instanceof RangeError && /call stack/i.test(e.message))
      throw errors.badRequest('the patch and the object it patches are nested too deeply, together, for the server to merge them');
    throw e;
  }
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    throw errors.badRequest('the patched object must be a JSON object');
  }
  return result;
}
