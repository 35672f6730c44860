// The gcp provider's routes on the real SDK against the Compute Engine stand-in: the exact list
// filter and route bodies, pages followed, global operations waited for, a route whose instance
// is gone seen as a blackhole, 409/404 taken as done, rate limits surfaced; then the route
// controller driving it against a real API server. Nothing leaves 127.0.0.1 (see gcp.test.ts).

process.env.METADATA_SERVER_DETECTION = 'none';
process.env.GCE_METADATA_HOST = '127.0.0.1:9';
process.env.GCE_METADATA_IP = '127.0.0.1:9';
delete process.env.GOOGLE_APPLICATION_CREDENTIALS;

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OAuth2Client } from 'google-auth-library';
import type { KObject } from '../../../api/types.ts';
import { startTestCluster, type TestCluster } from '../../../kubelet/simulated/test-cluster.ts';
import { testControllerEnv } from '../../../controllers/test-support.ts';
import { cloudManagerFactories } from '../../controllers/index.ts';
import { createNode, fastCloudOptions, waitForEvent, waitForNodeRouted, waitUntil } from '../../testing/support.ts';
import type { CloudProvider, Routes } from '../../provider.ts';
import { GcpStandIn } from './stand-in.ts';
import { createProvider } from './index.ts';

const SELF = 'https://www.googleapis.com/compute/v1/projects/mizzen-test';
const NETWORK = 'https://www.googleapis.com/compute/v1/projects/mizzen-test/global/networks/pods';
// 30 characters: route names use its first 26.
const CLUSTER = 'mizzen-routes-cluster-abcdefg';
const PREFIX = 'mizzen-routes-cluster-abcd';
let standIn: GcpStandIn;
let gcp: CloudProvider;
let routes: Routes;

function fakeAuth(): OAuth2Client {
  const c = new OAuth2Client();
  c.setCredentials({ access_token: 'ya29.mizzen-test-token', expiry_date: Date.now() + 3600_000, token_type: 'Bearer' });
  return c;
}

const seedRoute = (name: string, destRange: string, hop: string, extra: Record<string, unknown> = {}) =>
  standIn.routes.set(name, { kind: 'compute#route', name, destRange, network: NETWORK, priority: 1000, description: 'k8s-node-route', nextHopInstance: `${SELF}/zones/us-central1-a/instances/${hop}`, selfLink: `${SELF}/global/routes/${name}`, ...extra });

before(async () => {
  standIn = new GcpStandIn();
  await standIn.start();
  standIn.instances.set('us-central1-a/node-1', { name: 'node-1', zone: 'us-central1-a', status: 'RUNNING', machineType: 'e2-standard-4', networkIP: '10.128.0.2' });
  standIn.instances.set('us-central1-b/node-2', { name: 'node-2', zone: 'us-central1-b', status: 'RUNNING', machineType: 'e2-standard-4', networkIP: '10.128.0.3' });
  gcp = await createProvider({
    config: { projectId: 'mizzen-test', region: 'us-central1', zones: ['us-central1-a', 'us-central1-b'], network: 'pods', apiEndpoint: standIn.url, operationTimeoutSeconds: 1 },
    overrides: { authClient: fakeAuth() },
  });
  routes = gcp.routes()!;
});

after(async () => {
  await standIn?.close();
});

test('listRoutes asks for this cluster\'s routes in this network, follows pages, sees dead next hops', async () => {
  // Ours (one whose instance was deleted), another cluster's, a hand-made one, one in another network.
  seedRoute(`${PREFIX}-uid-1`, '10.60.1.0/24', 'node-1');
  seedRoute(`${PREFIX}-uid-9`, '10.60.9.0/24', 'departed', { warnings: [{ code: 'NEXT_HOP_INSTANCE_NOT_FOUND', message: "Next hop instance 'departed' does not exist." }] });
  seedRoute('other-cluster-uid-5', '10.60.5.0/24', 'node-1');
  seedRoute(`${PREFIX}-manual`, '10.99.0.0/16', 'node-1', { description: 'made by hand' });
  seedRoute(`${PREFIX}-uid-7`, '10.60.7.0/24', 'node-1', { network: `${SELF}/global/networks/default` });
  standIn.routesPageSize = 1;
  standIn.requests.length = 0;
  const got = await routes.listRoutes(CLUSTER);
  assert.deepEqual(got, [
    { name: `${PREFIX}-uid-1`, targetNode: 'node-1', destinationCIDR: '10.60.1.0/24', blackhole: false },
    { name: `${PREFIX}-uid-9`, targetNode: 'departed', destinationCIDR: '10.60.9.0/24', blackhole: true },
  ]);
  assert.deepEqual(standIn.calls(), ['GET routes', 'GET routes']);
  const filter = `(name eq "mizzen-routes-cluster-abcd-.*") (network eq "https://www\\.googleapis\\.com/compute/v1/projects/mizzen-test/global/networks/pods") (description eq "k8s-node-route")`;
  assert.deepEqual(standIn.requests[0]!.query, { filter });
  assert.deepEqual(standIn.requests[1]!.query, { filter, pageToken: '1' });
  assert.equal(standIn.requests[0]!.authorization, 'Bearer ya29.mizzen-test-token');
  standIn.routesPageSize = 500;
  standIn.routes.clear();
});

test('createRoute: the node\'s instance found by name, the route inserted and its global operation waited for', async () => {
  standIn.requests.length = 0;
  standIn.operationWaits = 1;
  await routes.createRoute(CLUSTER, '0b7c2f1e-1111-4c6e-9d0a-3f5e2a1b9c01', { name: '', targetNode: 'node-2', destinationCIDR: '10.60.2.0/24' });
  standIn.operationWaits = 0;
  const name = `${PREFIX}-0b7c2f1e-1111-4c6e-9d0a-3f5e2a1b9c01`;
  assert.equal(name.length, 63);
  const op = [...standIn.operations.keys()].pop();
  assert.deepEqual(standIn.calls(), ['GET instances/node-2', 'GET instances/node-2', 'POST routes', `POST operations/${op}/wait`, `POST operations/${op}/wait`]);
  assert.deepEqual(standIn.requests[2]!.body, {
    name,
    destRange: '10.60.2.0/24',
    nextHopInstance: `${SELF}/zones/us-central1-b/instances/node-2`,
    network: NETWORK,
    priority: 1000,
    description: 'k8s-node-route',
  });
  assert.equal(standIn.routes.get(name)!.destRange, '10.60.2.0/24');

  // Created again (an answer lost on the way): 409 alreadyExists is success, as upstream.
  standIn.requests.length = 0;
  await routes.createRoute(CLUSTER, '0b7c2f1e-1111-4c6e-9d0a-3f5e2a1b9c01', { name: '', targetNode: 'node-2', destinationCIDR: '10.60.2.0/24' });
  assert.deepEqual(standIn.calls().slice(-1), ['POST routes']);

  // A node without a machine: InstanceNotFound, nothing inserted.
  standIn.requests.length = 0;
  await assert.rejects(routes.createRoute(CLUSTER, 'uid-x', { name: '', targetNode: 'ghost', destinationCIDR: '10.60.3.0/24' }), {
    code: 'InstanceNotFound',
    message: 'instance not found: no Compute Engine instance named ghost in zones us-central1-a, us-central1-b',
  });
  assert.deepEqual(standIn.calls(), ['GET instances/ghost', 'GET instances/ghost']);
});

test('deleteRoute: deleted and waited for; already gone is success; a rate limit is an error', async () => {
  const name = `${PREFIX}-0b7c2f1e-1111-4c6e-9d0a-3f5e2a1b9c01`;
  standIn.fail('DELETE', '/global/routes/', 403, 'rateLimitExceeded', 'Rate Limit Exceeded');
  await assert.rejects(routes.deleteRoute(CLUSTER, { name, targetNode: 'node-2', destinationCIDR: '10.60.2.0/24' }), /Rate Limit Exceeded/);
  assert.ok(standIn.routes.has(name));
  standIn.requests.length = 0;
  await routes.deleteRoute(CLUSTER, { name, targetNode: 'node-2', destinationCIDR: '10.60.2.0/24' });
  const op = [...standIn.operations.keys()].pop();
  assert.deepEqual(standIn.calls(), [`DELETE routes/${name}`, `POST operations/${op}/wait`]);
  assert.ok(!standIn.routes.has(name));
  standIn.requests.length = 0;
  await routes.deleteRoute(CLUSTER, { name, targetNode: 'node-2', destinationCIDR: '10.60.2.0/24' });
  assert.deepEqual(standIn.calls(), [`DELETE routes/${name}`]);
});

test('the route controller on gcp: a route per node podCIDR, dead routes removed, rate limits are Warnings and retried', async () => {
  const cluster: TestCluster = await startTestCluster();
  const env = testControllerEnv(cluster.client);
  try {
    const c = cluster.client;
    seedRoute(`${PREFIX}-uid-9`, '10.60.9.0/24', 'departed', { warnings: [{ code: 'NEXT_HOP_INSTANCE_NOT_FOUND', message: "Next hop instance 'departed' does not exist." }] });
    seedRoute('other-cluster-uid-5', '10.60.5.0/24', 'node-1');
    standIn.fail('POST', '/global/routes', 403, 'rateLimitExceeded', 'Rate Limit Exceeded');
    const n1 = await createNode(c, 'node-1', { podCIDR: '10.60.1.0/24' });
    // A node named unlike its instance: found by its providerID, and listed routes map back to it.
    const n2 = await createNode(c, 'worker-b', { podCIDR: '10.60.2.0/24', providerID: 'gce://mizzen-test/us-central1-b/node-2' });
    // As the manager wires it: the provider's term (its node view) and then the route controller.
    const { factories } = cloudManagerFactories(gcp, { ...fastCloudOptions, clusterName: CLUSTER, clusterCIDR: '10.60.0.0/16' }, ['route']);
    await env.start(...Object.values(factories));
    await waitUntil('both routes, the dead one gone', () => standIn.routes.has(`${PREFIX}-${n1.metadata.uid}`) && standIn.routes.has(`${PREFIX}-${n2.metadata.uid}`) && !standIn.routes.has(`${PREFIX}-uid-9`));
    assert.equal(standIn.routes.get(`${PREFIX}-${n1.metadata.uid}`)!.nextHopInstance, `${SELF}/zones/us-central1-a/instances/node-1`);
    assert.equal(standIn.routes.get(`${PREFIX}-${n2.metadata.uid}`)!.destRange, '10.60.2.0/24');
    assert.equal(standIn.routes.get(`${PREFIX}-${n2.metadata.uid}`)!.nextHopInstance, `${SELF}/zones/us-central1-b/instances/node-2`);
    assert.ok(standIn.routes.has('other-cluster-uid-5'), 'another cluster\'s route is left alone');
    const ev = await waitForEvent(c, 'default', await failedNode(c), 'FailedToCreateRoute');
    assert.equal(ev.type, 'Warning');
    assert.match(ev.message, /^Could not create route [0-9a-f-]+ 10\.60\.[12]\.0\/24 for node (node-1|worker-b) after [\d.]+s: .*Rate Limit Exceeded/);
    for (const n of ['node-1', 'worker-b']) assert.equal((await waitForNodeRouted(c, n)).reason, 'RouteCreated');
    // Steady state: listing only.
    const before = standIn.requests.length;
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual([...new Set(standIn.calls().slice(before))], ['GET routes']);
  } finally {
    await env.stop();
    await cluster.close();
  }
});

/** The node whose create met the rate limit (the two are created concurrently). */
async function failedNode(c: TestCluster['client']): Promise<string> {
  return waitUntil('a FailedToCreateRoute event', async () => {
    const list = await c.list<KObject>({ version: 'v1', resource: 'events', namespace: 'default' });
    return list.items.find((e) => e.reason === 'FailedToCreateRoute')?.involvedObject?.name;
  });
}
