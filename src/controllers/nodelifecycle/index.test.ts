// Node lifecycle against a real API server: a stopped simulated node goes Unknown, gets tainted,
// its pods are marked not ready and evicted after their tolerationSeconds; a restarted one recovers.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { startSimulatedNodes } from '../../kubelet/simulated/simulator.ts';
import { eventually, testControllerEnv } from '../test-support.ts';
import { nodeLifecycleController } from './index.ts';
import { evictionDeadline } from './taints.ts';
import { toleratesTaint } from '../../api/core/taints.ts';
import { computeZoneState, ZoneLimiter } from './zones.ts';

let cluster: TestCluster;
before(async () => {
  cluster = await startTestCluster();
});
after(async () => {
  await cluster.close();
});

test('toleration matching and eviction deadlines', () => {
  const taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-01-01T00:00:00Z' };
  assert.ok(toleratesTaint({ key: taint.key, operator: 'Exists', effect: 'NoExecute' }, taint));
  assert.ok(toleratesTaint({ operator: 'Exists' }, taint));
  assert.ok(!toleratesTaint({ key: 'other', operator: 'Exists' }, taint));
  assert.ok(!toleratesTaint({ key: taint.key, operator: 'Equal', value: 'x' }, taint));
  const t0 = Date.parse(taint.timeAdded);
  const pod = (tolerations: any[]) => ({ metadata: {}, spec: { tolerations } });
  assert.equal(evictionDeadline(pod([]), [taint], t0), 0);
  assert.equal(evictionDeadline(pod([{ key: taint.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }]), [taint], t0), t0 + 30_000);
  assert.equal(evictionDeadline(pod([{ operator: 'Exists' }]), [taint], t0), Infinity);
});

test('zone states and limiter', () => {
  const n = (s: string) => ({ metadata: {}, status: { conditions: [{ type: 'Ready', status: s }] } });
  assert.equal(computeZoneState([n('Unknown')]), 'FullDisruption');
  assert.equal(computeZoneState([n('Unknown'), n('True')]), 'Normal');
  assert.equal(computeZoneState([n('Unknown'), n('Unknown'), n('Unknown'), n('True')]), 'PartialDisruption');
  const lim = new ZoneLimiter(0.5, 0);
  assert.equal(lim.take(0), 0);
  assert.equal(lim.take(0), 2000);
  assert.equal(lim.take(2000), 0);
});

test('a node that stops heartbeating goes Unknown, is tainted, loses its pods, and recovers', async () => {
  const c = cluster.client;
  const keep = await startSimulatedNodes({ client: c, count: 1, prefix: 'keep', heartbeatSeconds: 1 });
  let dying = await startSimulatedNodes({ client: c, count: 1, prefix: 'dying', heartbeatSeconds: 1 });
  const env = testControllerEnv(c, { nodeMonitorGracePeriodMs: 3000, nodeMonitorPeriodMs: 200, nodeEvictionRate: 100 });
  await env.start(nodeLifecycleController);
  try {
    const mk = (name: string, tolerationSeconds?: number) =>
      c.create<KObject>({ version: 'v1', resource: 'pods', namespace: 'default' }, {
        metadata: { name },
        spec: {
          nodeName: 'dying-0',
          containers: [{ name: 'c', image: 'x' }],
          tolerations: tolerationSeconds === undefined ? [] : [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds }],
        },
      });
    await mk('short', 2);
    await mk('long', 3600);
    await eventually('pods ready', async () => {
      const p = await c.get<KObject>({ version: 'v1', resource: 'pods', namespace: 'default', name: 'long' });
      return p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True') || undefined;
    });
    await dying.close();

    const node = await eventually('node unknown and tainted', async () => {
      const n = await c.get<KObject>({ version: 'v1', resource: 'nodes', name: 'dying-0' });
      const ready = n.status.conditions.find((x: any) => x.type === 'Ready');
      const t = n.spec?.taints ?? [];
      return ready.status === 'Unknown' && t.some((x: any) => x.key === 'node.kubernetes.io/unreachable' && x.effect === 'NoExecute') && t.some((x: any) => x.key === 'node.kubernetes.io/unreachable' && x.effect === 'NoSchedule') ? n : undefined;
    }, 30_000);
    const ready = node.status.conditions.find((x: any) => x.type === 'Ready');
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, 'Kubelet stopped posting node status.');
    for (const t of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) assert.equal(node.status.conditions.find((x: any) => x.type === t).status, 'Unknown');
    const noExec = node.spec.taints.find((x: any) => x.effect === 'NoExecute');
    assert.ok(noExec.timeAdded);
    assert.ok(!node.spec.taints.find((x: any) => x.effect === 'NoSchedule').timeAdded);
    // The healthy node is left alone.
    const healthy = await c.get<KObject>({ version: 'v1', resource: 'nodes', name: 'keep-0' });
    assert.equal(healthy.spec?.taints, undefined);

    const long = await eventually('long pod marked not ready', async () => {
      const p = await c.get<KObject>({ version: 'v1', resource: 'pods', namespace: 'default', name: 'long' });
      return p.status.conditions.find((x: any) => x.type === 'Ready').status === 'False' ? p : undefined;
    });
    assert.equal(long.metadata.deletionTimestamp, undefined);
    await eventually('short pod evicted', async () => {
      try {
        const p = await c.get<KObject>({ version: 'v1', resource: 'pods', namespace: 'default', name: 'short' });
        return p.metadata.deletionTimestamp && p.status.conditions.some((x: any) => x.type === 'DisruptionTarget' && x.reason === 'DeletionByTaintManager') ? true : undefined;
      } catch (e) {
        return isNotFound(e) ? true : undefined;
      }
    });
    await eventually('eviction event', async () => {
      const evs = await c.list<KObject>({ version: 'v1', resource: 'events', namespace: 'default' });
      return evs.items.some((e) => e.reason === 'TaintManagerEviction' && e.message === 'Marking for deletion Pod default/short') || undefined;
    });

    // The kubelet comes back: conditions are its business, the taints are ours to remove.
    dying = await startSimulatedNodes({ client: c, count: 1, prefix: 'dying', heartbeatSeconds: 1 });
    await eventually('taints removed', async () => {
      const n = await c.get<KObject>({ version: 'v1', resource: 'nodes', name: 'dying-0' });
      return (n.spec?.taints ?? []).length === 0 && n.status.conditions.find((x: any) => x.type === 'Ready').status === 'True' ? true : undefined;
    }, 30_000);
    const still = await c.get<KObject>({ version: 'v1', resource: 'pods', namespace: 'default', name: 'long' });
    assert.equal(still.metadata.deletionTimestamp, undefined);
  } finally {
    await env.stop();
    await dying.close();
    await keep.close();
  }
});
