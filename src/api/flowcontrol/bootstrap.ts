// Upstream's bootstrap API Priority and Fairness configuration (apiserver's
// apis/flowcontrol/bootstrap): the mandatory exempt and catch-all objects plus the suggested ones,
// created at start when missing so that clients listing them see what a kube-apiserver has.

import type { KObject } from '../types.ts';

const autoUpdate = { 'apf.kubernetes.io/autoupdate-spec': 'true' };

const allResources = [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], clusterScope: true, namespaces: ['*'] }];
const allNonResources = [{ verbs: ['*'], nonResourceURLs: ['*'] }];

const group = (name: string) => ({ kind: 'Group', group: { name } });
const user = (name: string) => ({ kind: 'User', user: { name } });
const kubeSystemSA = (name: string) => ({ kind: 'ServiceAccount', serviceAccount: { name, namespace: 'kube-system' } });

function level(name: string, spec: Record<string, unknown>): KObject {
  return { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'PriorityLevelConfiguration', metadata: { name, annotations: { ...autoUpdate } }, spec };
}

function queued(shares: number, lendable: number, queues: number, handSize: number, queueLengthLimit: number): Record<string, unknown> {
  return {
    type: 'Limited',
    limited: { nominalConcurrencyShares: shares, lendablePercent: lendable, limitResponse: { type: 'Queue', queuing: { queues, handSize, queueLengthLimit } } },
  };
}

function schema(name: string, level: string, precedence: number, distinguisher: string | undefined, rules: unknown[]): KObject {
  const spec: Record<string, unknown> = { priorityLevelConfiguration: { name: level }, matchingPrecedence: precedence };
  if (distinguisher) spec.distinguisherMethod = { type: distinguisher };
  spec.rules = rules;
  return { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema', metadata: { name, annotations: { ...autoUpdate } }, spec };
}

const everything = (subjects: unknown[]) => [{ subjects, resourceRules: allResources, nonResourceRules: allNonResources }];

export const bootstrapPriorityLevels: KObject[] = [
  level('exempt', { type: 'Exempt', exempt: { nominalConcurrencyShares: 0, lendablePercent: 0 } }),
  level('catch-all', { type: 'Limited', limited: { nominalConcurrencyShares: 5, lendablePercent: 0, limitResponse: { type: 'Reject' } } }),
  level('system', queued(30, 33, 64, 6, 50)),
  level('node-high', queued(40, 25, 64, 6, 50)),
  level('leader-election', queued(10, 0, 16, 4, 50)),
  level('workload-high', queued(40, 50, 128, 6, 50)),
  level('workload-low', queued(100, 90, 128, 6, 50)),
  level('global-default', queued(20, 50, 128, 6, 50)),
];

export const bootstrapFlowSchemas: KObject[] = [
  schema('exempt', 'exempt', 1, undefined, everything([group('system:masters')])),
  schema('probes', 'exempt', 2, undefined, [
    { subjects: [group('system:unauthenticated'), group('system:authenticated')], nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/readyz', '/livez'] }] },
  ]),
  schema('system-leader-election', 'leader-election', 100, 'ByUser', [
    {
      subjects: [user('system:kube-controller-manager'), user('system:kube-scheduler'), kubeSystemSA('*')],
      resourceRules: [{ verbs: ['get', 'create', 'update'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces: ['*'] }],
    },
  ]),
  schema('endpoint-controller', 'workload-high', 150, 'ByUser', [
    {
      subjects: [user('system:kube-controller-manager'), kubeSystemSA('endpoint-controller')],
      resourceRules: [{ verbs: ['get', 'create', 'update'], apiGroups: [''], resources: ['endpoints'], namespaces: ['*'] }],
    },
  ]),
  schema('workload-leader-election', 'leader-election', 200, 'ByUser', [
    { subjects: [kubeSystemSA('*')], resourceRules: [{ verbs: ['get', 'create', 'update'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces: ['*'] }] },
  ]),
  schema('system-node-high', 'node-high', 400, 'ByUser', [
    {
      subjects: [group('system:nodes')],
      resourceRules: [
        { verbs: ['*'], apiGroups: [''], resources: ['nodes', 'nodes/status'], clusterScope: true },
        { verbs: ['*'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces: ['*'] },
      ],
    },
  ]),
  schema('system-nodes', 'system', 500, 'ByUser', everything([group('system:nodes')])),
  schema('kube-controller-manager', 'workload-high', 800, 'ByNamespace', everything([user('system:kube-controller-manager')])),
  schema('kube-scheduler', 'workload-high', 800, 'ByNamespace', everything([user('system:kube-scheduler')])),
  schema('kube-system-service-accounts', 'workload-high', 900, 'ByNamespace', everything([kubeSystemSA('*')])),
  schema('service-accounts', 'workload-low', 9000, 'ByUser', everything([group('system:serviceaccounts')])),
  schema('global-default', 'global-default', 9900, 'ByUser', everything([group('system:unauthenticated'), group('system:authenticated')])),
  schema('catch-all', 'catch-all', 10000, 'ByUser', everything([group('system:unauthenticated'), group('system:authenticated')])),
];
