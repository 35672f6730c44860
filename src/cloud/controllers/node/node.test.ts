// The cloud node controller against a real API server with a provider double: uninitialised
// nodes get providerID, labels and addresses, then lose the taint; errors keep the taint.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../api/types.ts';
import { startTestCluster, type TestCluster } from '../../../kubelet/simulated/test-cluster.ts';
import { testControllerEnv } from '../../../controllers/test-support.ts';
import { FakeCloud } from '../../testing/fake-cloud.ts';
import { createNode, fastCloudOptions, waitForEvent, waitUntil } from '../../testing/support.ts';
import { TAINT_UNINITIALIZED } from '../../labels.ts';
import { cloudNodeController, initializedNode } from './index.ts';
import { addressesForProvidedNodeIP, nodeAddressesChanged } from './addresses.ts';

let cluster: TestCluster;
const cloud = new FakeCloud();
let env: ReturnType<typeof testControllerEnv>;
const nodeRef = (name: string) => ({ version: 'v1', resource: 'nodes', name });
const uninitialized = [{ key: TAINT_UNINITIALIZED, value: 'true', effect: 'NoSchedule' }];

before(async () => {
  cluster = await startTestCluster();
  env = testControllerEnv(cluster.client);
  await env.start((ctx) => cloudNodeController(ctx, cloud, { ...fastCloudOptions, nodeStatusUpdateFrequencyMs: 300 }));
});
after(async () => {
  await env.stop();
  await cluster.close();
});

test('address helpers', () => {
  const cloudAddrs = [
    { type: 'InternalIP' as const, address: '10.0.0.5' },
    { type: 'InternalIP' as const, address: '10.0.0.6' },
    { type: 'ExternalIP' as const, address: '203.0.113.9' },
  ];
  const node = (ip?: string): KObject => ({ metadata: { annotations: ip ? { 'alpha.kubernetes.io/provided-node-ip': ip } : {} } });
  assert.deepEqual(addressesForProvidedNodeIP(node(), cloudAddrs), cloudAddrs);
  assert.deepEqual(addressesForProvidedNodeIP(node('10.0.0.6'), cloudAddrs), [
    { type: 'InternalIP', address: '10.0.0.6' },
    { type: 'ExternalIP', address: '203.0.113.9' },
  ]);
  assert.throws(() => addressesForProvidedNodeIP(node('10.9.9.9'), cloudAddrs), /failed to get node address from cloud provider that matches ip: 10\.9\.9\.9/);
  assert.equal(nodeAddressesChanged(cloudAddrs, [...cloudAddrs].reverse()), true);
  assert.equal(nodeAddressesChanged([cloudAddrs[0]!, cloudAddrs[2]!], [cloudAddrs[2]!, cloudAddrs[0]!]), false);
  const n = initializedNode({ metadata: { name: 'x', labels: { mine: 'a' } }, spec: { taints: uninitialized } }, {
    providerID: 'fake://x',
    nodeAddresses: [],
    additionalLabels: { 'kubernetes.io/forbidden': 'no', mine: 'b', extra: 'yes' },
  });
  assert.deepEqual(n.metadata.labels, { mine: 'a', extra: 'yes' });
  assert.equal(n.spec.taints, undefined);
});

test('an uninitialised node is initialised from the cloud and untainted', async () => {
  const c = cluster.client;
  cloud.instances.set('worker-1', {
    metadata: {
      providerID: 'fake://worker-1',
      instanceType: 'm5.large',
      zone: 'zone-a',
      region: 'region-1',
      nodeAddresses: [
        { type: 'InternalIP', address: '10.0.0.5' },
        { type: 'ExternalIP', address: '203.0.113.5' },
      ],
      additionalLabels: { 'example.com/rack': 'r1' },
    },
  });
  await createNode(c, 'worker-1', { taints: [...uninitialized, { key: 'other', effect: 'NoSchedule' }] });
  const n = await waitUntil('worker-1 initialised', async () => {
    const x = await c.get<KObject>(nodeRef('worker-1'));
    return !x.spec.taints?.some((t: any) => t.key === TAINT_UNINITIALIZED) && x.status?.addresses?.length === 3 ? x : undefined;
  });
  assert.equal(n.spec.providerID, 'fake://worker-1');
  assert.deepEqual(n.spec.taints, [{ key: 'other', effect: 'NoSchedule' }]);
  for (const [k, v] of Object.entries({
    'node.kubernetes.io/instance-type': 'm5.large',
    'beta.kubernetes.io/instance-type': 'm5.large',
    'topology.kubernetes.io/zone': 'zone-a',
    'failure-domain.beta.kubernetes.io/zone': 'zone-a',
    'topology.kubernetes.io/region': 'region-1',
    'failure-domain.beta.kubernetes.io/region': 'region-1',
    'example.com/rack': 'r1',
  }))
    assert.equal(n.metadata.labels?.[k], v, k);
  // The kubelet's Hostname is kept beside the cloud's addresses.
  assert.deepEqual(n.status.addresses, [
    { type: 'InternalIP', address: '10.0.0.5' },
    { type: 'ExternalIP', address: '203.0.113.5' },
    { type: 'Hostname', address: 'worker-1' },
  ]);
  const ev = await waitForEvent(c, '', 'worker-1', 'Synced', 'Node synced successfully').catch(() => waitForEvent(c, 'default', 'worker-1', 'Synced', 'Node synced successfully'));
  assert.equal(ev.type, 'Normal');
});

test('the periodic refresh picks up new addresses', async () => {
  const c = cluster.client;
  await waitUntil('worker-1 initialised', async () => (await c.get<KObject>(nodeRef('worker-1'))).spec.providerID);
  cloud.instances.get('worker-1')!.metadata.nodeAddresses = [{ type: 'InternalIP', address: '10.0.0.7' }];
  await waitUntil('new address', async () => {
    const x = await c.get<KObject>(nodeRef('worker-1'));
    return JSON.stringify(x.status.addresses) === JSON.stringify([{ type: 'InternalIP', address: '10.0.0.7' }, { type: 'Hostname', address: 'worker-1' }]);
  });
});

test('a machine the cloud does not know, or a --node-ip it does not report, keeps the taint until it does', async () => {
  const c = cluster.client;
  await createNode(c, 'ghost', { taints: uninitialized });
  await createNode(c, 'wrong-ip', { taints: uninitialized, annotations: { 'alpha.kubernetes.io/provided-node-ip': '10.1.1.1' } });
  cloud.instances.set('wrong-ip', { metadata: { providerID: 'fake://wrong-ip', nodeAddresses: [{ type: 'InternalIP', address: '10.1.1.2' }] } });
  await waitUntil('retried', () => cloud.callsOf('instanceMetadata').filter((x) => x.node === 'ghost').length >= 3 && cloud.callsOf('instanceMetadata').filter((x) => x.node === 'wrong-ip').length >= 3);
  for (const name of ['ghost', 'wrong-ip']) {
    const x = await c.get<KObject>(nodeRef(name));
    assert.ok(x.spec.taints.some((t: any) => t.key === TAINT_UNINITIALIZED), name);
    assert.equal(x.spec.providerID, undefined);
  }
  // The cloud learns the machine: the next retry initialises it.
  cloud.instances.set('ghost', { metadata: { providerID: 'fake://ghost', nodeAddresses: [{ type: 'InternalIP', address: '10.0.0.9' }] } });
  cloud.instances.get('wrong-ip')!.metadata.nodeAddresses.push({ type: 'InternalIP', address: '10.1.1.1' });
  await waitUntil('ghost initialised', async () => (await c.get<KObject>(nodeRef('ghost'))).spec.providerID === 'fake://ghost');
  const w = await waitUntil('wrong-ip initialised', async () => {
    const x = await c.get<KObject>(nodeRef('wrong-ip'));
    return x.status.addresses?.[0]?.address === '10.1.1.1' ? x : undefined;
  });
  assert.deepEqual(w.status.addresses, [{ type: 'InternalIP', address: '10.1.1.1' }, { type: 'Hostname', address: 'wrong-ip' }]);
});
