// One field manager per resource and subresource endpoint, built on first use from the kind's
// apply type: a ResourceDef's own (`fieldType`, which custom resources give from their
// structural schema) or the built-in type of its client-node model.

import type { ResourceDef } from '../../api/types.ts';
import { fieldTypeOf } from '../../api/field-types.ts';
import { apiVersionOf } from '../../api/resource-keys.ts';
import { FieldManager } from './field-manager.ts';
import { resetFieldsFor } from './reset-fields.ts';

export { FieldManager, lastAppliedAnnotation } from './field-manager.ts';
export { managerOrUserAgent, checkFieldManagerOptions } from './manager-name.ts';
export { resetFieldsFor } from './reset-fields.ts';

const managers = new WeakMap<ResourceDef, Map<string, FieldManager>>();

export function fieldManagerFor(def: ResourceDef, subresource?: string): FieldManager {
  let byEndpoint = managers.get(def);
  if (!byEndpoint) managers.set(def, (byEndpoint = new Map()));
  const key = subresource ?? '';
  let fm = byEndpoint.get(key);
  if (!fm) {
    fm = new FieldManager({
      type: def.fieldType?.() ?? fieldTypeOf(def.model),
      apiVersion: apiVersionOf(def),
      kind: def.kind,
      subresource,
      resetFields: resetFieldsFor(def, subresource),
    });
    byEndpoint.set(key, fm);
  }
  return fm;
}
