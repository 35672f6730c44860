// coordination.k8s.io/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { leases } from './lease.ts';

export const resources: ResourceDef[] = [leases];
