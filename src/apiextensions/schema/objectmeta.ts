// ObjectMeta inside custom resources (upstream schema/objectmeta): the root's metadata and that
// of every x-kubernetes-embedded-resource value is an ObjectMeta whatever the schema says, so
// unknown metadata fields are dropped (and reported like pruned fields) and wrongly typed ones
// refused; embedded resources must name their apiVersion and kind.

import type { FieldError } from '../../machinery/errors.ts';
import { field } from '../../machinery/errors.ts';
import { checkFields } from '../../api/schema.ts';
import { pruneFields } from '../../apiserver/field-validation.ts';
import { validateAnnotations, validateLabels } from '../../api/validation.ts';
import { additionalPropertiesOf, isObject, itemsOf, type JSONSchemaProps } from './types.ts';

export interface MetadataProblem {
  /** Go-style field and types for upstream's decoding error. */
  goField: string;
  found: string;
  expected: string;
}

/**
 * Drops unknown fields from the root metadata and from embedded resources' metadata (in place).
 * Returns the dropped paths, and the first wrongly typed metadata value if any.
 */
export function coerceMetadata(obj: Record<string, unknown>, schema: JSONSchemaProps): { unknown: string[]; problem?: MetadataProblem } {
  const out: { unknown: string[]; problem?: MetadataProblem } = { unknown: [] };
  coerceOne(obj, '', out);
  walkEmbedded(obj, schema, '', (x, path) => coerceOne(x, path, out));
  return out;
}

function coerceOne(x: Record<string, unknown>, path: string, out: { unknown: string[]; problem?: MetadataProblem }): void {
  const m = x.metadata;
  if (m === undefined || m === null) return;
  const p = path ? `${path}.metadata` : 'metadata';
  if (!isObject(m)) {
    out.problem ??= { goField: p, found: Array.isArray(m) ? 'array' : typeof m, expected: 'v1.ObjectMeta' };
    return;
  }
  const { unknown, mismatch } = checkFields('V1ObjectMeta', m);
  if (mismatch) out.problem ??= { goField: mismatch.goField.replace(/^ObjectMeta\./, 'ObjectMeta.'), found: mismatch.found, expected: mismatch.expected };
  if (unknown.length) {
    pruneFields(m as any, unknown);
    for (const u of unknown) out.unknown.push(`${p}.${u}`);
  }
}

/** Calls `fn` for every object value that the schema marks x-kubernetes-embedded-resource. */
function walkEmbedded(x: unknown, s: JSONSchemaProps | undefined, path: string, fn: (x: Record<string, unknown>, path: string) => void, atRoot = true): void {
  if (!s) return;
  if (Array.isArray(x)) {
    const items = itemsOf(s);
    if (items) x.forEach((v, i) => walkEmbedded(v, items, `${path}[${i}]`, fn, false));
    return;
  }
  if (!isObject(x)) return;
  if (!atRoot && s['x-kubernetes-embedded-resource']) fn(x, path);
  for (const [k, v] of Object.entries(x)) {
    if (atRoot && k === 'metadata') continue;
    const ps = s.properties?.[k] ?? additionalPropertiesOf(s);
    if (ps) walkEmbedded(v, ps, path ? `${path}.${k}` : k, fn, false);
  }
}

/** Validation of embedded resources: apiVersion and kind present, metadata labels and annotations valid. */
export function validateEmbeddedResources(obj: unknown, schema: JSONSchemaProps): FieldError[] {
  const errs: FieldError[] = [];
  walkEmbedded(obj, schema, '', (x, path) => {
    const at = (f: string) => (path ? `${path}.${f}` : f);
    if (typeof x.apiVersion !== 'string' || x.apiVersion === '') errs.push(field.required(at('apiVersion'), 'must not be empty'));
    if (typeof x.kind !== 'string' || x.kind === '') errs.push(field.required(at('kind'), 'must not be empty'));
    const m = x.metadata;
    if (isObject(m)) {
      errs.push(...validateLabels(m.labels, at('metadata.labels')));
      errs.push(...validateAnnotations(m.annotations, at('metadata.annotations')));
    }
  });
  return errs;
}
