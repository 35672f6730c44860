// The cloud node lifecycle controller against a real API server with a provider double.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../api/types.ts';
import { isNotFound } from '../../../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../../../kubelet/simulated/test-cluster.ts';
import { testControllerEnv } from '../../../controllers/test-support.ts';
import { FakeCloud } from '../../testing/fake-cloud.ts';
import { createNode, fastCloudOptions, setNodeReady, waitForEvent, waitUntil } from '../../testing/support.ts';
import { TAINT_SHUTDOWN } from '../../labels.ts';
import { NotImplementedError } from '../../errors.ts';
import { cloudNodeLifecycleController } from './index.ts';

let cluster: TestCluster;
const cloud = new FakeCloud();
let env: ReturnType<typeof testControllerEnv>;
const nodeRef = (name: string) => ({ version: 'v1', resource: 'nodes', name });
const meta = (name: string) => ({ metadata: { providerID: `fake://${name}`, nodeAddresses: [] } });

before(async () => {
  cluster = await startTestCluster();
  env = testControllerEnv(cluster.client);
  await env.start((ctx) => cloudNodeLifecycleController(ctx, cloud, fastCloudOptions));
});
after(async () => {
  await env.stop();
  await cluster.close();
});

test('a NotReady node whose machine is gone is deleted, with an event', async () => {
  const c = cluster.client;
  await createNode(c, 'gone', { ready: 'Unknown' });
  await createNode(c, 'excluded', { ready: 'Unknown', labels: { 'node.kubernetes.io/exclude-from-lifecycle-management': 'true' } });
  cloud.instances.set('healthy', meta('healthy'));
  await createNode(c, 'healthy', { ready: 'True' });
  await waitUntil('gone deleted', async () => {
    try {
      await c.get(nodeRef('gone'));
      return false;
    } catch (e) {
      return isNotFound(e);
    }
  });
  const ev = await waitForEvent(c, 'default', 'gone', 'DeletingNode', 'Deleting node gone because it does not exist in the cloud provider');
  assert.equal(ev.involvedObject.kind, 'Node');
  await c.get(nodeRef('excluded'));
  await c.get(nodeRef('healthy'));
  // Ready nodes are not even asked about.
  assert.ok(!cloud.callsOf('instanceExists').some((x) => x.node === 'healthy'));
});

test('a NotReady node whose machine is shut down is tainted; the taint goes when it is Ready again', async () => {
  const c = cluster.client;
  cloud.instances.set('sleepy', { ...meta('sleepy'), shutdown: true });
  await createNode(c, 'sleepy', { ready: 'False', taints: [{ key: 'keep-me', effect: 'NoSchedule' }] });
  const n = await waitUntil('shutdown taint', async () => {
    const x = await c.get<KObject>(nodeRef('sleepy'));
    return x.spec.taints?.some((t: any) => t.key === TAINT_SHUTDOWN) ? x : undefined;
  });
  assert.deepEqual(n.spec.taints, [{ key: 'keep-me', effect: 'NoSchedule' }, { key: TAINT_SHUTDOWN, effect: 'NoSchedule' }]);
  cloud.instances.get('sleepy')!.shutdown = false;
  await setNodeReady(c, 'sleepy', 'True');
  await waitUntil('shutdown taint removed', async () => JSON.stringify((await c.get<KObject>(nodeRef('sleepy'))).spec.taints) === JSON.stringify([{ key: 'keep-me', effect: 'NoSchedule' }]));
});

test('provider errors leave the node alone', async () => {
  const c = cluster.client;
  cloud.failNext('instanceExists', new Error('RequestLimitExceeded'), new Error('RequestLimitExceeded'));
  await createNode(c, 'unsure', { ready: 'False' });
  cloud.instances.set('unsure', meta('unsure'));
  await waitUntil('asked again after the errors', () => cloud.callsOf('instanceExists').filter((x) => x.node === 'unsure').length >= 3);
  await c.get(nodeRef('unsure'));
});

test('a provider that cannot tell shut-down machines (NotImplemented) leaves the node untainted', async () => {
  const c = cluster.client;
  cloud.instances.set('opaque', meta('opaque'));
  cloud.failNext('instanceShutdown', new NotImplementedError(), new NotImplementedError());
  await createNode(c, 'opaque', { ready: 'False' });
  await waitUntil('asked twice', () => cloud.callsOf('instanceShutdown').filter((x) => x.node === 'opaque').length >= 2);
  const n = await c.get<KObject>(nodeRef('opaque'));
  assert.ok(!n.spec.taints?.some((t: any) => t.key === TAINT_SHUTDOWN));
});
