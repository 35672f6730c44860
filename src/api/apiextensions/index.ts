// apiextensions.k8s.io/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { customResourceDefinitions } from './custom-resource-definition.ts';

export const resources: ResourceDef[] = [customResourceDefinitions];
