// Every controller the manager can run, by name (upstream's controller names where they exist).

import type { ControllerFactory } from './types.ts';
import { replicaSetController } from './replicaset/index.ts';
import { replicationControllerController } from './replicationcontroller/index.ts';
import { deploymentController } from './deployment/index.ts';
import { garbageCollectorController } from './garbagecollector/index.ts';
import { namespaceController } from './namespace/index.ts';
import { serviceAccountController } from './serviceaccount/index.ts';
import { rootCACertPublisherController } from './rootcacertpublisher/index.ts';
import { podGCController } from './podgc/index.ts';
import { ttlAfterFinishedController } from './ttlafterfinished/index.ts';
import { resourceQuotaController } from './resourcequota/index.ts';
import { statefulSetController } from './statefulset/index.ts';
import { daemonSetController } from './daemonset/index.ts';
import { jobController } from './job/index.ts';
import { cronJobController } from './cronjob/index.ts';
import { nodeLifecycleController } from './nodelifecycle/index.ts';
import { nodeIpamController } from './nodeipam/index.ts';
import { endpointsController } from './endpoints/index.ts';
import { endpointSliceController } from './endpointslice/index.ts';
import { disruptionController } from './disruption/index.ts';
import { serviceAccountTokenController } from './serviceaccounttoken/index.ts';
import { clusterRoleAggregationController } from './clusterroleaggregation/index.ts';
import { csrSigningController } from './certificates/signer.ts';
import { csrApprovingController } from './certificates/approver.ts';
import { persistentVolumeController } from './persistentvolume/index.ts';
import { localPathProvisionerController } from './localpath/index.ts';
import { hpaController } from './podautoscaler/index.ts';
import { policyStatusController } from './admissionpolicystatus/index.ts';

export const controllerFactories: Record<string, ControllerFactory> = {
  replicaset: replicaSetController,
  replicationcontroller: replicationControllerController,
  deployment: deploymentController,
  'garbage-collector': garbageCollectorController,
  namespace: namespaceController,
  serviceaccount: serviceAccountController,
  'root-ca-cert-publisher': rootCACertPublisherController,
  'pod-garbage-collector': podGCController,
  'ttl-after-finished': ttlAfterFinishedController,
  resourcequota: resourceQuotaController,
  statefulset: statefulSetController,
  daemonset: daemonSetController,
  job: jobController,
  cronjob: cronJobController,
  'node-lifecycle': nodeLifecycleController,
  'node-ipam': nodeIpamController,
  endpoints: endpointsController,
  endpointslice: endpointSliceController,
  disruption: disruptionController,
  'serviceaccount-token': serviceAccountTokenController,
  'clusterrole-aggregation': clusterRoleAggregationController,
  'csr-signing': csrSigningController,
  'csr-approving': csrApprovingController,
  'persistentvolume-binder': persistentVolumeController,
  'local-path-provisioner': localPathProvisionerController,
  'horizontal-pod-autoscaler': hpaController,
  'validatingadmissionpolicy-status-controller': policyStatusController,
};
