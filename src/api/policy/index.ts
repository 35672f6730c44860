// policy/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { poddisruptionbudgets } from './pod-disruption-budget.ts';

export const resources: ResourceDef[] = [poddisruptionbudgets];
