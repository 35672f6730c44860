// rbac.authorization.k8s.io/v1 Role.

import type { ResourceDef } from '../types.ts';
import { createdAt, createdAtColumns, validateRules } from './rbac-common.ts';
import { rbacNameErrors } from './rbac-common.ts';

export const roles: ResourceDef = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'Role',
  plural: 'roles',
  singular: 'role',
  namespaced: true,
  model: 'V1Role',
  nameValidator: rbacNameErrors,
  strategy: { validate: (obj) => validateRules(obj, true), validateUpdate: (obj) => validateRules(obj, true) },
  table: { columns: createdAtColumns, row: (obj) => [obj.metadata.name, createdAt(obj)] },
};
