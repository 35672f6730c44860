// scheduling.k8s.io/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { priorityclasses } from './priority-class.ts';

export { systemPriorityClasses } from './priority-class.ts';
export const resources: ResourceDef[] = [priorityclasses];
