// x-kubernetes-list-type on values (upstream schema/listtype): a `set` holds no value twice and a
// `map` holds no two items with the same x-kubernetes-list-map-keys.

import type { FieldError } from '../../machinery/errors.ts';
import { deepEqual } from '../../api/validation.ts';
import { additionalPropertiesOf, isObject, itemsOf, type JSONSchemaProps } from './types.ts';

function duplicate(path: string, value: unknown): FieldError {
  return { type: 'FieldValueDuplicate', field: path, detail: `Duplicate value: ${JSON.stringify(value)}` };
}

export function validateListTypes(x: unknown, s: JSONSchemaProps | undefined, path = ''): FieldError[] {
  const errs: FieldError[] = [];
  walk(x, s, path, errs);
  return errs;
}

function walk(x: unknown, s: JSONSchemaProps | undefined, path: string, errs: FieldError[]): void {
  if (!s) return;
  if (Array.isArray(x)) {
    const items = itemsOf(s);
    const lt = s['x-kubernetes-list-type'];
    if (lt === 'set') {
      for (let i = 0; i < x.length; i++)
        for (let j = 0; j < i; j++)
          if (deepEqual(x[i], x[j])) {
            errs.push(duplicate(`${path}[${i}]`, x[i]));
            break;
          }
    } else if (lt === 'map') {
      const keys = s['x-kubernetes-list-map-keys'] ?? [];
      const seen = new Map<string, number>();
      x.forEach((item, i) => {
        if (!isObject(item)) return;
        const k: Record<string, unknown> = {};
        for (const name of keys) if (item[name] !== undefined) k[name] = item[name];
        const id = JSON.stringify(keys.map((n) => item[n] ?? null));
        if (seen.has(id)) errs.push(duplicate(`${path}[${i}]`, k));
        else seen.set(id, i);
      });
    }
    if (items) x.forEach((v, i) => walk(v, items, `${path}[${i}]`, errs));
    return;
  }
  if (!isObject(x)) return;
  for (const [k, v] of Object.entries(x)) {
    const ps = s.properties?.[k] ?? additionalPropertiesOf(s);
    if (ps) walk(v, ps, path ? `${path}.${k}` : k, errs);
  }
}
