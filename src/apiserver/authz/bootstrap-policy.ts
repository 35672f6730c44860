// Upstream's bootstrap RBAC policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy): the cluster
// roles and bindings every cluster starts with, the controller roles bound to the controller
// manager's per-controller ServiceAccounts, and the leader-locking roles in kube-system. Written
// from upstream 1.32's rules; each object is labelled `kubernetes.io/bootstrapping: rbac-defaults`
// and annotated `rbac.authorization.kubernetes.io/autoupdate: "true"`, and reconciled at every start.
//
// Mizzen adds two ClusterRoles of its own, named `mizzen:*` and bound the same way:
// `system:cloud-controller-manager` (upstream ships it with the cloud provider, not in the API
// server) and `mizzen:simulated-nodes` (the read side of the simulated kubelets, which watch all
// pods and nodes at once where each real kubelet would watch its own).

import type { KObject } from '../../api/types.ts';
import type { PolicyRule } from './rbac.ts';

export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
export const BOOTSTRAP_LABEL = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

const read = ['get', 'list', 'watch'];
const readWrite = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const write = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const readUpdate = ['get', 'list', 'watch', 'update', 'patch'];

const G = {
  core: '',
  apps: 'apps',
  authn: 'authentication.k8s.io',
  authz: 'authorization.k8s.io',
  autoscaling: 'autoscaling',
  batch: 'batch',
  certs: 'certificates.k8s.io',
  coordination: 'coordination.k8s.io',
  discovery: 'discovery.k8s.io',
  extensions: 'extensions',
  policy: 'policy',
  rbac: 'rbac.authorization.k8s.io',
  storage: 'storage.k8s.io',
  networking: 'networking.k8s.io',
  events: 'events.k8s.io',
  admissionregistration: 'admissionregistration.k8s.io',
} as const;

function r(verbs: string[] | string, groups: string[] | string, resources: string[] | string, names?: string[]): PolicyRule {
  const rule: PolicyRule = { verbs: [verbs].flat(), apiGroups: [groups].flat(), resources: [resources].flat() };
  if (names?.length) rule.resourceNames = names;
  return rule;
}
function urls(verbs: string[] | string, ...paths: string[]): PolicyRule {
  return { verbs: [verbs].flat(), nonResourceURLs: paths };
}
const eventsRule = () => r(['create', 'update', 'patch'], [G.core, G.events], 'events');

export const SIGNERS = {
  apiserverClient: 'kubernetes.io/kube-apiserver-client',
  apiserverClientKubelet: 'kubernetes.io/kube-apiserver-client-kubelet',
  kubeletServing: 'kubernetes.io/kubelet-serving',
  legacyUnknown: 'kubernetes.io/legacy-unknown',
} as const;

/** What the node authorizer grants every node beyond its graph (upstream NodeRules). */
export function nodeRules(): PolicyRule[] {
  return [
    r('create', G.authn, 'tokenreviews'),
    r('create', G.authz, ['subjectaccessreviews', 'localsubjectaccessreviews']),
    r(read, G.core, 'services'),
    r(['create', 'get', 'list', 'watch'], G.core, 'nodes'),
    r(['update', 'patch'], G.core, 'nodes/status'),
    r(['update', 'patch'], G.core, 'nodes'),
    r(['create', 'update', 'patch'], G.core, 'events'),
    r(read, G.core, 'pods'),
    r(['create', 'delete'], G.core, 'pods'),
    r(['update', 'patch'], G.core, 'pods/status'),
    r('create', G.core, 'pods/eviction'),
    r(read, G.core, ['secrets', 'configmaps']),
    r('get', G.core, ['persistentvolumeclaims', 'persistentvolumes']),
    r('get', G.core, 'endpoints'),
    r(['create', 'get', 'list', 'watch'], G.certs, 'certificatesigningrequests'),
    r(['get', 'create', 'update', 'patch', 'delete'], G.coordination, 'leases'),
    r('get', G.storage, 'volumeattachments'),
    r('create', G.core, 'serviceaccounts/token'),
    r(['get', 'update', 'patch'], G.core, 'persistentvolumeclaims/status'),
    r(['get', 'watch', 'list'], G.storage, 'csidrivers'),
    r(['get', 'create', 'update', 'patch', 'delete'], G.storage, 'csinodes'),
    r(read, 'node.k8s.io', 'runtimeclasses'),
  ];
}

interface RoleDef {
  name: string;
  rules?: PolicyRule[];
  labels?: Record<string, string>;
  aggregate?: string[];
}

const aggregateTo = (role: string) => ({ [`rbac.authorization.k8s.io/aggregate-to-${role}`]: 'true' });

function clusterRoleDefs(): RoleDef[] {
  return [
    { name: 'cluster-admin', rules: [r('*', '*', '*'), urls('*', '*')] },
    { name: 'system:discovery', rules: [urls('get', '/livez', '/readyz', '/healthz', '/version', '/version/', '/openapi', '/openapi/*', '/api', '/api/*', '/apis', '/apis/*')] },
    { name: 'system:monitoring', rules: [urls('get', '/metrics', '/metrics/slis', '/livez', '/readyz', '/healthz', '/livez/*', '/readyz/*', '/healthz/*')] },
    { name: 'system:basic-user', rules: [r('create', G.authz, ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']), r('create', G.authn, 'selfsubjectreviews')] },
    { name: 'system:public-info-viewer', rules: [urls('get', '/livez', '/readyz', '/healthz', '/version', '/version/')] },
    { name: 'admin', aggregate: ['admin'] },
    { name: 'edit', labels: aggregateTo('admin'), aggregate: ['edit'] },
    { name: 'view', labels: aggregateTo('edit'), aggregate: ['view'] },
    {
      name: 'system:aggregate-to-admin',
      labels: aggregateTo('admin'),
      rules: [r('create', G.authz, 'localsubjectaccessreviews'), r(readWrite, G.rbac, ['roles', 'rolebindings'])],
    },
    {
      name: 'system:aggregate-to-edit',
      labels: aggregateTo('edit'),
      rules: [
        r(read, G.core, ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
        r('impersonate', G.core, 'serviceaccounts'),
        r(write, G.core, ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
        r('create', G.core, 'pods/eviction'),
        r(write, G.core, ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy', 'persistentvolumeclaims', 'configmaps', 'secrets', 'events']),
        r('create', G.core, 'serviceaccounts/token'),
        r(write, G.apps, ['statefulsets', 'statefulsets/scale', 'daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'replicasets', 'replicasets/scale']),
        r(write, G.autoscaling, 'horizontalpodautoscalers'),
        r(write, G.batch, ['jobs', 'cronjobs']),
        r(write, G.extensions, ['daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'ingresses', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale', 'networkpolicies']),
        r(write, G.policy, 'poddisruptionbudgets'),
        r(write, G.networking, ['networkpolicies', 'ingresses']),
      ],
    },
    {
      name: 'system:aggregate-to-view',
      labels: aggregateTo('view'),
      rules: [
        r(read, G.core, ['pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'configmaps']),
        r(read, G.core, ['limitranges', 'resourcequotas', 'bindings', 'events', 'pods/status', 'resourcequotas/status', 'namespaces/status', 'replicationcontrollers/status', 'pods/log']),
        r(read, G.core, 'namespaces'),
        r(read, G.discovery, 'endpointslices'),
        r(read, G.apps, ['controllerrevisions', 'statefulsets', 'statefulsets/status', 'statefulsets/scale', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/status', 'deployments/scale', 'replicasets', 'replicasets/status', 'replicasets/scale']),
        r(read, G.autoscaling, ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
        r(read, G.batch, ['jobs', 'cronjobs', 'cronjobs/status', 'jobs/status']),
        r(read, G.extensions, ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale', 'networkpolicies']),
        r(read, G.policy, ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
        r(read, G.networking, ['networkpolicies', 'ingresses', 'ingresses/status']),
      ],
    },
    // As metrics-server installs it: whoever may view (or edit, or admin) may read resource metrics.
    {
      name: 'system:aggregated-metrics-reader',
      labels: { ...aggregateTo('view'), ...aggregateTo('edit'), ...aggregateTo('admin') },
      rules: [r(['get', 'list', 'watch'], 'metrics.k8s.io', ['pods', 'nodes'])],
    },
    { name: 'system:heapster', rules: [r(read, G.core, ['events', 'pods', 'nodes', 'namespaces']), r(read, G.extensions, 'deployments')] },
    { name: 'system:node', rules: nodeRules() },
    { name: 'system:node-problem-detector', rules: [r('get', G.core, 'nodes'), r('patch', G.core, 'nodes/status'), eventsRule()] },
    {
      name: 'system:kubelet-api-admin',
      rules: [r(read, G.core, 'nodes'), r('proxy', G.core, 'nodes'), r('*', G.core, ['nodes/proxy', 'nodes/metrics', 'nodes/spec', 'nodes/stats', 'nodes/log', 'nodes/pods', 'nodes/healthz', 'nodes/configz'])],
    },
    { name: 'system:node-bootstrapper', rules: [r(['create', 'get', 'list', 'watch'], G.certs, 'certificatesigningrequests')] },
    { name: 'system:auth-delegator', rules: [r('create', G.authn, 'tokenreviews'), r('create', G.authz, 'subjectaccessreviews')] },
    { name: 'system:kube-aggregator', rules: [r(read, G.core, ['services', 'endpoints'])] },
    {
      name: 'system:kube-controller-manager',
      rules: [
        eventsRule(),
        r('create', G.coordination, 'leases'),
        r(['get', 'update'], G.coordination, 'leases', ['kube-controller-manager']),
        r('create', G.core, ['secrets', 'serviceaccounts']),
        r('delete', G.core, 'secrets'),
        r('get', G.core, ['namespaces', 'secrets', 'serviceaccounts', 'configmaps']),
        r('update', G.core, ['secrets', 'serviceaccounts']),
        r('create', G.authn, 'tokenreviews'),
        r('create', G.authz, 'subjectaccessreviews'),
        r(['list', 'watch'], '*', '*'),
        r('create', G.core, 'serviceaccounts/token'),
      ],
    },
    { name: 'system:kube-dns', rules: [r(['list', 'watch'], G.core, ['endpoints', 'services'])] },
    {
      name: 'system:persistent-volume-provisioner',
      rules: [
        r(['get', 'list', 'watch', 'create', 'delete'], G.core, 'persistentvolumes'),
        r(['get', 'list', 'watch', 'update'], G.core, 'persistentvolumeclaims'),
        r(read, G.storage, 'storageclasses'),
        r('watch', G.core, 'events'),
        eventsRule(),
      ],
    },
    { name: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', rules: [r('create', G.certs, 'certificatesigningrequests/nodeclient')] },
    { name: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', rules: [r('create', G.certs, 'certificatesigningrequests/selfnodeclient')] },
    { name: 'system:volume-scheduler', rules: [r(readUpdate, G.core, 'persistentvolumes'), r(read, G.storage, 'storageclasses'), r(readUpdate, G.core, 'persistentvolumeclaims')] },
    { name: 'system:certificates.k8s.io:legacy-unknown-approver', rules: [r('approve', G.certs, 'signers', [SIGNERS.legacyUnknown])] },
    { name: 'system:certificates.k8s.io:kubelet-serving-approver', rules: [r('approve', G.certs, 'signers', [SIGNERS.kubeletServing])] },
    { name: 'system:certificates.k8s.io:kube-apiserver-client-approver', rules: [r('approve', G.certs, 'signers', [SIGNERS.apiserverClient])] },
    { name: 'system:certificates.k8s.io:kube-apiserver-client-kubelet-approver', rules: [r('approve', G.certs, 'signers', [SIGNERS.apiserverClientKubelet])] },
    { name: 'system:service-account-issuer-discovery', rules: [urls('get', '/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/')] },
    {
      name: 'system:node-proxier',
      rules: [r(['list', 'watch'], G.core, ['services', 'endpoints']), r(read, G.core, 'nodes'), eventsRule(), r(['list', 'watch'], G.discovery, 'endpointslices')],
    },
    {
      name: 'system:kube-scheduler',
      rules: [
        eventsRule(),
        r('create', G.coordination, 'leases'),
        r(['get', 'update'], G.coordination, 'leases', ['kube-scheduler']),
        r(read, G.core, 'nodes'),
        r(['get', 'list', 'watch', 'delete'], G.core, 'pods'),
        r('create', G.core, ['pods/binding', 'bindings']),
        r(['patch', 'update'], G.core, 'pods/status'),
        r(read, G.core, ['services', 'replicationcontrollers']),
        r(read, [G.apps, G.extensions], 'replicasets'),
        r(read, G.apps, 'statefulsets'),
        r(read, G.policy, 'poddisruptionbudgets'),
        r(read, G.core, ['persistentvolumeclaims', 'persistentvolumes']),
        r('create', G.authn, 'tokenreviews'),
        r('create', G.authz, 'subjectaccessreviews'),
        r(read, G.storage, 'csinodes'),
        r(read, G.core, 'namespaces'),
        r(read, G.storage, 'csidrivers'),
        r(read, G.storage, 'csistoragecapacities'),
      ],
    },
    {
      // As the cloud provider project documents it for the cloud-controller-manager.
      name: 'system:cloud-controller-manager',
      rules: [
        eventsRule(),
        r('*', G.core, 'nodes'),
        r('patch', G.core, 'nodes/status'),
        // `get` beyond the documented role: Mizzen's service controller re-reads a Service on conflict.
        r(['get', 'list', 'patch', 'update', 'watch'], G.core, 'services'),
        r(['list', 'patch', 'update', 'watch'], G.core, 'services/status'),
        r(['create', 'get', 'list', 'watch', 'update'], G.core, 'serviceaccounts'),
        r('create', G.core, 'serviceaccounts/token'),
        r(['get', 'list', 'update', 'watch'], G.core, 'persistentvolumes'),
        r(['create', 'get', 'list', 'watch', 'update'], G.core, 'endpoints'),
        r(read, G.discovery, 'endpointslices'),
        r(read, G.core, 'pods'),
        r('create', G.coordination, 'leases'),
        r(['get', 'update'], G.coordination, 'leases', ['cloud-controller-manager']),
      ],
    },
    {
      name: 'mizzen:simulated-nodes',
      rules: [r(read, G.core, ['pods', 'nodes'])],
    },
    {
      // Cluster DNS and the service proxy of a node in `mizzen up` (src/kubelet/node-services.ts):
      // upstream's kube-proxy and CoreDNS reads, the NetworkPolicy controller's, and the kube-dns
      // Service with its per-node EndpointSlice in kube-system.
      name: 'mizzen:node-services',
      rules: [
        eventsRule(),
        r(read, G.core, ['services', 'endpoints', 'pods', 'namespaces', 'nodes']),
        r(read, G.discovery, 'endpointslices'),
        r(read, G.networking, 'networkpolicies'),
        r(['create', 'update', 'patch', 'delete'], G.discovery, 'endpointslices'),
        r(['create', 'update', 'patch'], G.core, 'services'),
      ],
    },
  ];
}

/** Upstream's controller roles, `system:controller:<sa>`, each bound to kube-system's ServiceAccount `<sa>`. */
function controllerRoleDefs(): RoleDef[] {
  const c = (name: string, rules: PolicyRule[]): RoleDef => ({ name: `system:controller:${name}`, rules });
  return [
    c('attachdetach-controller', [
      r(['list', 'watch'], G.core, ['persistentvolumes', 'persistentvolumeclaims']),
      r(read, G.core, 'nodes'),
      r(['patch', 'update'], G.core, 'nodes/status'),
      r(['list', 'watch'], G.core, 'pods'),
      eventsRule(),
      r(['get', 'create', 'delete', 'list', 'watch'], G.storage, 'volumeattachments'),
      r(read, G.storage, 'csidrivers'),
      r(read, G.storage, 'csinodes'),
    ]),
    c('clusterrole-aggregation-controller', [r(['escalate', 'get', 'list', 'watch', 'update', 'patch'], G.rbac, 'clusterroles')]),
    c('cronjob-controller', [
      r(['get', 'list', 'watch', 'update'], G.batch, 'cronjobs'),
      r(['get', 'list', 'watch', 'create', 'update', 'delete', 'patch'], G.batch, 'jobs'),
      r('update', G.batch, 'cronjobs/status'),
      r('update', G.batch, 'cronjobs/finalizers'),
      r(['list', 'delete'], G.core, 'pods'),
      eventsRule(),
    ]),
    c('daemon-set-controller', [
      r(read, [G.extensions, G.apps], 'daemonsets'),
      r('update', [G.extensions, G.apps], 'daemonsets/status'),
      r('update', [G.extensions, G.apps], 'daemonsets/finalizers'),
      r(['list', 'watch'], G.core, 'nodes'),
      r(['list', 'watch', 'create', 'delete', 'patch'], G.core, 'pods'),
      r('create', G.core, 'pods/binding'),
      r(['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'], G.apps, 'controllerrevisions'),
      eventsRule(),
    ]),
    c('deployment-controller', [
      r(['get', 'list', 'watch', 'update'], [G.extensions, G.apps], 'deployments'),
      r('update', [G.extensions, G.apps], 'deployments/status'),
      r('update', [G.extensions, G.apps], 'deployments/finalizers'),
      r(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], [G.apps, G.extensions], 'replicasets'),
      r(['get', 'list', 'watch', 'update'], G.core, 'pods'),
      eventsRule(),
    ]),
    c('disruption-controller', [
      r(read, [G.extensions, G.apps], 'deployments'),
      r(read, [G.apps, G.extensions], 'replicasets'),
      r(read, G.core, 'replicationcontrollers'),
      r(read, G.policy, 'poddisruptionbudgets'),
      r(read, G.apps, 'statefulsets'),
      r('update', G.policy, 'poddisruptionbudgets/status'),
      r('get', '*', '*/scale'),
      eventsRule(),
    ]),
    c('endpoint-controller', [
      r(read, G.core, ['services', 'pods']),
      r(['get', 'list', 'create', 'update', 'delete'], G.core, 'endpoints'),
      r('create', G.core, 'endpoints/restricted'),
      eventsRule(),
    ]),
    c('endpointslice-controller', [
      r(read, G.core, ['services', 'pods', 'nodes']),
      r('update', G.core, 'services/finalizers'),
      r(['get', 'list', 'create', 'update', 'delete'], G.discovery, 'endpointslices'),
      eventsRule(),
    ]),
    c('endpointslicemirroring-controller', [
      r(read, G.core, ['services', 'endpoints']),
      r('update', G.core, ['services/finalizers', 'endpoints/finalizers']),
      r(['get', 'list', 'create', 'update', 'delete'], G.discovery, 'endpointslices'),
      eventsRule(),
    ]),
    c('ephemeral-volume-controller', [r(read, G.core, 'pods'), r('update', G.core, 'pods/finalizers'), r(['get', 'list', 'watch', 'create'], G.core, 'persistentvolumeclaims'), eventsRule()]),
    c('expand-controller', [
      r(['get', 'list', 'watch', 'update', 'patch'], G.core, 'persistentvolumes'),
      r(['update', 'patch'], G.core, 'persistentvolumeclaims/status'),
      r(read, G.core, 'persistentvolumeclaims'),
      r(read, G.storage, 'storageclasses'),
      r('get', G.core, ['services', 'endpoints']),
      r('get', G.core, 'secrets'),
      eventsRule(),
    ]),
    c('generic-garbage-collector', [r(['get', 'list', 'watch', 'patch', 'update', 'delete'], '*', '*'), eventsRule()]),
    c('horizontal-pod-autoscaler', [
      r(read, G.autoscaling, 'horizontalpodautoscalers'),
      r('update', G.autoscaling, 'horizontalpodautoscalers/status'),
      r(['get', 'update'], '*', '*/scale'),
      r('list', G.core, 'pods'),
      r('list', 'metrics.k8s.io', 'pods'),
      r(['get', 'list'], 'custom.metrics.k8s.io', '*'),
      r(['get', 'list'], 'external.metrics.k8s.io', '*'),
      eventsRule(),
    ]),
    c('job-controller', [
      r(['get', 'list', 'watch', 'update', 'patch'], G.batch, 'jobs'),
      r('update', G.batch, 'jobs/status'),
      r('update', G.batch, 'jobs/finalizers'),
      r(['list', 'watch', 'create', 'delete', 'patch'], G.core, 'pods'),
      eventsRule(),
    ]),
    c('namespace-controller', [
      r(['get', 'list', 'watch', 'delete'], G.core, 'namespaces'),
      r('update', G.core, ['namespaces/finalize', 'namespaces/status']),
      r(['get', 'list', 'delete', 'deletecollection'], '*', '*'),
    ]),
    c('node-controller', [
      r(['get', 'list', 'update', 'delete', 'patch'], G.core, 'nodes'),
      r(['patch', 'update'], G.core, 'nodes/status'),
      r(['update', 'patch'], G.core, 'pods/status'),
      r(['list', 'delete', 'get'], G.core, 'pods'),
      eventsRule(),
    ]),
    c('persistent-volume-binder', [
      r(['get', 'list', 'watch', 'update', 'create', 'delete'], G.core, 'persistentvolumes'),
      r('update', G.core, 'persistentvolumes/status'),
      r(['get', 'list', 'watch', 'update'], G.core, 'persistentvolumeclaims'),
      r('update', G.core, 'persistentvolumeclaims/status'),
      r(['list', 'watch', 'get', 'create', 'delete'], G.core, 'pods'),
      r(read, G.storage, 'storageclasses'),
      r(['get', 'create', 'update', 'delete'], G.core, 'endpoints'),
      r(['get', 'create', 'delete'], G.core, 'services'),
      r('get', G.core, 'secrets'),
      r(['get', 'list'], G.core, 'nodes'),
      r('watch', G.core, 'events'),
      eventsRule(),
    ]),
    c('pod-garbage-collector', [r(['list', 'watch', 'delete'], G.core, 'pods'), r(['get', 'list'], G.core, 'nodes'), r('patch', G.core, 'pods/status')]),
    c('replicaset-controller', [
      r(['get', 'list', 'watch', 'update'], [G.apps, G.extensions], 'replicasets'),
      r('update', [G.apps, G.extensions], 'replicasets/status'),
      r('update', [G.apps, G.extensions], 'replicasets/finalizers'),
      r(['list', 'watch', 'patch', 'create', 'delete'], G.core, 'pods'),
      eventsRule(),
    ]),
    c('replication-controller', [
      r(['get', 'list', 'watch', 'update'], G.core, 'replicationcontrollers'),
      r('update', G.core, 'replicationcontrollers/status'),
      r('update', G.core, 'replicationcontrollers/finalizers'),
      r(['list', 'watch', 'patch', 'create', 'delete'], G.core, 'pods'),
      eventsRule(),
    ]),
    c('resourcequota-controller', [r(['list', 'watch'], '*', '*'), r('update', G.core, 'resourcequotas/status'), eventsRule()]),
    c('route-controller', [r(['list', 'watch'], G.core, 'nodes'), r('patch', G.core, 'nodes/status'), eventsRule()]),
    c('service-account-controller', [r('create', G.core, 'serviceaccounts'), eventsRule()]),
    c('service-controller', [r(read, G.core, 'services'), r(['patch', 'update'], G.core, 'services/status'), r(['list', 'watch'], G.core, 'nodes'), eventsRule()]),
    c('statefulset-controller', [
      r(['list', 'watch'], G.core, 'pods'),
      r(read, G.apps, 'statefulsets'),
      r('update', G.apps, 'statefulsets/status'),
      r('update', G.apps, 'statefulsets/finalizers'),
      r(['get', 'create', 'delete', 'update', 'patch'], G.core, 'pods'),
      r(['get', 'create', 'delete', 'update', 'patch', 'list', 'watch'], G.apps, 'controllerrevisions'),
      r(['get', 'create'], G.core, 'persistentvolumeclaims'),
      eventsRule(),
      r('update', G.core, 'persistentvolumeclaims'),
    ]),
    c('validatingadmissionpolicy-status-controller', [
      r(['get', 'list', 'watch'], G.admissionregistration, 'validatingadmissionpolicies'),
      r(['get', 'patch', 'update'], G.admissionregistration, 'validatingadmissionpolicies/status'),
    ]),
    c('ttl-controller', [r(['update', 'patch', 'list', 'watch'], G.core, 'nodes'), eventsRule()]),
    c('certificate-controller', [
      r(['get', 'list', 'watch', 'delete'], G.certs, 'certificatesigningrequests'),
      r('update', G.certs, ['certificatesigningrequests/status', 'certificatesigningrequests/approval']),
      r('approve', G.certs, 'signers', [SIGNERS.apiserverClientKubelet]),
      r('sign', G.certs, 'signers', [SIGNERS.legacyUnknown, SIGNERS.apiserverClient, SIGNERS.apiserverClientKubelet, SIGNERS.kubeletServing]),
      r('create', G.authz, 'subjectaccessreviews'),
      eventsRule(),
    ]),
    c('pvc-protection-controller', [r(['get', 'list', 'watch', 'update'], G.core, 'persistentvolumeclaims'), r(['list', 'watch', 'get'], G.core, 'pods'), eventsRule()]),
    c('pv-protection-controller', [r(['get', 'list', 'watch', 'update'], G.core, 'persistentvolumes'), eventsRule()]),
    c('ttl-after-finished-controller', [r(['get', 'list', 'watch', 'delete'], G.batch, 'jobs'), eventsRule()]),
    c('root-ca-cert-publisher', [r(['create', 'update'], G.core, 'configmaps'), eventsRule()]),
    // Mizzen's own: the local-path provisioner k3s deploys (its rules after k3s's local-path-provisioner-role).
    c('local-path-provisioner', [
      r(read, G.core, ['nodes', 'persistentvolumeclaims']),
      r(['get', 'list', 'watch', 'create', 'delete', 'patch', 'update'], G.core, 'persistentvolumes'),
      r(['get', 'create'], G.core, 'configmaps'),
      r(['get', 'create', 'delete'], G.core, 'pods'),
      r(['get', 'list', 'watch', 'create'], G.storage, 'storageclasses'),
      eventsRule(),
    ]),
    c('legacy-service-account-token-cleaner', [
      r('get', G.core, 'configmaps', ['kube-apiserver-legacy-service-account-token-tracking']),
      r('delete', G.core, 'secrets'),
      r(['update', 'patch'], G.core, 'secrets'),
    ]),
  ];
}

function clusterRole(d: RoleDef): KObject {
  const o: KObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: d.name, labels: { ...(d.labels ?? {}), ...BOOTSTRAP_LABEL }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
  };
  if (d.aggregate) {
    o.aggregationRule = { clusterRoleSelectors: d.aggregate.map((a) => ({ matchLabels: aggregateTo(a) })) };
    o.rules = [];
  } else o.rules = d.rules ?? [];
  return o;
}

type Subject = { kind: 'User' | 'Group' | 'ServiceAccount'; name: string; namespace?: string };
const user = (name: string): Subject => ({ kind: 'User', name });
const group = (name: string): Subject => ({ kind: 'Group', name });
const sa = (namespace: string, name: string): Subject => ({ kind: 'ServiceAccount', name, namespace });

function binding(kind: 'ClusterRoleBinding' | 'RoleBinding', name: string, roleKind: 'ClusterRole' | 'Role', role: string, subjects: Subject[], namespace?: string): KObject {
  const o: KObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: { name, labels: { ...BOOTSTRAP_LABEL }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role },
  };
  if (namespace) o.metadata.namespace = namespace;
  if (subjects.length) o.subjects = subjects.map((s) => (s.kind === 'ServiceAccount' ? { ...s } : { ...s, apiGroup: 'rbac.authorization.k8s.io' }));
  return o;
}

export const SIMULATED_NODES_USER = 'mizzen:simulated-nodes';
export const CLOUD_CONTROLLER_MANAGER_USER = 'system:cloud-controller-manager';
export const NODE_SERVICES_USER = 'mizzen:node-services';

export interface BootstrapPolicy {
  clusterRoles: KObject[];
  clusterRoleBindings: KObject[];
  /** Namespaced roles and bindings (kube-system, kube-public). */
  roles: KObject[];
  roleBindings: KObject[];
}

export function bootstrapPolicy(): BootstrapPolicy {
  const controllers = controllerRoleDefs();
  const clusterRoles = [...clusterRoleDefs(), ...controllers].map(clusterRole);
  const crb = (name: string, subjects: Subject[], role = name) => binding('ClusterRoleBinding', name, 'ClusterRole', role, subjects);
  const clusterRoleBindings = [
    crb('cluster-admin', [group('system:masters')]),
    crb('system:monitoring', [group('system:monitoring')]),
    crb('system:discovery', [group('system:authenticated')]),
    crb('system:basic-user', [group('system:authenticated')]),
    crb('system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
    crb('system:node-proxier', [user('system:kube-proxy')]),
    crb('system:kube-controller-manager', [user('system:kube-controller-manager')]),
    crb('system:kube-dns', [sa('kube-system', 'kube-dns')]),
    crb('system:kube-scheduler', [user('system:kube-scheduler')]),
    crb('system:volume-scheduler', [user('system:kube-scheduler')]),
    // Kept with no subjects, as upstream: the node authorizer grants nodes their access.
    crb('system:node', []),
    crb('system:service-account-issuer-discovery', [group('system:serviceaccounts')]),
    crb('system:cloud-controller-manager', [user(CLOUD_CONTROLLER_MANAGER_USER), sa('kube-system', 'cloud-controller-manager')]),
    crb('mizzen:simulated-nodes', [user(SIMULATED_NODES_USER)]),
    crb('mizzen:node-services', [user(NODE_SERVICES_USER)]),
    // Kubelet client-certificate bootstrap and renewal (kubeadm and k3s bind these the same way).
    crb('system:node-bootstrapper', [group('system:bootstrappers')]),
    crb('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [group('system:bootstrappers')]),
    crb('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [group('system:nodes')]),
    ...controllers.map((d) => crb(d.name, [sa('kube-system', d.name.slice('system:controller:'.length))])),
  ];
  const role = (ns: string, name: string, rules: PolicyRule[]): KObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name, namespace: ns, labels: { ...BOOTSTRAP_LABEL }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    rules,
  });
  const roles = [
    role('kube-system', 'extension-apiserver-authentication-reader', [r(read, G.core, 'configmaps', ['extension-apiserver-authentication'])]),
    role('kube-system', 'system::leader-locking-kube-controller-manager', [r('watch', G.core, 'configmaps'), r(['get', 'update'], G.core, 'configmaps', ['kube-controller-manager'])]),
    role('kube-system', 'system::leader-locking-kube-scheduler', [r('watch', G.core, 'configmaps'), r(['get', 'update'], G.core, 'configmaps', ['kube-scheduler'])]),
  ];
  const rb = (name: string, roleName: string, subjects: Subject[]) => binding('RoleBinding', name, 'Role', roleName, subjects, 'kube-system');
  const roleBindings = [
    rb('system::extension-apiserver-authentication-reader', 'extension-apiserver-authentication-reader', [user('system:kube-controller-manager'), user('system:kube-scheduler')]),
    rb('system::leader-locking-kube-controller-manager', 'system::leader-locking-kube-controller-manager', [user('system:kube-controller-manager'), sa('kube-system', 'kube-controller-manager')]),
    rb('system::leader-locking-kube-scheduler', 'system::leader-locking-kube-scheduler', [user('system:kube-scheduler'), sa('kube-system', 'kube-scheduler')]),
  ];
  return { clusterRoles, clusterRoleBindings, roles, roleBindings };
}

/** Our controller names → the kube-system ServiceAccount each runs as (upstream's names). */
export const CONTROLLER_SERVICE_ACCOUNTS: Record<string, string> = {
  replicaset: 'replicaset-controller',
  replicationcontroller: 'replication-controller',
  deployment: 'deployment-controller',
  'garbage-collector': 'generic-garbage-collector',
  namespace: 'namespace-controller',
  serviceaccount: 'service-account-controller',
  'root-ca-cert-publisher': 'root-ca-cert-publisher',
  'pod-garbage-collector': 'pod-garbage-collector',
  'ttl-after-finished': 'ttl-after-finished-controller',
  resourcequota: 'resourcequota-controller',
  statefulset: 'statefulset-controller',
  daemonset: 'daemon-set-controller',
  job: 'job-controller',
  cronjob: 'cronjob-controller',
  'node-lifecycle': 'node-controller',
  'node-ipam': 'node-controller',
  endpoints: 'endpoint-controller',
  endpointslice: 'endpointslice-controller',
  disruption: 'disruption-controller',
  'persistentvolume-binder': 'persistent-volume-binder',
  'local-path-provisioner': 'local-path-provisioner',
  'horizontal-pod-autoscaler': 'horizontal-pod-autoscaler',
  'validatingadmissionpolicy-status-controller': 'validatingadmissionpolicy-status-controller',
  'clusterrole-aggregation': 'clusterrole-aggregation-controller',
  'csr-signing': 'certificate-controller',
  'csr-approving': 'certificate-controller',
  'csr-cleaner': 'certificate-controller',
  'legacy-service-account-token-cleaner': 'legacy-service-account-token-cleaner',
};
