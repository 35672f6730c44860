// Server-side field validation (fieldValidation=Strict|Warn|Ignore): unknown fields in a
// create/update/patch body are rejected (Strict, 400), reported as warnings (Warn, the default),
// or dropped silently (Ignore). In every mode they are dropped before storing, as decoding into
// typed structs does upstream.

import type { KObject, ResourceDef } from '../api/types.ts';
import { errors } from '../machinery/errors.ts';
import { unknownFields, unknownFieldWarnings, unknownFieldsError } from '../api/schema.ts';

export type FieldValidator = (def: ResourceDef, obj: KObject, mode: string | null, warnings: string[]) => void;

export const validateFields: FieldValidator = (def, obj, mode, warnings) => {
  const m = mode ?? 'Warn';
  if (m !== 'Strict' && m !== 'Warn' && m !== 'Ignore')
    throw errors.badRequest(`fieldValidation parameter unsupported: ${JSON.stringify(m)}: must be one of Ignore, Warn, Strict`);
  const unknown = unknownFields(def.model, obj);
  if (unknown.length === 0) return;
  if (m === 'Strict') throw unknownFieldsError(def.kind, def.version, unknown);
  pruneFields(obj, unknown);
  if (m === 'Warn') warnings.push(...unknownFieldWarnings(unknown));
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
