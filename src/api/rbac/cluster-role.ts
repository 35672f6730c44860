// rbac.authorization.k8s.io/v1 ClusterRole.

import type { KObject, ResourceDef } from '../types.ts';
import { createdAt, createdAtColumns, validateAggregationRule, validateRules } from './rbac-common.ts';
import { rbacNameErrors } from './rbac-common.ts';

function validateClusterRole(obj: KObject) {
  return [...validateRules(obj, false), ...validateAggregationRule(obj)];
}

export const clusterroles: ResourceDef = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'ClusterRole',
  plural: 'clusterroles',
  singular: 'clusterrole',
  namespaced: false,
  model: 'V1ClusterRole',
  nameValidator: rbacNameErrors,
  strategy: { validate: validateClusterRole, validateUpdate: validateClusterRole },
  table: { columns: createdAtColumns, row: (obj) => [obj.metadata.name, createdAt(obj)] },
};
