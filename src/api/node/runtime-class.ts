// node.k8s.io/v1 RuntimeClass: a name for a container runtime configuration (the CRI handler),
// with the pod overhead and scheduling constraints pods of that class get.

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { isDNS1123Label, validateImmutable, validateLabels } from '../validation.ts';
import { age, ageColumn, col, nameColumn } from '../core/common.ts';
import { validateResourceMap } from '../core/resources.ts';
import { validateTolerations } from '../core/scheduling.ts';

function validateRuntimeClass(obj: KObject): FieldError[] {
  const handler = typeof obj.handler === 'string' ? obj.handler : '';
  const errs = isDNS1123Label(handler).map((m) => field.invalid('handler', handler, m));
  if (obj.overhead) errs.push(...validateResourceMap(obj.overhead.podFixed, 'overhead.podFixed', true));
  if (obj.scheduling) {
    errs.push(...validateLabels(obj.scheduling.nodeSelector, 'scheduling.nodeSelector'));
    errs.push(...validateTolerations(obj.scheduling.tolerations, 'scheduling.tolerations'));
  }
  return errs;
}

export const runtimeClasses: ResourceDef = {
  group: 'node.k8s.io',
  version: 'v1',
  kind: 'RuntimeClass',
  plural: 'runtimeclasses',
  singular: 'runtimeclass',
  namespaced: false,
  model: 'V1RuntimeClass',
  strategy: {
    validate: validateRuntimeClass,
    validateUpdate: (obj, old) => [...validateRuntimeClass(obj), ...validateImmutable(obj.handler, old.handler, 'handler')],
  },
  table: {
    columns: [nameColumn, col('Handler', 'string', 0, 'handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class.'), ageColumn],
    row: (obj, now) => [obj.metadata.name, obj.handler ?? '', age(obj, now)],
  },
};
