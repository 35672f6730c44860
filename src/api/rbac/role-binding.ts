// rbac.authorization.k8s.io/v1 RoleBinding.

import { humanAge, type KObject, type ResourceDef } from '../types.ts';
import { bindingColumns, defaultBinding, subjectCells, validateBinding, validateBindingUpdate } from './rbac-common.ts';
import { rbacNameErrors } from './rbac-common.ts';

export function bindingRow(obj: KObject, now: number): unknown[] {
  const ref = obj.roleRef ?? {};
  return [obj.metadata.name, `${ref.kind ?? ''}/${ref.name ?? ''}`, humanAge(obj.metadata.creationTimestamp, now), ...subjectCells(obj)];
}

export const rolebindings: ResourceDef = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'RoleBinding',
  plural: 'rolebindings',
  singular: 'rolebinding',
  namespaced: true,
  model: 'V1RoleBinding',
  nameValidator: rbacNameErrors,
  strategy: {
    defaults: defaultBinding,
    validate: (obj) => validateBinding(obj, true),
    validateUpdate: (obj, old) => validateBindingUpdate(obj, old, true),
  },
  table: { columns: bindingColumns, row: bindingRow },
};
