// flowcontrol.apiserver.k8s.io/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { flowSchemas, priorityLevelConfigurations } from './flow-schema.ts';

export const resources: ResourceDef[] = [flowSchemas, priorityLevelConfigurations];
export { bootstrapFlowSchemas, bootstrapPriorityLevels } from './bootstrap.ts';
