// discovery.k8s.io/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { endpointslices } from './endpoint-slice.ts';

export const resources: ResourceDef[] = [endpointslices];
