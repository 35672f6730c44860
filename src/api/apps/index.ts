// apps/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { controllerrevisions } from './controller-revision.ts';
import { daemonsets } from './daemon-set.ts';
import { deployments } from './deployment.ts';
import { replicasets } from './replica-set.ts';
import { statefulsets } from './stateful-set.ts';

export const resources: ResourceDef[] = [deployments, replicasets, statefulsets, daemonsets, controllerrevisions];
