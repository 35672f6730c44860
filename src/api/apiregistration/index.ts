// apiregistration.k8s.io/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { apiServices } from './api-service.ts';

export const resources: ResourceDef[] = [apiServices];
