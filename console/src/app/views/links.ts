// Links to object pages from references (involvedObject, ownerReferences).

import { href } from '../router.ts';

const RESOURCES: Record<string, string> = {
  Pod: 'pods', Node: 'nodes', Namespace: 'namespaces', Service: 'services', ConfigMap: 'configmaps', Secret: 'secrets', Event: 'events', Endpoints: 'endpoints',
  PersistentVolumeClaim: 'persistentvolumeclaims', PersistentVolume: 'persistentvolumes', ServiceAccount: 'serviceaccounts', ReplicationController: 'replicationcontrollers',
  Deployment: 'deployments', ReplicaSet: 'replicasets', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets', ControllerRevision: 'controllerrevisions',
  Job: 'jobs', CronJob: 'cronjobs', Lease: 'leases', EndpointSlice: 'endpointslices', PodDisruptionBudget: 'poddisruptionbudgets',
};

/** The plural resource of a kind (the common ones; else the lower-cased kind plus s). */
export function resourceOf(kind: string): string {
  return RESOURCES[kind] ?? `${kind.toLowerCase()}s`;
}

export function objectHref(ref: { kind: string; apiVersion?: string; namespace?: string; name: string }): string {
  const [group, version] = ref.apiVersion?.includes('/') ? ref.apiVersion.split('/') : ['core', ref.apiVersion || 'v1'];
  return href('object', group || 'core', version!, resourceOf(ref.kind), ref.namespace || '-', ref.name);
}
