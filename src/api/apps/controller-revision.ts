// apps/v1 ControllerRevision: immutable snapshots of a controller's template.

import { field, type FieldError } from '../../machinery/errors.ts';
import { humanAge, type KObject, type ResourceDef } from '../types.ts';
import { validateImmutable } from '../validation.ts';
import { ageColumn, nameColumn, nonNegative } from './workload-common.ts';

export function validateControllerRevision(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  if (obj.data === undefined || obj.data === null) errs.push(field.required('data', 'data is mandatory'));
  errs.push(...nonNegative(obj.revision, 'revision'));
  return errs;
}

export function validateControllerRevisionUpdate(obj: KObject, old: KObject): FieldError[] {
  return [...validateControllerRevision(obj), ...validateImmutable(obj.data, old.data, 'data')];
}

/** `<kind>.<group>/<name>` of the controlling owner, lower-cased kind as kubectl prints it. */
function controllerName(obj: KObject): string {
  const ref = (obj.metadata.ownerReferences ?? []).find((r) => r.controller);
  if (!ref) return '<none>';
  const slash = ref.apiVersion.indexOf('/');
  const group = slash >= 0 ? ref.apiVersion.slice(0, slash) : '';
  if (!ref.kind) return ref.name;
  return `${(group ? `${ref.kind}.${group}` : ref.kind).toLowerCase()}/${ref.name}`;
}

export const controllerrevisions: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  namespaced: true,
  model: 'V1ControllerRevision',
  strategy: {
    validate: validateControllerRevision,
    validateUpdate: validateControllerRevisionUpdate,
  },
  table: {
    columns: [
      nameColumn,
      { name: 'Controller', type: 'string', description: 'Controller owning the revision.', priority: 0 },
      { name: 'Revision', type: 'string', description: 'Revision number.', priority: 0 },
      ageColumn,
    ],
    row: (obj, now) => [obj.metadata.name, controllerName(obj), obj.revision ?? 0, humanAge(obj.metadata.creationTimestamp, now)],
  },
};
