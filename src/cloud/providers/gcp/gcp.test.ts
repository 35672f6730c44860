// The gcp provider on the real SDK (@google-cloud/compute over its REST transport) against a
// local stand-in speaking Compute Engine's REST JSON: exact requests, operations waited for,
// errors in Google's shape (not found, rate limit), an operation slower than the sync's budget.
// The client gets an explicit OAuth2 client with a fixed token and the stand-in's endpoint over
// http; the metadata server is switched off, so nothing leaves 127.0.0.1.

process.env.METADATA_SERVER_DETECTION = 'none';
process.env.GCE_METADATA_HOST = '127.0.0.1:9';
process.env.GCE_METADATA_IP = '127.0.0.1:9';
delete process.env.GOOGLE_APPLICATION_CREDENTIALS;

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OAuth2Client } from 'google-auth-library';
import type { KObject } from '../../../api/types.ts';
import { isNotFound } from '../../../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../../../kubelet/simulated/test-cluster.ts';
import { createNamespace, testControllerEnv } from '../../../controllers/test-support.ts';
import { serviceController } from '../../controllers/service/index.ts';
import { createNode, eventsFor, fastCloudOptions, loadBalancerService, waitForEvent, waitUntil } from '../../testing/support.ts';
import { CloudConfigError } from '../../errors.ts';
import type { CloudProvider } from '../../provider.ts';
import { GcpStandIn } from './stand-in.ts';
import { createProvider, parseGcpConfig } from './index.ts';

const NS = 'gcp';
const SELF = 'https://www.googleapis.com/compute/v1/projects/mizzen-test';
let standIn: GcpStandIn;
let gcp: CloudProvider;
let cluster: TestCluster;
let env: ReturnType<typeof testControllerEnv>;

function fakeAuth(): OAuth2Client {
  const c = new OAuth2Client();
  c.setCredentials({ access_token: 'ya29.mizzen-test-token', expiry_date: Date.now() + 3600_000, token_type: 'Bearer' });
  return c;
}

before(async () => {
  standIn = new GcpStandIn();
  await standIn.start();
  standIn.instances.set('us-central1-a/node-1', { name: 'node-1', zone: 'us-central1-a', status: 'RUNNING', machineType: 'e2-standard-4', networkIP: '10.128.0.2', natIP: '203.0.113.2' });
  standIn.instances.set('us-central1-b/node-2', { name: 'node-2', zone: 'us-central1-b', status: 'TERMINATED', machineType: 'e2-small', networkIP: '10.128.0.3' });
  gcp = await createProvider({
    config: { projectId: 'mizzen-test', region: 'us-central1', zones: ['us-central1-a', 'us-central1-b'], apiEndpoint: standIn.url, operationTimeoutSeconds: 1 },
    overrides: { authClient: fakeAuth() },
  });
  cluster = await startTestCluster();
  await createNamespace(cluster.client, NS);
  await createNode(cluster.client, 'node-1', { providerID: 'gce://mizzen-test/us-central1-a/node-1' });
  env = testControllerEnv(cluster.client);
  await env.start((ctx) => serviceController(ctx, gcp, fastCloudOptions));
});

after(async () => {
  await env?.stop();
  await cluster?.close();
  await standIn?.close();
});

test('cloud-config: required fields are named', () => {
  const msg = (cfg: Record<string, unknown>) => {
    try {
      parseGcpConfig(cfg);
    } catch (e) {
      assert.ok(e instanceof CloudConfigError);
      return e.message;
    }
    return 'no error';
  };
  assert.equal(msg({ region: 'us-central1' }), 'cloud-config for provider "gcp": projectId: is required');
  assert.equal(msg({ projectId: 'p' }), 'cloud-config for provider "gcp": region: is required');
  assert.equal(msg({ projectId: 'p', region: 'r', zones: 'a,b', apiEndpoint: 'ftp://x' }), 'cloud-config for provider "gcp": apiEndpoint: must be an http or https URL, not "ftp://x"');
});

test('instances: by providerID or by name in the configured zones; TERMINATED is shut down; not found', async () => {
  const inst = gcp.instancesV2()!;
  standIn.requests.length = 0;
  assert.deepEqual(await inst.instanceMetadata({ metadata: { name: 'node-1' } }), {
    providerID: 'gce://mizzen-test/us-central1-a/node-1',
    instanceType: 'e2-standard-4',
    nodeAddresses: [
      { type: 'InternalIP', address: '10.128.0.2' },
      { type: 'ExternalIP', address: '203.0.113.2' },
      { type: 'Hostname', address: 'node-1' },
    ],
    zone: 'us-central1-a',
    region: 'us-central1',
  });
  assert.equal(standIn.requests[0]!.path, '/compute/v1/projects/mizzen-test/zones/us-central1-a/instances/node-1');
  assert.equal(standIn.requests[0]!.authorization, 'Bearer ya29.mizzen-test-token');
  // node-2 is looked for in us-central1-a (404) and found in us-central1-b.
  assert.equal(await inst.instanceShutdown({ metadata: { name: 'node-2' } }), true);
  assert.deepEqual(standIn.calls().slice(1), ['GET instances/node-2', 'GET instances/node-2']);
  assert.equal(await inst.instanceExists({ metadata: { name: 'x' }, spec: { providerID: 'gce://mizzen-test/us-central1-a/gone' } }), false);
});

const svcRef = (name = '') => ({ version: 'v1', resource: 'services', namespace: NS, name });

test('a LoadBalancer Service gets a target pool and a forwarding rule; rate limits are Warnings and retried', async () => {
  const c = cluster.client;
  standIn.requests.length = 0;
  standIn.fail('POST', '/targetPools', 403, 'rateLimitExceeded', 'Rate Limit Exceeded');
  const svc = await c.create<KObject>(svcRef(), loadBalancerService('web', { ports: [{ name: 'a', port: 80, protocol: 'TCP' }, { name: 'b', port: 443, protocol: 'TCP' }] }));
  const name = `a${svc.metadata.uid!.replace(/-/g, '')}`.slice(0, 32);
  const ev = await waitForEvent(c, NS, 'web', 'SyncLoadBalancerFailed');
  assert.equal(ev.type, 'Warning');
  assert.match(ev.message, /^Error syncing load balancer: failed to ensure load balancer: .*Rate Limit Exceeded/);
  const ip = await waitUntil('ingress ip', async () => (await c.get<KObject>(svcRef('web'))).status?.loadBalancer?.ingress?.[0]?.ip);
  assert.equal(ip, '203.0.113.10');
  assert.deepEqual(standIn.calls(), [
    `GET targetPools/${name}`,
    'POST targetPools',
    `GET targetPools/${name}`,
    'POST targetPools',
    `POST operations/${[...standIn.operations.keys()][0]}/wait`,
    `GET targetPools/${name}`,
    `GET forwardingRules/${name}`,
    'POST forwardingRules',
    `POST operations/${[...standIn.operations.keys()][1]}/wait`,
    `GET forwardingRules/${name}`,
  ]);
  const poolBody = standIn.requests[3]!.body;
  assert.deepEqual(poolBody, { name, description: JSON.stringify({ 'kubernetes.io/service-name': `${NS}/web`, 'kubernetes.io/cluster': 'kubernetes' }), instances: [`${SELF}/zones/us-central1-a/instances/node-1`], sessionAffinity: 'NONE' });
  assert.deepEqual(standIn.requests[7]!.body, {
    name,
    description: poolBody.description,
    IPProtocol: 'TCP',
    portRange: '80-443',
    target: `${SELF}/regions/us-central1/targetPools/${name}`,
    loadBalancingScheme: 'EXTERNAL',
    // The SDK sends the empty labels map (its protobuf default).
    labels: {},
  });
  assert.ok(standIn.requests.every((r) => r.authorization === 'Bearer ya29.mizzen-test-token'));
});

test('an operation slower than the sync budget is looked at again later, without a Warning', async () => {
  const c = cluster.client;
  standIn.operationWaits = 1_000_000;
  await c.create(svcRef(), loadBalancerService('slow'));
  await waitUntil('pool created, operation pending', () => standIn.requests.filter((r) => r.path.endsWith('/wait')).length > 3);
  standIn.operationWaits = 0;
  for (const o of standIn.operations.values()) o.waitsLeft = 0;
  await waitUntil('slow served', async () => (await c.get<KObject>(svcRef('slow'))).status?.loadBalancer?.ingress?.[0]?.ip);
  assert.ok(!(await eventsFor(c, NS, 'slow')).some((e) => e.reason === 'SyncLoadBalancerFailed'));
});

test('nodes join the pool; mixed protocols are refused; deletion removes rule then pool', async () => {
  const c = cluster.client;
  const svc = await c.get<KObject>(svcRef('web'));
  const name = `a${svc.metadata.uid!.replace(/-/g, '')}`.slice(0, 32);
  await createNode(c, 'node-2', { providerID: 'gce://mizzen-test/us-central1-b/node-2' });
  await waitUntil('node-2 in pool', () => standIn.targetPools.get(name)?.instances.includes(`${SELF}/zones/us-central1-b/instances/node-2`));
  const add = standIn.requests.find((r) => r.path.endsWith(`/targetPools/${name}/addInstance`))!;
  assert.deepEqual(add.body, { instances: [{ instance: `${SELF}/zones/us-central1-b/instances/node-2` }] });

  await c.create(svcRef(), loadBalancerService('mixed', { ports: [{ name: 'a', port: 53, protocol: 'TCP' }, { name: 'b', port: 53, protocol: 'UDP' }] }));
  await waitForEvent(c, NS, 'mixed', 'SyncLoadBalancerFailed', 'Error syncing load balancer: failed to ensure load balancer: mixed protocol is not supported for LoadBalancer: TCP, UDP');

  standIn.requests.length = 0;
  await c.delete(svcRef('web'));
  await waitUntil('web gone', async () => {
    try {
      await c.get(svcRef('web'));
      return false;
    } catch (e) {
      return isNotFound(e);
    }
  });
  const calls = standIn.calls().filter((x) => !x.includes('operations/'));
  assert.deepEqual(calls, [`GET forwardingRules/${name}`, `DELETE forwardingRules/${name}`, `DELETE targetPools/${name}`]);
  assert.ok(!standIn.targetPools.has(name) && !standIn.forwardingRules.has(name));
});
