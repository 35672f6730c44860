// rbac.authorization.k8s.io/v1 ClusterRoleBinding.

import type { ResourceDef } from '../types.ts';
import { bindingColumns, defaultBinding, validateBinding, validateBindingUpdate } from './rbac-common.ts';
import { rbacNameErrors } from './rbac-common.ts';
import { bindingRow } from './role-binding.ts';

export const clusterrolebindings: ResourceDef = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  namespaced: false,
  model: 'V1ClusterRoleBinding',
  nameValidator: rbacNameErrors,
  strategy: {
    defaults: defaultBinding,
    validate: (obj) => validateBinding(obj, false),
    validateUpdate: (obj, old) => validateBindingUpdate(obj, old, false),
  },
  table: { columns: bindingColumns, row: bindingRow },
};
