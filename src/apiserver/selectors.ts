// Label and field selectors from query parameters, checked against what the resource supports.

import type { KObject, ResourceDef } from '../api/types.ts';
import { errors } from '../machinery/errors.ts';
import { parseLabelSelector } from '../machinery/labels.ts';
import { parseFieldSelector } from '../machinery/fields.ts';

export type ObjectFilter = (obj: KObject) => boolean;

/** Value getter for one field of an object, or undefined if the resource does not support the field. */
export function fieldGetter(def: ResourceDef, field: string): ((obj: KObject) => string | undefined) | undefined {
  if (field === 'metadata.name') return (o) => o.metadata.name ?? '';
  if (field === 'metadata.namespace') return def.namespaced ? (o) => o.metadata.namespace ?? '' : () => '';
  return def.fieldSelectors?.[field];
}

/** Builds a filter from labelSelector/fieldSelector query values; undefined when there is nothing to filter. */
export function buildFilter(def: ResourceDef, labelSelector: string | null, fieldSelector: string | null): ObjectFilter | undefined {
  const filters: ObjectFilter[] = [];
  if (labelSelector && labelSelector.trim() !== '') {
    const sel = parseLabelSelector(labelSelector);
    filters.push((o) => sel.matches(o.metadata.labels ?? {}));
  }
  if (fieldSelector && fieldSelector.trim() !== '') {
    const sel = parseFieldSelector(fieldSelector);
    const getters = new Map<string, (obj: KObject) => string | undefined>();
    for (const r of sel.requirements) {
      const g = fieldGetter(def, r.field);
      if (!g) throw errors.badRequest(`field label not supported: ${r.field}`);
      getters.set(r.field, g);
    }
    filters.push((o) => sel.matches((f: string) => getters.get(f)?.(o) ?? ''));
  }
  if (filters.length === 0) return undefined;
  if (filters.length === 1) return filters[0];
  return (o) => filters.every((f) => f(o));
}
