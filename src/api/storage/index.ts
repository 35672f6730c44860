// storage.k8s.io/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { storageClasses } from './storage-class.ts';
import { csiDrivers, csiNodes } from './csi.ts';
import { volumeAttachments } from './volume-attachment.ts';

export const resources: ResourceDef[] = [storageClasses, csiDrivers, csiNodes, volumeAttachments];
