// Every controller the manager can run, by name (upstream's controller names where they exist).
// Lines commented out with TODO are controllers whose modules are not written yet.

import type { ControllerFactory } from './types.ts';
import { replicaSetController } from './replicaset/index.ts';
import { deploymentController } from './deployment/index.ts';
import { garbageCollectorController } from './garbagecollector/index.ts';
// TODO: import { namespaceController } from './namespace/index.ts';
// TODO: import { serviceAccountController } from './serviceaccount/index.ts';
// TODO: import { rootCACertPublisherController } from './rootcacertpublisher/index.ts';
// TODO: import { podGCController } from './podgc/index.ts';
// TODO: import { ttlAfterFinishedController } from './ttlafterfinished/index.ts';
// TODO: import { resourceQuotaController } from './resourcequota/index.ts';
import { statefulSetController } from './statefulset/index.ts';
import { daemonSetController } from './daemonset/index.ts';
import { jobController } from './job/index.ts';
import { cronJobController } from './cronjob/index.ts';
import { nodeLifecycleController } from './nodelifecycle/index.ts';
import { nodeIpamController } from './nodeipam/index.ts';
import { endpointsController } from './endpoints/index.ts';
import { endpointSliceController } from './endpointslice/index.ts';
import { disruptionController } from './disruption/index.ts';

export const controllerFactories: Record<string, ControllerFactory> = {
  replicaset: replicaSetController,
  deployment: deploymentController,
  'garbage-collector': garbageCollectorController,
  // TODO: namespace: namespaceController,
  // TODO: serviceaccount: serviceAccountController,
  // TODO: 'root-ca-cert-publisher': rootCACertPublisherController,
  // TODO: 'pod-garbage-collector': podGCController,
  // TODO: 'ttl-after-finished': ttlAfterFinishedController,
  // TODO: resourcequota: resourceQuotaController,
  statefulset: statefulSetController,
  daemonset: daemonSetController,
  job: jobController,
  cronjob: cronJobController,
  'node-lifecycle': nodeLifecycleController,
  'node-ipam': nodeIpamController,
  endpoints: endpointsController,
  endpointslice: endpointSliceController,
  disruption: disruptionController,
};
