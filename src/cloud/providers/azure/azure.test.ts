// The azure provider on the real SDKs (@azure/arm-compute, @azure/arm-network) against a local
// stand-in speaking Azure Resource Manager's JSON over TLS with a test CA: exact requests and
// bodies, long-running operations polled to the end, 429 throttling (retried by the SDK, then a
// Warning and the controller's retry), not found. The clients get an explicit TokenCredential
// with a fixed token and the stand-in's endpoint; no managed-identity or metadata lookup happens.

for (const k of ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_FEDERATED_TOKEN_FILE', 'IDENTITY_ENDPOINT', 'MSI_ENDPOINT', 'IMDS_ENDPOINT']) delete process.env[k];
process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = 'http://127.0.0.1:9';

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../../../api/types.ts';
import { isNotFound } from '../../../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../../../kubelet/simulated/test-cluster.ts';
import { createNamespace, testControllerEnv } from '../../../controllers/test-support.ts';
import { serviceController } from '../../controllers/service/index.ts';
import { createNode, eventsFor, fastCloudOptions, loadBalancerService, waitForEvent, waitUntil } from '../../testing/support.ts';
import { CloudConfigError } from '../../errors.ts';
import type { CloudProvider } from '../../provider.ts';
import { AzureStandIn } from './stand-in.ts';
import { createProvider, parseAzureConfig } from './index.ts';

const SUB = '00000000-0000-0000-0000-00000000abcd';
const RG = 'mizzen-rg';
const NS = 'azure';
const ARM = `/subscriptions/${SUB}/resourceGroups/${RG}/providers`;
const credential = { getToken: async () => ({ token: 'azure-mizzen-test-token', expiresOnTimestamp: Date.now() + 3600_000 }) };
let standIn: AzureStandIn;
let azure: CloudProvider;
let cluster: TestCluster;
let env: ReturnType<typeof testControllerEnv>;
let dir: string;

function vm(name: string, power: string, extra: any = {}) {
  standIn.put(`${ARM}/Microsoft.Compute/virtualMachines/${name}`, {
    name,
    location: 'westeurope',
    type: 'Microsoft.Compute/virtualMachines',
    ...extra,
    properties: {
      vmId: `vm-${name}`,
      hardwareProfile: { vmSize: 'Standard_D2s_v5' },
      networkProfile: { networkInterfaces: [{ id: `${ARM}/Microsoft.Network/networkInterfaces/${name}-nic`, properties: { primary: true } }] },
      instanceView: { platformFaultDomain: 1, statuses: [{ code: 'ProvisioningState/succeeded' }, { code: power }] },
      provisioningState: 'Succeeded',
    },
  });
}

before(async () => {
  standIn = new AzureStandIn();
  await standIn.start();
  dir = await mkdtemp(join(tmpdir(), 'mizzen-azure-test-'));
  await writeFile(join(dir, 'ca.pem'), standIn.caPem);
  vm('vm-1', 'PowerState/running', { zones: ['2'] });
  vm('vm-2', 'PowerState/deallocated');
  for (const [n, ip] of [
    ['vm-1', '10.1.0.4'],
    ['vm-2', '10.1.0.5'],
  ] as const)
    standIn.put(`${ARM}/Microsoft.Network/networkInterfaces/${n}-nic`, { name: `${n}-nic`, properties: { ipConfigurations: [{ name: 'ipconfig1', properties: { privateIPAddress: ip, primary: true } }] } });
  azure = await createProvider({
    config: { subscriptionId: SUB, resourceGroup: RG, location: 'westeurope', vnetName: 'mizzen-vnet', resourceManagerEndpoint: standIn.url, resourceManagerCAFile: join(dir, 'ca.pem'), maxRetries: 1 },
    overrides: { credential, pollIntervalMs: 10 },
  });
  cluster = await startTestCluster();
  await createNamespace(cluster.client, NS);
  await createNode(cluster.client, 'vm-1', { providerID: `azure://${ARM}/Microsoft.Compute/virtualMachines/vm-1`, addresses: [{ type: 'InternalIP', address: '10.1.0.4' }] });
  env = testControllerEnv(cluster.client);
  await env.start((ctx) => serviceController(ctx, azure, { ...fastCloudOptions, clusterName: 'mizzen' }));
});

after(async () => {
  await env?.stop();
  await cluster?.close();
  await standIn?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('cloud-config: required fields, a half service principal and an unreadable CA file are named', () => {
  const msg = (cfg: Record<string, unknown>) => {
    try {
      parseAzureConfig(cfg);
    } catch (e) {
      assert.ok(e instanceof CloudConfigError);
      return e.message;
    }
    return 'no error';
  };
  const base = { subscriptionId: SUB, resourceGroup: RG, location: 'westeurope' };
  assert.equal(msg({ resourceGroup: RG, location: 'x' }), 'cloud-config for provider "azure": subscriptionId: is required');
  assert.equal(msg({ ...base, aadClientId: 'id' }), 'cloud-config for provider "azure": tenantId: is required with the other service principal fields');
  assert.match(msg({ ...base, resourceManagerCAFile: '/nonexistent/ca.pem' }), /^cloud-config for provider "azure": resourceManagerCAFile: cannot read \/nonexistent\/ca\.pem: ENOENT$/);
  assert.equal(msg({ ...base, maxRetries: -1 }), 'cloud-config for provider "azure": maxRetries: must be at least 0');
});

test('instances: VM with instance view and NIC; deallocated is shut down; not found', async () => {
  const inst = azure.instancesV2()!;
  standIn.requests.length = 0;
  assert.deepEqual(await inst.instanceMetadata({ metadata: { name: 'vm-1' } }), {
    providerID: `azure://${ARM}/Microsoft.Compute/virtualMachines/vm-1`,
    instanceType: 'Standard_D2s_v5',
    nodeAddresses: [
      { type: 'InternalIP', address: '10.1.0.4' },
      { type: 'Hostname', address: 'vm-1' },
    ],
    zone: 'westeurope-2',
    region: 'westeurope',
  });
  assert.equal(standIn.requests[0]!.path, `${ARM}/Microsoft.Compute/virtualMachines/vm-1`);
  assert.equal(standIn.requests[0]!.query.$expand, 'instanceView');
  assert.ok(standIn.requests[0]!.query['api-version']);
  assert.equal(standIn.requests[0]!.authorization, 'Bearer azure-mizzen-test-token');
  assert.equal(standIn.requests[1]!.path, `${ARM}/Microsoft.Network/networkInterfaces/vm-1-nic`);
  assert.equal(await inst.instanceShutdown({ metadata: { name: 'vm-2' } }), true);
  assert.equal(await inst.instanceShutdown({ metadata: { name: 'vm-1' } }), false);
  assert.equal(await inst.instanceExists({ metadata: { name: 'vm-gone' } }), false);
});

const svcRef = (name = '') => ({ version: 'v1', resource: 'services', namespace: NS, name });

test('a LoadBalancer Service gets a public IP, frontend, probe and rule on the shared Standard Load Balancer; 429 is retried and reported', async () => {
  const c = cluster.client;
  standIn.requests.length = 0;
  // Two 429s: the SDK's one retry fails too, so the first sync is a Warning; the next one succeeds.
  standIn.fail('PUT', '/publicIPAddresses/', 429, 'TooManyRequests', 'The request is being throttled as the limit has been reached for operation type - Write_ObservationWindow_00:05:00.');
  standIn.fail('PUT', '/publicIPAddresses/', 429, 'TooManyRequests', 'The request is being throttled as the limit has been reached for operation type - Write_ObservationWindow_00:05:00.');
  const svc = await c.create<KObject>(svcRef(), loadBalancerService('web'));
  const name = `a${svc.metadata.uid!.replace(/-/g, '')}`.slice(0, 32);
  const ev = await waitForEvent(c, NS, 'web', 'SyncLoadBalancerFailed');
  assert.equal(ev.type, 'Warning');
  assert.match(ev.message, /^Error syncing load balancer: failed to ensure load balancer: .*throttled/);
  const ip = await waitUntil('ingress ip', async () => (await c.get<KObject>(svcRef('web'))).status?.loadBalancer?.ingress?.[0]?.ip);
  assert.equal(ip, '198.51.100.20');
  assert.deepEqual(standIn.calls(), [
    `GET publicIPAddresses/mizzen-${name}`,
    `PUT publicIPAddresses/mizzen-${name}`,
    `PUT publicIPAddresses/mizzen-${name}`,
    `GET publicIPAddresses/mizzen-${name}`,
    `PUT publicIPAddresses/mizzen-${name}`,
    `GET publicIPAddresses/mizzen-${name}`,
    'GET loadBalancers/mizzen',
    'PUT loadBalancers/mizzen',
    'GET loadBalancers/mizzen',
  ]);
  const pipPut = standIn.requests.filter((r) => r.method === 'PUT' && r.path.includes('publicIPAddresses')).at(-1)!;
  assert.deepEqual(pipPut.body, {
    location: 'westeurope',
    tags: { 'k8s-azure-service': `${NS}/web`, 'k8s-azure-cluster-name': 'mizzen' },
    sku: { name: 'Standard', tier: 'Regional' },
    properties: { publicIPAllocationMethod: 'Static', publicIPAddressVersion: 'IPv4' },
  });
  const nodePort = (await c.get<KObject>(svcRef('web'))).spec.ports[0].nodePort;
  const lbID = `${ARM}/Microsoft.Network/loadBalancers/mizzen`;
  const lbPut = standIn.requests.find((r) => r.method === 'PUT' && r.path === lbID)!;
  assert.deepEqual(lbPut.body, {
    location: 'westeurope',
    tags: { 'k8s-azure-cluster-name': 'mizzen' },
    sku: { name: 'Standard', tier: 'Regional' },
    properties: {
      frontendIPConfigurations: [{ name, properties: { publicIPAddress: { id: `${ARM}/Microsoft.Network/publicIPAddresses/mizzen-${name}` } } }],
      backendAddressPools: [{ name: 'mizzen', properties: { loadBalancerBackendAddresses: [{ name: 'vm-1', properties: { virtualNetwork: { id: `${ARM}/Microsoft.Network/virtualNetworks/mizzen-vnet` }, ipAddress: '10.1.0.4' } }] } }],
      loadBalancingRules: [
        {
          name: `${name}-Tcp-80`,
          properties: {
            frontendIPConfiguration: { id: `${lbID}/frontendIPConfigurations/${name}` },
            backendAddressPool: { id: `${lbID}/backendAddressPools/mizzen` },
            probe: { id: `${lbID}/probes/${name}-Tcp-80` },
            protocol: 'Tcp',
            frontendPort: 80,
            backendPort: nodePort,
            idleTimeoutInMinutes: 4,
            enableFloatingIP: false,
            disableOutboundSnat: true,
          },
        },
      ],
      probes: [{ name: `${name}-Tcp-80`, properties: { protocol: 'Tcp', port: nodePort, intervalInSeconds: 5, numberOfProbes: 2 } }],
    },
  });
  assert.ok(standIn.requests.every((r) => r.authorization === 'Bearer azure-mizzen-test-token'));
  assert.equal((await eventsFor(c, NS, 'web')).filter((e) => e.reason === 'SyncLoadBalancerFailed').length, 1);
});

test('two Services share the balancer; a new node joins the pool; deletions remove their parts, then the balancer', async () => {
  const c = cluster.client;
  const lbID = `${ARM}/Microsoft.Network/loadBalancers/mizzen`;
  await waitUntil('web served', async () => (await c.get<KObject>(svcRef('web'))).status?.loadBalancer?.ingress?.[0]?.ip);
  await c.create(svcRef(), loadBalancerService('dns', { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }));
  await waitUntil('dns served', async () => (await c.get<KObject>(svcRef('dns'))).status?.loadBalancer?.ingress?.[0]?.ip === '198.51.100.21');
  const lb = standIn.get(lbID);
  assert.equal(lb.properties.frontendIPConfigurations.length, 2);
  assert.deepEqual(lb.properties.loadBalancingRules.map((r: any) => r.properties.protocol).sort(), ['Tcp', 'Udp']);

  await createNode(c, 'vm-2', { providerID: `azure://${ARM}/Microsoft.Compute/virtualMachines/vm-2`, addresses: [{ type: 'InternalIP', address: '10.1.0.5' }] });
  await waitUntil('vm-2 in the pool', () => standIn.get(lbID).properties.backendAddressPools[0].properties.loadBalancerBackendAddresses.length === 2);

  const gone = async (name: string) => {
    await c.delete(svcRef(name));
    await waitUntil(`${name} gone`, async () => {
      try {
        await c.get(svcRef(name));
        return false;
      } catch (e) {
        return isNotFound(e);
      }
    });
  };
  await gone('web');
  const after1 = standIn.get(lbID);
  assert.equal(after1.properties.frontendIPConfigurations.length, 1);
  assert.ok(after1.properties.loadBalancingRules.every((r: any) => r.properties.protocol === 'Udp'));
  standIn.requests.length = 0;
  await gone('dns');
  assert.equal(standIn.get(lbID), undefined);
  assert.deepEqual(
    standIn.calls().filter((x) => x.startsWith('DELETE')),
    [`DELETE loadBalancers/mizzen`, `DELETE publicIPAddresses/${standIn.calls().find((x) => x.includes('publicIPAddresses/'))!.split('/').pop()}`],
  );
  assert.ok(![...standIn.resources.keys()].some((k) => k.includes('publicipaddresses')));
});
