// events.k8s.io/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { events } from './event.ts';

export const resources: ResourceDef[] = [events];
