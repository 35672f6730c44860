// Defaulting from `default` in a structural schema (upstream schema/defaulting): a property that
// is absent, or null where the schema does not allow null, gets a copy of its default; then
// defaulting goes on inside it. Afterwards, nulls that a non-nullable field without default holds
// are dropped, as upstream does (PruneNonNullableNullsWithoutDefaults).

import { additionalPropertiesOf, isObject, itemsOf, type JSONSchemaProps } from './types.ts';

/** Applies defaults to `x` in place. */
export function applyDefaults(x: unknown, s: JSONSchemaProps | undefined): void {
  if (!s) return;
  if (Array.isArray(x)) {
    const items = itemsOf(s);
    if (!items) return;
    for (let i = 0; i < x.length; i++) {
      if (x[i] === null && !items.nullable && items.default !== undefined) x[i] = structuredClone(items.default);
      applyDefaults(x[i], items);
    }
    return;
  }
  if (!isObject(x)) return;
  for (const [k, ps] of Object.entries(s.properties ?? {})) {
    if (ps.default === undefined) continue;
    if (!(k in x) || (x[k] === null && !ps.nullable)) x[k] = structuredClone(ps.default);
  }
  for (const [k, v] of Object.entries(x)) {
    const ps = s.properties?.[k] ?? additionalPropertiesOf(s);
    if (!ps) continue;
    if (v === null && !ps.nullable && ps.default !== undefined) x[k] = structuredClone(ps.default);
    applyDefaults(x[k], ps);
  }
}

/** Drops nulls held by fields that are neither nullable nor defaulted. */
export function pruneNonNullableNulls(x: unknown, s: JSONSchemaProps | undefined): void {
  if (!s) return;
  if (Array.isArray(x)) {
    const items = itemsOf(s);
    if (items) for (const v of x) pruneNonNullableNulls(v, items);
    return;
  }
  if (!isObject(x)) return;
  for (const [k, v] of Object.entries(x)) {
    const ps = s.properties?.[k] ?? additionalPropertiesOf(s);
    if (!ps) continue;
    if (v === null) {
      if (!ps.nullable && ps.default === undefined) delete x[k];
    } else pruneNonNullableNulls(v, ps);
  }
}

/** True when the schema has a `default` anywhere. */
export function hasDefaults(s: JSONSchemaProps | undefined): boolean {
  if (!s || typeof s !== 'object') return false;
  if (s.default !== undefined) return true;
  if (hasDefaults(itemsOf(s)) || hasDefaults(additionalPropertiesOf(s))) return true;
  return Object.values(s.properties ?? {}).some(hasDefaults);
}
