// Server-side field validation (fieldValidation=Strict|Warn|Ignore): unknown fields in a
// create/update/patch body are rejected (Strict, 400), reported as warnings (Warn, the default),
// or dropped silently (Ignore). In every mode they are dropped before storing, as decoding into
// typed structs does upstream.

import type { KObject, ResourceDef } from '../api/types.ts';
import { errors } from '../machinery/errors.ts';
import { checkFields, typeMismatchError, unknownFieldWarnings } from '../api/schema.ts';

export type FieldValidator = (def: ResourceDef, obj: KObject, mode: string | null, warnings: string[], duplicates?: string[]) => void;

export const validateFields: FieldValidator = (def, obj, mode, warnings, duplicates = []) => {
  const m = mode ?? 'Warn';
  if (m !== 'Strict' && m !== 'Warn' && m !== 'Ignore')
    throw errors.badRequest(`fieldValidation parameter unsupported: ${JSON.stringify(m)}: must be one of Ignore, Warn, Strict`);
  const { unknown, mismatch } = checkFields(def.model, obj);
  // A value of the wrong JSON type fails decoding whatever the field validation mode, as upstream.
  if (mismatch) throw typeMismatchError(def.kind, def.version, mismatch);
  if (unknown.length === 0 && duplicates.length === 0) return;
  if (unknown.length) pruneFields(obj, unknown);
  if (m === 'Ignore') return;
  const problems = [...duplicates.map((d) => `duplicate field ${JSON.stringify(d)}`), ...unknownFieldWarnings(unknown)];
  if (m === 'Strict')
    throw errors.badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${problems.join(', ')}`);
  warnings.push(...problems);
};

/** Removes fields at the given paths (`spec.foo`, `spec.containers[0].bar`). */
export function pruneFields(obj: KObject, paths: string[]): void {
  for (const raw of paths) {
    const p = raw.startsWith('.') || raw.startsWith('[') ? raw : `.${raw}`;
    const segs: (string | number)[] = [];
    for (const m of p.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)) segs.push(m[2] !== undefined ? Number(m[2]) : m[1]);
    let o: any = obj;
    for (const s of segs.slice(0, -1)) {
      o = o?.[s];
      if (o === null || typeof o !== 'object') break;
    }
    const last = segs[segs.length - 1];
    if (o && typeof o === 'object' && last !== undefined && !Array.isArray(o)) delete o[last as string];
  }
}
