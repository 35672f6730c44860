import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { startTestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { eventually, testControllerEnv } from '../test-support.ts';
import { CIDRSet } from './cidr-set.ts';
import { nodeIpamController } from './index.ts';

test('CIDRSet hands out the lowest free block and takes back released ones', () => {
  const s = new CIDRSet('10.42.0.0/16', 24);
  assert.equal(s.capacity, 256);
  assert.equal(s.allocateNext(), '10.42.0.0/24');
  assert.ok(s.occupy('10.42.2.0/24'));
  assert.equal(s.allocateNext(), '10.42.1.0/24');
  assert.equal(s.allocateNext(), '10.42.3.0/24');
  s.release('10.42.1.0/24');
  assert.equal(s.allocateNext(), '10.42.1.0/24');
  assert.ok(!s.occupy('10.43.0.0/24'));
  const tiny = new CIDRSet('10.0.0.0/31', 32);
  assert.equal(tiny.allocateNext(), '10.0.0.0/32');
  assert.equal(tiny.allocateNext(), '10.0.0.1/32');
  assert.equal(tiny.allocateNext(), undefined);
});

test('nodes get pod CIDRs, allocations survive a restart, exhaustion is reported', async () => {
  const cluster = await startTestCluster();
  const c = cluster.client;
  const mkNode = (name: string, podCIDR?: string) => c.create({ version: 'v1', resource: 'nodes' }, { metadata: { name }, spec: podCIDR ? { podCIDR } : {} });
  const cidrOf = (name: string) => eventually(`${name} podCIDR`, async () => (await c.get<KObject>({ version: 'v1', resource: 'nodes', name })).spec?.podCIDRs?.[0] as string | undefined);
  try {
    await mkNode('pre', '10.42.0.0/24');
    let env = testControllerEnv(c, { clusterCIDR: '10.42.0.0/23', nodeCIDRMaskSize: 24 });
    await env.start(nodeIpamController);
    await mkNode('a');
    assert.equal(await cidrOf('a'), '10.42.1.0/24');
    const a = await c.get<KObject>({ version: 'v1', resource: 'nodes', name: 'a' });
    assert.equal(a.spec.podCIDR, '10.42.1.0/24');
    await env.stop();

    // A restarted controller rebuilds its map from the nodes; the range is full now.
    env = testControllerEnv(c, { clusterCIDR: '10.42.0.0/23', nodeCIDRMaskSize: 24 });
    await env.start(nodeIpamController);
    await mkNode('b');
    await eventually('CIDRNotAvailable event', async () => {
      const evs = await c.list<KObject>({ version: 'v1', resource: 'events', namespace: 'default' });
      return evs.items.some((e) => e.reason === 'CIDRNotAvailable' && e.message === 'Node b status is now: CIDRNotAvailable' && e.involvedObject.name === 'b') || undefined;
    });
    // Deleting a node frees its block for the waiting one.
    await c.delete({ version: 'v1', resource: 'nodes', name: 'a' });
    assert.equal(await cidrOf('b'), '10.42.1.0/24');
    await env.stop();
  } finally {
    await cluster.close();
  }
});
