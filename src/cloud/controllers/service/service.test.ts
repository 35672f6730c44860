// The service controller against a real API server with a provider test double: finalizer,
// status, node set changes, provider errors (retried, Warning events), loadBalancerClass, type
// changes and deletion.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../api/types.ts';
import { isNotFound } from '../../../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../../../kubelet/simulated/test-cluster.ts';
import { testControllerEnv } from '../../../controllers/test-support.ts';
import { FakeCloud } from '../../testing/fake-cloud.ts';
import { createNamespace } from '../../../controllers/test-support.ts';
import { createNode, eventsFor, fastCloudOptions, loadBalancerService, waitForEvent, waitUntil } from '../../testing/support.ts';
import { RetryError } from '../../errors.ts';
import { FINALIZER_LB_CLEANUP } from '../../labels.ts';
import { serviceController } from './index.ts';
import { needsUpdate, eligibleNodes } from './predicates.ts';

let cluster: TestCluster;
const cloud = new FakeCloud();
let env: ReturnType<typeof testControllerEnv>;
const NS = 'lb';
const svcRef = (name: string) => ({ version: 'v1', resource: 'services', namespace: NS, name });

before(async () => {
  cluster = await startTestCluster();
  await createNamespace(cluster.client, NS);
  await createNode(cluster.client, 'node-a', { providerID: 'fake://node-a' });
  await createNode(cluster.client, 'node-b', { providerID: 'fake://node-b', ready: 'False' });
  await createNode(cluster.client, 'excluded', { providerID: 'fake://excluded', labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } });
  await createNode(cluster.client, 'no-provider-id');
  env = testControllerEnv(cluster.client);
  await env.start((ctx) => serviceController(ctx, cloud, { ...fastCloudOptions, clusterName: 'test-cluster' }));
});

after(async () => {
  await env.stop();
  await cluster.close();
});

test('predicates: eligible nodes and the changes that need a sync', () => {
  const n = (name: string, extra: any = {}) => ({ metadata: { name, ...(extra.metadata ?? {}) }, spec: { providerID: `x://${name}`, ...(extra.spec ?? {}) } });
  assert.deepEqual(
    eligibleNodes([n('b'), n('a'), n('c', { metadata: { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' } } }), n('d', { spec: { providerID: '' } }), n('e', { spec: { taints: [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }] } }), n('f', { metadata: { deletionTimestamp: 'x' } })]).map((x) => x.metadata.name),
    ['a', 'b'],
  );
  const svc = loadBalancerService('x');
  assert.deepEqual(needsUpdate(svc, svc), { update: false });
  assert.deepEqual(needsUpdate({ ...svc, spec: { ...svc.spec, type: 'ClusterIP' } }, svc), { update: true, event: { reason: 'Type', message: 'ClusterIP -> LoadBalancer' } });
  assert.deepEqual(needsUpdate(svc, { ...svc, spec: { ...svc.spec, loadBalancerSourceRanges: ['10.0.0.0/8'] } }).event, { reason: 'LoadBalancerSourceRanges', message: '[] -> [10.0.0.0/8]' });
  assert.equal(needsUpdate(svc, { ...svc, spec: { ...svc.spec, ports: [{ name: 'http', port: 81, targetPort: 8080, protocol: 'TCP' }] } }).update, true);
  assert.equal(needsUpdate({ ...svc, spec: { ...svc.spec, type: 'ClusterIP' } }, { ...svc, spec: { ...svc.spec, type: 'NodePort' } }).update, false);
});

test('a LoadBalancer Service gets the finalizer, a balancer over the eligible nodes and its address in status', async () => {
  const c = cluster.client;
  await c.create(svcRef(''), loadBalancerService('web'));
  const svc = await waitUntil('ingress in status', async () => {
    const s = await c.get<KObject>(svcRef('web'));
    return s.status?.loadBalancer?.ingress?.[0]?.ip ? s : undefined;
  });
  assert.deepEqual(svc.metadata.finalizers, [FINALIZER_LB_CLEANUP]);
  assert.match(svc.status.loadBalancer.ingress[0].ip, /^192\.0\.2\.\d+$/);
  // Readiness does not matter (StableLoadBalancerNodeSet); exclusion and a missing providerID do.
  assert.deepEqual(cloud.callsOf('ensureLoadBalancer').at(-1)!.nodes, ['node-a', 'node-b']);
  await waitForEvent(c, NS, 'web', 'EnsuringLoadBalancer', 'Ensuring load balancer');
  await waitForEvent(c, NS, 'web', 'EnsuredLoadBalancer', 'Ensured load balancer');
});

test('a new eligible node updates existing balancers', async () => {
  const c = cluster.client;
  await waitUntil('web has a balancer', () => cloud.balancers.get(`${NS}/web`));
  await createNode(c, 'node-c', { providerID: 'fake://node-c' });
  await waitUntil('update with node-c', () => cloud.callsOf('updateLoadBalancer').find((x) => x.service === `${NS}/web` && x.nodes!.includes('node-c')));
  assert.deepEqual(cloud.balancers.get(`${NS}/web`)!.nodes, ['node-a', 'node-b', 'node-c']);
  await waitForEvent(c, NS, 'web', 'UpdatedLoadBalancer', 'Updated load balancer with new hosts');
  // Labelling a node for exclusion takes it out again.
  await c.patch({ version: 'v1', resource: 'nodes', name: 'node-c' }, 'merge', { metadata: { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' } } });
  await waitUntil('node-c removed', () => JSON.stringify(cloud.balancers.get(`${NS}/web`)!.nodes) === '["node-a","node-b"]');
});

test('provider errors are Warning events and retried with backoff, never a crash', async () => {
  const c = cluster.client;
  cloud.failNext('ensureLoadBalancer', new Error('Throttling: Rate exceeded'), new Error('Throttling: Rate exceeded'));
  await c.create(svcRef(''), loadBalancerService('flaky'));
  const ev = await waitForEvent(c, NS, 'flaky', 'SyncLoadBalancerFailed');
  assert.equal(ev.type, 'Warning');
  assert.equal(ev.message, 'Error syncing load balancer: failed to ensure load balancer: Throttling: Rate exceeded');
  await waitUntil('flaky ingress after retries', async () => (await c.get<KObject>(svcRef('flaky'))).status?.loadBalancer?.ingress?.[0]?.ip);
  assert.ok(cloud.callsOf('ensureLoadBalancer').filter((x) => x.service === `${NS}/flaky`).length >= 3);
  const failed = (await eventsFor(c, NS, 'flaky')).find((e) => e.reason === 'SyncLoadBalancerFailed')!;
  assert.equal(failed.count, 2);
});

test('a RetryError waits without a Warning', async () => {
  const c = cluster.client;
  cloud.failNext('ensureLoadBalancer', new RetryError('load balancer is provisioning', 200));
  await c.create(svcRef(''), loadBalancerService('slow'));
  await waitUntil('slow ingress', async () => (await c.get<KObject>(svcRef('slow'))).status?.loadBalancer?.ingress?.[0]?.ip);
  assert.ok(!(await eventsFor(c, NS, 'slow')).some((e) => e.reason === 'SyncLoadBalancerFailed'));
});

test('a Service with another loadBalancerClass is left alone', async () => {
  const c = cluster.client;
  await c.create(svcRef(''), loadBalancerService('classy', { spec: { loadBalancerClass: 'example.com/other' } }));
  await c.create(svcRef(''), loadBalancerService('marker'));
  await waitUntil('marker served', async () => (await c.get<KObject>(svcRef('marker'))).status?.loadBalancer?.ingress?.[0]?.ip);
  const s = await c.get<KObject>(svcRef('classy'));
  assert.equal(s.metadata.finalizers, undefined);
  assert.ok(!cloud.calls.some((x) => x.service === `${NS}/classy`));
});

test('changing the type away from LoadBalancer deletes the balancer and the finalizer', async () => {
  const c = cluster.client;
  await c.create(svcRef(''), loadBalancerService('typed'));
  await waitUntil('typed served', () => cloud.balancers.get(`${NS}/typed`));
  // The finalizer, then the status: wait for both, so the update below does not race the controller's writes.
  await waitUntil('typed has finalizer and address', async () => {
    const x = await c.get<KObject>(svcRef('typed'));
    return x.metadata.finalizers?.length && x.status?.loadBalancer?.ingress?.length;
  });
  const cur = await c.get<KObject>(svcRef('typed'));
  cur.spec.type = 'ClusterIP';
  for (const p of cur.spec.ports) delete p.nodePort;
  await c.update(svcRef('typed'), cur);
  const s = await waitUntil('typed cleaned up', async () => {
    const x = await c.get<KObject>(svcRef('typed'));
    return !x.metadata.finalizers?.length && !x.status?.loadBalancer?.ingress ? x : undefined;
  });
  assert.equal(s.spec.type, 'ClusterIP');
  assert.ok(!cloud.balancers.has(`${NS}/typed`));
  await waitForEvent(c, NS, 'typed', 'Type', 'LoadBalancer -> ClusterIP');
  await waitForEvent(c, NS, 'typed', 'DeletingLoadBalancer', 'Deleting load balancer');
  await waitForEvent(c, NS, 'typed', 'DeletedLoadBalancer', 'Deleted load balancer');
});

test('deleting the Service deletes the balancer, then the finalizer lets it go', async () => {
  const c = cluster.client;
  await c.create(svcRef(''), loadBalancerService('doomed'));
  await waitUntil('doomed served', async () => (await c.get<KObject>(svcRef('doomed'))).status?.loadBalancer?.ingress?.[0]?.ip);
  cloud.failNext('ensureLoadBalancerDeleted', new Error('ResourceInUse: still attached'));
  await c.delete(svcRef('doomed'));
  // The first delete fails: the Service stays, held by the finalizer, with a Warning.
  await waitForEvent(c, NS, 'doomed', 'SyncLoadBalancerFailed', 'Error syncing load balancer: failed to delete load balancer: ResourceInUse: still attached');
  await waitUntil('doomed gone', async () => {
    try {
      await c.get(svcRef('doomed'));
      return false;
    } catch (e) {
      return isNotFound(e);
    }
  });
  assert.ok(!cloud.balancers.has(`${NS}/doomed`));
});
