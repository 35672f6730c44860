// rbac.authorization.k8s.io/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { clusterrolebindings } from './cluster-role-binding.ts';
import { clusterroles } from './cluster-role.ts';
import { rolebindings } from './role-binding.ts';
import { roles } from './role.ts';

export { rbacNameErrors } from './rbac-common.ts';
export const resources: ResourceDef[] = [roles, clusterroles, rolebindings, clusterrolebindings];
