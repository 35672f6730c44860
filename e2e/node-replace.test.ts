// A node goes away with its pods and another takes its place, on the whole `mizzen up` (scheduler,
// node IPAM and the other controllers on their shared thread), as the kubelet-footprint bench does
// between variants: the new node must get a podCIDR and pods pinned to it must be scheduled. The
// bench's cluster twice stopped doing both (2026-12-07, load 24-65, not reproduced since); this is
// the guard, over the delete orders, a node re-created under the same name, and pods created
// before their node. In-process variant for the scheduler alone: src/scheduler/node-replace.test.ts.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from '../src/client/api-client.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { startCluster, type Cluster } from './harness.ts';
import { eventually } from './poll.ts';

const PODS = { version: 'v1', resource: 'pods', namespace: 'default' };
const NODES = { version: 'v1', resource: 'nodes' };
const PER_NODE = 10;

describe('a node replaced by another (mizzen up)', () => {
  let cluster: Cluster;
  let client: ApiClient;

  before(async () => {
    // A cluster CIDR of its own: node IPAM hands out /24s from it (no route is installed: no kubelet).
    // --pod-gc-period 2s: pods left on a deleted node are collected after ~4 s.
    cluster = await startCluster({ extraArgs: ['--cluster-cidr', '10.231.0.0/16', '--pod-gc-period', '2s'] });
    client = new ApiClient({ ...loadKubeconfig(cluster.kubeconfig), maxSockets: 32 });
  });
  after(async () => {
    client?.close();
    await cluster?.stop();
  });

  /** What a kubelet registers: the Node, then its status Ready with room for pods. */
  const registerNode = async (name: string) => {
    await client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await client.patch({ ...NODES, name, subresource: 'status' }, 'merge', {
      status: {
        capacity: { cpu: '4', memory: '8Gi', pods: '110' },
        allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready', lastHeartbeatTime: now, lastTransitionTime: now }],
      },
    });
  };
  const podCIDR = (name: string) =>
    eventually(async () => (await client.get<any>({ ...NODES, name })).spec?.podCIDR as string | undefined, { what: `podCIDR of ${name}`, timeoutMs: 20_000 });
  const createPods = (names: string[], node: string) =>
    Promise.all(names.map((n) => client.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: n }, spec: { nodeSelector: { 'kubernetes.io/hostname': node }, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox' }] } })));
  const bound = (names: string[], node: string) =>
    eventually(
      async () => {
        const list: any = await client.list(PODS);
        return names.every((n) => list.items.find((p: any) => p.metadata.name === n)?.spec.nodeName === node);
      },
      { what: `${names.length} pods bound to ${node}`, timeoutMs: 20_000 },
    );
  const deletePods = (names: string[]) => Promise.all(names.map((n) => client.delete({ ...PODS, name: n }, { gracePeriodSeconds: 0 })));
  const gone = (name: string) => eventually(async () => !(await client.get({ ...NODES, name }).catch(() => undefined)), { what: `node ${name} gone` });
  const podNames = (prefix: string) => Array.from({ length: PER_NODE }, (_, i) => `${prefix}-${i}`);

  const orders = [
    { name: 'pods deleted, then the node', podsFirst: true },
    { name: 'the node deleted, then its pods', podsFirst: false },
    { name: 'the node deleted, pods left to the pod GC', podsFirst: false, leavePods: true },
  ];
  for (const o of orders) {
    test(`the next node gets a podCIDR and its pods (${o.name})`, async () => {
      const tag = o.name.replace(/[^a-z]+/g, '-').replace(/-$/, '');
      const a = `a-${tag}`.slice(0, 40);
      const b = `b-${tag}`.slice(0, 40);
      await registerNode(a);
      await podCIDR(a);
      const first = podNames(`${tag}-a`.slice(0, 40));
      await createPods(first, a);
      await bound(first, a);
      if (o.podsFirst) await deletePods(first);
      await client.delete({ ...NODES, name: a });
      if (!o.podsFirst && !o.leavePods) await deletePods(first);
      await gone(a);

      await registerNode(b);
      const cidrB = await podCIDR(b);
      // The deleted node's block may be handed out again, never one a live node holds.
      assert.match(cidrB, /^10\.231\.\d+\.0\/24$/);
      const second = podNames(`${tag}-b`.slice(0, 40));
      await createPods(second, b);
      await bound(second, b);
      await deletePods(second);
      await client.delete({ ...NODES, name: b });
      if (o.leavePods) {
        // The pod GC deletes pods bound to a node that no longer exists.
        await eventually(async () => !((await client.list<any>(PODS)).items.some((p: any) => first.includes(p.metadata.name))), { what: 'orphaned pods collected', timeoutMs: 30_000 });
      }
    });
  }

  test('a node re-created under the same name, pods created before it', async () => {
    for (let round = 0; round < 3; round++) {
      const names = podNames(`same-${round}`);
      // The pods wait (no node matches), then land once the node (re)appears.
      await createPods(names, 'same');
      await registerNode('same');
      await podCIDR('same');
      await bound(names, 'same');
      await deletePods(names);
      await client.delete({ ...NODES, name: 'same' });
      await gone('same');
    }
  });

  test('the controllers\' thread stayed up', () => {
    // A crash of that thread leaves the API server serving with no scheduler and no controllers.
    assert.doesNotMatch(cluster.logs(), /components worker failed/);
  });
});
