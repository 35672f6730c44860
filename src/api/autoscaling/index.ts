// autoscaling kinds: HorizontalPodAutoscaler at v2 (stored, preferred) and v1 (converted).

import type { ResourceDef } from '../types.ts';
import { hpaV2 } from './hpa.ts';
import { hpaV1 } from './hpa-v1.ts';

export const resources: ResourceDef[] = [hpaV2, hpaV1];
