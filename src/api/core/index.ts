// The core (v1) API group's kinds.

import type { ResourceDef } from '../types.ts';
import { configMaps, secrets, serviceAccounts } from './config-data.ts';
import { endpoints } from './endpoints.ts';
import { events } from './event.ts';
import { namespaces } from './namespace.ts';
import { nodes } from './node.ts';
import { pods } from './pod.ts';
import { limitRanges, resourceQuotas } from './policy-objects.ts';
import { services } from './service.ts';
import { persistentVolumeClaims, persistentVolumes } from './storage-objects.ts';
import { podTemplates, replicationControllers } from './workloads.ts';

export { ServiceAllocators } from './service-allocator.ts';
export { defaultPodSpec, defaultPodTemplateSpec, podQOSClass, validatePodSpec, validatePodTemplateSpec } from './pod-spec.ts';

export const resources: ResourceDef[] = [
  namespaces,
  pods,
  nodes,
  services,
  endpoints,
  configMaps,
  secrets,
  serviceAccounts,
  events,
  limitRanges,
  resourceQuotas,
  persistentVolumes,
  persistentVolumeClaims,
  podTemplates,
  replicationControllers,
];
