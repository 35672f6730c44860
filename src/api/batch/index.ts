// batch/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { cronjobs } from './cron-job.ts';
import { jobs } from './job.ts';

export const resources: ResourceDef[] = [jobs, cronjobs];
