// node.k8s.io/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { runtimeClasses } from './runtime-class.ts';

export const resources: ResourceDef[] = [runtimeClasses];
