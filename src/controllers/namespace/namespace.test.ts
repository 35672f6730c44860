// Namespace deletion against a real API server: content goes, conditions report what remains
// (a gracefully terminating pod, whose kubelet the test plays, and an object with a finalizer),
// then the namespace goes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { createNamespace, eventually, testControllerEnv, type TestControllerEnv } from '../test-support.ts';
import { createNamespaceController, updateConditions } from './index.ts';

let tc: TestCluster;
let env: TestControllerEnv;

before(async () => {
  tc = await startTestCluster();
  env = testControllerEnv(tc.kubeconfig);
  await env.start((ctx) => createNamespaceController(ctx, { maxRecheckMs: 500 }));
});
after(async () => {
  await env.stop();
  await tc.close();
});

const podSpec = { containers: [{ name: 'app', image: 'nginx' }], terminationGracePeriodSeconds: 30 };

test('deleting a namespace deletes pods, configmaps and deployments, reports conditions, then goes', async () => {
  const ns = await createNamespace(tc.client, 'doomed');
  const c = tc.client;
  const pods = { version: 'v1', resource: 'pods', namespace: ns };
  // Bound to a node, so its deletion is graceful and waits for the "kubelet" (this test).
  await c.create(pods, { metadata: { name: 'p1' }, spec: { ...podSpec, nodeName: 'ghost' } });
  await c.create(pods, { metadata: { name: 'p2' }, spec: podSpec });
  await c.create({ version: 'v1', resource: 'configmaps', namespace: ns }, { metadata: { name: 'cm1' } });
  await c.create({ version: 'v1', resource: 'secrets', namespace: ns }, { metadata: { name: 's1' }, stringData: { a: 'b' } });
  await c.create({ version: 'v1', resource: 'configmaps', namespace: ns }, { metadata: { name: 'held', finalizers: ['example.com/hold'] } });
  await c.create(
    { group: 'apps', version: 'v1', resource: 'deployments', namespace: ns },
    { metadata: { name: 'd1' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: podSpec } } },
  );

  await c.delete({ version: 'v1', resource: 'namespaces', name: ns });
  const held = await eventually('conditions report the held configmap', async () => {
    const o = await c.get<KObject>({ version: 'v1', resource: 'namespaces', name: ns });
    const remaining = o.status?.conditions?.find((x: any) => x.type === 'NamespaceContentRemaining');
    return remaining?.message === 'Some resources are remaining: configmaps. has 1 resource instances, pods. has 1 resource instances' ? o : undefined;
  });
  assert.equal(held.status.phase, 'Terminating');
  const byType = Object.fromEntries(held.status.conditions.map((x: any) => [x.type, x]));
  assert.equal(byType.NamespaceFinalizersRemaining.reason, 'SomeFinalizerRemain');
  assert.equal(byType.NamespaceFinalizersRemaining.message, 'Some finalizers are remaining: example.com/hold in 1 resource instances');
  assert.equal(byType.NamespaceDeletionDiscoveryFailure.status, 'False');
  assert.equal(byType.NamespaceDeletionDiscoveryFailure.reason, 'ResourcesDiscovered');
  assert.equal(byType.NamespaceDeletionContentFailure.reason, 'ContentDeleted');
  assert.deepEqual(held.spec.finalizers, ['kubernetes']);
  for (const [res, group] of [['deployments', 'apps'], ['secrets', '']] as const) {
    const l = await c.list({ group: group || undefined, version: 'v1', resource: res, namespace: ns });
    assert.equal(l.items.length, 0, `${res} deleted`);
  }
  const left = await c.list<KObject>(pods);
  assert.deepEqual(left.items.map((p) => p.metadata.name), ['p1']);
  assert.ok(left.items[0].metadata.deletionTimestamp);

  // The kubelet confirms the pod stopped; the finalizer's owner lets go.
  await c.delete({ ...pods, name: 'p1' }, { gracePeriodSeconds: 0 });
  await c.patch({ version: 'v1', resource: 'configmaps', namespace: ns, name: 'held' }, 'merge', { metadata: { finalizers: null } });
  await eventually('namespace gone', async () => {
    try {
      await c.get({ version: 'v1', resource: 'namespaces', name: ns });
      return undefined;
    } catch (e) {
      return isNotFound(e) ? true : undefined;
    }
  }, 30_000);
});

test('updateConditions fills every condition type and keeps transition times of unchanged ones', () => {
  const status: any = {};
  assert.equal(updateConditions(status, [], 't1'), true);
  assert.equal(status.conditions.length, 5);
  assert.ok(status.conditions.every((c: any) => c.status === 'False' && c.lastTransitionTime === 't1'));
  assert.equal(updateConditions(status, [], 't2'), false);
  const failing = [{ type: 'NamespaceContentRemaining', status: 'True' as const, reason: 'SomeResourcesRemain', message: 'Some resources are remaining: pods. has 1 resource instances' }];
  assert.equal(updateConditions(status, failing, 't3'), true);
  const c = status.conditions.find((x: any) => x.type === 'NamespaceContentRemaining');
  assert.equal(c.lastTransitionTime, 't3');
  assert.equal(status.conditions.find((x: any) => x.type === 'NamespaceFinalizersRemaining').lastTransitionTime, 't1');
});
