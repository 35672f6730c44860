// The route controller against a real API server with a provider double.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../api/types.ts';
import { startTestCluster, type TestCluster } from '../../../kubelet/simulated/test-cluster.ts';
import { testControllerEnv } from '../../../controllers/test-support.ts';
import { FakeCloud } from '../../testing/fake-cloud.ts';
import { createNode, fastCloudOptions, waitForEvent, waitForNodeRouted, waitUntil } from '../../testing/support.ts';
import { routeController } from './index.ts';

let cluster: TestCluster;
const cloud = new FakeCloud();
let env: ReturnType<typeof testControllerEnv>;
const nodeRef = (name: string) => ({ version: 'v1', resource: 'nodes', name });

before(async () => {
  cluster = await startTestCluster();
  // A leftover route of a node that is gone, and one outside the cluster CIDR that is not ours.
  cloud.cloudRoutes.set('10.42.9.0/24', { name: 'old', targetNode: 'departed', destinationCIDR: '10.42.9.0/24' });
  cloud.cloudRoutes.set('192.168.0.0/24', { name: 'foreign', targetNode: 'elsewhere', destinationCIDR: '192.168.0.0/24' });
  await createNode(cluster.client, 'r1', { podCIDR: '10.42.1.0/24' });
  await createNode(cluster.client, 'r2', { podCIDR: '10.42.2.0/24' });
  await createNode(cluster.client, 'no-cidr');
  env = testControllerEnv(cluster.client);
  await env.start((ctx) => routeController(ctx, cloud, { ...fastCloudOptions, clusterCIDR: '10.42.0.0/16' }));
});
after(async () => {
  await env.stop();
  await cluster.close();
});

const condition = (n: KObject) => n.status?.conditions?.find((c: any) => c.type === 'NetworkUnavailable');

test('a route per node podCIDR, stale routes inside the cluster CIDR deleted, NetworkUnavailable=False', async () => {
  const c = cluster.client;
  await waitUntil('routes', () => cloud.cloudRoutes.has('10.42.1.0/24') && cloud.cloudRoutes.has('10.42.2.0/24') && !cloud.cloudRoutes.has('10.42.9.0/24'));
  assert.ok(cloud.cloudRoutes.has('192.168.0.0/24'));
  const r1 = await c.get<KObject>(nodeRef('r1'));
  assert.equal(cloud.cloudRoutes.get('10.42.1.0/24')!.name, `route-${r1.metadata.uid}`);
  assert.equal(cloud.cloudRoutes.get('10.42.1.0/24')!.targetNode, 'r1');
  const cond = await waitUntil('condition', async () => condition(await c.get<KObject>(nodeRef('r1'))));
  assert.equal(cond.status, 'False');
  assert.equal(cond.reason, 'RouteCreated');
  assert.equal(cond.message, 'RouteController created a route');
  assert.equal(condition(await c.get<KObject>(nodeRef('no-cidr'))), undefined);
  // Steady state: no more creates.
  const creates = cloud.callsOf('createRoute').length;
  await waitUntil('two more reconciles', () => cloud.callsOf('listRoutes').length >= 4);
  assert.equal(cloud.callsOf('createRoute').length, creates);
});

test('a route that cannot be created is a Warning and NetworkUnavailable=True', async () => {
  const c = cluster.client;
  cloud.failNext('createRoute', new Error('RouteLimitExceeded'));
  await createNode(c, 'r3', { podCIDR: '10.42.3.0/24' });
  const ev = await waitForEvent(c, 'default', 'r3', 'FailedToCreateRoute');
  assert.equal(ev.type, 'Warning');
  assert.match(ev.message, /^Could not create route [0-9a-f-]+ 10\.42\.3\.0\/24 for node r3 after [\d.]+s: RouteLimitExceeded$/);
  // Retried on the next reconcile; the condition follows.
  assert.equal((await waitForNodeRouted(c, 'r3')).reason, 'RouteCreated');
  assert.ok(cloud.cloudRoutes.has('10.42.3.0/24'));
});
