// The azure provider's routes on the real SDK (@azure/arm-network) against the ARM stand-in over
// TLS: the route table made when missing, exact route bodies (VirtualAppliance at the VM's private
// IP), long-running operations polled, not found taken as done, 429 throttling retried by the SDK
// and then surfaced; then the route controller driving it against a real API server. An explicit
// TokenCredential and the stand-in's endpoint: nothing leaves 127.0.0.1.

for (const k of ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_FEDERATED_TOKEN_FILE', 'IDENTITY_ENDPOINT', 'MSI_ENDPOINT', 'IMDS_ENDPOINT']) delete process.env[k];
process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = 'http://127.0.0.1:9';

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from '../../../kubelet/simulated/test-cluster.ts';
import { testControllerEnv } from '../../../controllers/test-support.ts';
import { cloudManagerFactories } from '../../controllers/index.ts';
import { createNode, fastCloudOptions, waitForNodeRouted, waitUntil } from '../../testing/support.ts';
import type { CloudProvider, Routes } from '../../provider.ts';
import { AzureStandIn } from './stand-in.ts';
import { createProvider } from './index.ts';

const SUB = '00000000-0000-0000-0000-00000000abcd';
const RG = 'mizzen-rg';
const ARM = `/subscriptions/${SUB}/resourceGroups/${RG}/providers`;
const TABLE = `${ARM}/Microsoft.Network/routeTables/mizzen-routes`;
const credential = { getToken: async () => ({ token: 'azure-mizzen-test-token', expiresOnTimestamp: Date.now() + 3600_000 }) };
let standIn: AzureStandIn;
let azure: CloudProvider;
let routes: Routes;
let dir: string;

const config = (extra: Record<string, unknown> = {}) => ({
  subscriptionId: SUB,
  resourceGroup: RG,
  location: 'westeurope',
  routeTableName: 'mizzen-routes',
  resourceManagerEndpoint: standIn.url,
  resourceManagerCAFile: join(dir, 'ca.pem'),
  maxRetries: 1,
  ...extra,
});

function vm(name: string, ip: string) {
  standIn.put(`${ARM}/Microsoft.Compute/virtualMachines/${name}`, {
    name,
    location: 'westeurope',
    type: 'Microsoft.Compute/virtualMachines',
    properties: {
      vmId: `vm-${name}`,
      hardwareProfile: { vmSize: 'Standard_D2s_v5' },
      networkProfile: { networkInterfaces: [{ id: `${ARM}/Microsoft.Network/networkInterfaces/${name}-nic`, properties: { primary: true } }] },
      instanceView: { statuses: [{ code: 'PowerState/running' }] },
      provisioningState: 'Succeeded',
    },
  });
  standIn.put(`${ARM}/Microsoft.Network/networkInterfaces/${name}-nic`, { name: `${name}-nic`, properties: { ipConfigurations: [{ name: 'ipconfig1', properties: { privateIPAddress: ip, primary: true } }] } });
}

const tableRoutes = () => ((standIn.get(TABLE)?.properties.routes ?? []) as any[]).map((r) => `${r.name} ${r.properties.addressPrefix} ${r.properties.nextHopType} ${r.properties.nextHopIpAddress ?? ''}`.trim()).sort();

before(async () => {
  standIn = new AzureStandIn();
  await standIn.start();
  dir = await mkdtemp(join(tmpdir(), 'mizzen-azure-routes-test-'));
  await writeFile(join(dir, 'ca.pem'), standIn.caPem);
  vm('vm-1', '10.1.0.4');
  vm('vm-2', '10.1.0.5');
  azure = await createProvider({ config: config(), overrides: { credential, pollIntervalMs: 10 } });
  routes = azure.routes()!;
});

after(async () => {
  await standIn?.close();
  await rm(dir, { recursive: true, force: true });
});

test('without routeTableName the provider has no routes (the route controller is skipped)', async () => {
  const p = await createProvider({ config: config({ routeTableName: undefined }), overrides: { credential } });
  assert.equal(p.routes(), undefined);
});

test('createRoute: the table made when missing, then a VirtualAppliance route at the VM\'s IP', async () => {
  standIn.requests.length = 0;
  assert.deepEqual(await routes.listRoutes('kubernetes'), []);
  assert.deepEqual(standIn.calls(), ['GET routeTables/mizzen-routes']);
  standIn.requests.length = 0;
  await routes.createRoute('kubernetes', 'uid-1', { name: '', targetNode: 'vm-1', destinationCIDR: '10.80.1.0/24' });
  assert.deepEqual(standIn.calls(), ['GET virtualMachines/vm-1', 'GET networkInterfaces/vm-1-nic', 'GET routeTables/mizzen-routes', 'PUT routeTables/mizzen-routes', 'GET routeTables/mizzen-routes', 'PUT routes/vm-1____10-80-1-0_24', 'GET routes/vm-1____10-80-1-0_24']);
  const put = standIn.requests.filter((r) => r.method === 'PUT');
  assert.equal(put[0]!.path, TABLE);
  assert.deepEqual(put[0]!.body, { location: 'westeurope' });
  assert.equal(put[1]!.path, `${TABLE}/routes/vm-1____10-80-1-0_24`);
  assert.deepEqual(put[1]!.body, { properties: { addressPrefix: '10.80.1.0/24', nextHopType: 'VirtualAppliance', nextHopIpAddress: '10.1.0.4' } });
  assert.ok(standIn.requests.every((r) => r.authorization === 'Bearer azure-mizzen-test-token' && r.query['api-version']));
  assert.ok(standIn.requests.some((r) => r.path.includes('/operations/')), 'the operations were polled');
  assert.deepEqual(tableRoutes(), ['vm-1____10-80-1-0_24 10.80.1.0/24 VirtualAppliance 10.1.0.4']);

  // The table exists now: no second PUT of it. No such VM: InstanceNotFound, nothing written.
  standIn.requests.length = 0;
  await routes.createRoute('kubernetes', 'uid-2', { name: '', targetNode: 'vm-2', destinationCIDR: '10.80.2.0/24' });
  assert.deepEqual(standIn.calls().filter((c) => c.startsWith('PUT')), ['PUT routes/vm-2____10-80-2-0_24']);
  await assert.rejects(routes.createRoute('kubernetes', 'uid-g', { name: '', targetNode: 'Ghost', destinationCIDR: '10.80.3.0/24' }), {
    code: 'InstanceNotFound',
    message: 'instance not found: no virtual machine ghost in resource group mizzen-rg',
  });
});

test('listRoutes: names map back to nodes (upstream\'s single-stack name too)', async () => {
  standIn.get(TABLE).properties.routes.push({ name: 'vm-legacy', id: `${TABLE}/routes/vm-legacy`, properties: { addressPrefix: '10.80.7.0/24', nextHopType: 'VirtualAppliance', nextHopIpAddress: '10.1.0.7', provisioningState: 'Succeeded' } });
  assert.deepEqual(await routes.listRoutes('kubernetes'), [
    { name: 'vm-1____10-80-1-0_24', targetNode: 'vm-1', destinationCIDR: '10.80.1.0/24' },
    { name: 'vm-2____10-80-2-0_24', targetNode: 'vm-2', destinationCIDR: '10.80.2.0/24' },
    { name: 'vm-legacy', targetNode: 'vm-legacy', destinationCIDR: '10.80.7.0/24' },
  ]);
});

test('deleteRoute: deleted and polled; already gone is success; 429 retried by the SDK, then an error', async () => {
  standIn.fail('DELETE', '/routes/vm-legacy', 429, 'TooManyRequests', 'The request is being throttled.');
  standIn.requests.length = 0;
  await routes.deleteRoute('kubernetes', { name: 'vm-legacy', targetNode: 'vm-legacy', destinationCIDR: '10.80.7.0/24' });
  assert.deepEqual(standIn.calls(), ['DELETE routes/vm-legacy', 'DELETE routes/vm-legacy']);
  assert.ok(!tableRoutes().some((r) => r.startsWith('vm-legacy')));
  standIn.requests.length = 0;
  await routes.deleteRoute('kubernetes', { name: 'vm-legacy', targetNode: 'vm-legacy', destinationCIDR: '10.80.7.0/24' });
  assert.deepEqual(standIn.calls(), ['DELETE routes/vm-legacy']);
  standIn.fail('DELETE', '/routes/vm-2', 429, 'TooManyRequests', 'The request is being throttled.', 2);
  await assert.rejects(routes.deleteRoute('kubernetes', { name: 'vm-2____10-80-2-0_24', targetNode: 'vm-2', destinationCIDR: '10.80.2.0/24' }), { statusCode: 429 });
});

test('the route controller on azure: a route per node podCIDR, stale ones inside the cluster CIDR removed', async () => {
  const cluster: TestCluster = await startTestCluster();
  const env = testControllerEnv(cluster.client);
  try {
    const c = cluster.client;
    // vm-2's route moves to a new podCIDR; a departed node's route goes; one outside the cluster CIDR stays.
    standIn.get(TABLE).properties.routes.push(
      { name: 'departed____10-80-9-0_24', id: `${TABLE}/routes/departed____10-80-9-0_24`, properties: { addressPrefix: '10.80.9.0/24', nextHopType: 'VirtualAppliance', nextHopIpAddress: '10.1.0.9', provisioningState: 'Succeeded' } },
      { name: 'on-prem', id: `${TABLE}/routes/on-prem`, properties: { addressPrefix: '192.168.0.0/16', nextHopType: 'VirtualNetworkGateway', provisioningState: 'Succeeded' } },
    );
    await createNode(c, 'vm-1', { podCIDR: '10.80.1.0/24' });
    // A node named unlike its VM: found by its providerID (its route carries the node's name).
    await createNode(c, 'worker-2', { podCIDR: '10.80.5.0/24', providerID: `azure://${ARM}/Microsoft.Compute/virtualMachines/vm-2` });
    const { factories } = cloudManagerFactories(azure, { ...fastCloudOptions, clusterCIDR: '10.80.0.0/16' }, ['route']);
    await env.start(...Object.values(factories));
    const want = ['on-prem 192.168.0.0/16 VirtualNetworkGateway', 'vm-1____10-80-1-0_24 10.80.1.0/24 VirtualAppliance 10.1.0.4', 'worker-2____10-80-5-0_24 10.80.5.0/24 VirtualAppliance 10.1.0.5'];
    await waitUntil('routes', () => JSON.stringify(tableRoutes()) === JSON.stringify(want));
    for (const n of ['vm-1', 'worker-2']) assert.equal((await waitForNodeRouted(c, n)).reason, 'RouteCreated');
  } finally {
    await env.stop();
    await cluster.close();
  }
});
