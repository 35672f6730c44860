import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { createNamespace, isPodRunningReady, listPods, runControllers, startControllerTestCluster, waitFor, type ControllerTestCluster } from '../test-support.ts';
import { replicaSetController, RS_REF, slowStartBatch } from './index.ts';
import { compareForDeletion, podsToDelete } from './pod-ranking.ts';

const rsRef = (ns: string) => ({ ...RS_REF, namespace: ns });

function replicaSet(name: string, replicas: number, labels: Record<string, string> = { app: name }): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
  };
}

describe('slowStartBatch', () => {
  test('runs 1, 2, 4 … and stops after a failing batch', async () => {
    let calls = 0;
    const r = await slowStartBatch(10, async () => {
      calls++;
      if (calls === 5) throw new Error('boom');
    });
    // batches 1, 2 succeed (3 calls), batch of 4 has one failure → stop.
    assert.equal(calls, 7);
    assert.equal(r.successes, 6);
    assert.equal(r.failures, 1);
  });
});

describe('pod ranking', () => {
  const pod = (name: string, o: { node?: string; phase?: string; ready?: boolean; created?: string; restarts?: number }): KObject => ({
    metadata: { name, creationTimestamp: o.created ?? '2024-01-01T00:00:00Z' },
    spec: { nodeName: o.node },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: '2024-01-01T00:00:10Z' }],
      containerStatuses: [{ restartCount: o.restarts ?? 0 }],
    },
  });
  test('unassigned < pending < not ready < restarts < newer', () => {
    const pods = [
      pod('old-ready', { node: 'n1', ready: true }),
      pod('new-ready', { node: 'n2', ready: true, created: '2024-01-02T00:00:00Z' }),
      pod('restarty', { node: 'n3', ready: true, restarts: 3 }),
      pod('unready', { node: 'n4', ready: false }),
      pod('pending', { node: 'n5', phase: 'Pending' }),
      pod('unassigned', { phase: 'Pending' }),
    ];
    const order = [...pods].sort((a, b) => compareForDeletion(a, b)).map((p) => p.metadata.name);
    assert.deepEqual(order, ['unassigned', 'pending', 'unready', 'restarty', 'new-ready', 'old-ready']);
    assert.deepEqual(
      podsToDelete(pods, pods, 2).map((p) => p.metadata.name),
      ['unassigned', 'pending'],
    );
  });
  test('pods doubled up on a node go first', () => {
    const a = pod('a', { node: 'n1', ready: true });
    const b = pod('b', { node: 'n2', ready: true });
    const other = pod('other', { node: 'n2', ready: true });
    assert.deepEqual(podsToDelete([a, b], [a, b, other], 1).map((p) => p.metadata.name), ['b']);
  });
});

describe('ReplicaSet controller (real API server)', () => {
  let tc: ControllerTestCluster;
  let ctrl: Awaited<ReturnType<typeof runControllers>>;
  before(async () => {
    tc = await startControllerTestCluster({ nodes: 2 });
    ctrl = await runControllers(tc.client, [replicaSetController]);
  });
  after(async () => {
    await ctrl?.stop();
    await tc?.close();
  });

  const activePods = async (ns: string, sel: string) => (await listPods(tc.client, ns, sel)).filter((p) => !p.metadata.deletionTimestamp);

  test('scales up and down, reports status and records events', async () => {
    const ns = await createNamespace(tc.client, 'rs-scale');
    await tc.client.create(rsRef(ns), replicaSet('web', 3));
    const rs = await waitFor(async () => {
      const r = await tc.client.get({ ...rsRef(ns), name: 'web' });
      return r.status?.readyReplicas === 3 && r.status?.availableReplicas === 3 && r.status?.replicas === 3 ? r : undefined;
    }, 20_000, 'web ready');
    assert.equal(rs.status.fullyLabeledReplicas, 3);
    assert.equal(rs.status.observedGeneration, rs.metadata.generation);
    const pods = await activePods(ns, 'app=web');
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.match(p.metadata.name!, /^web-[a-z0-9]{5}$/);
      assert.deepEqual(p.metadata.ownerReferences, [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
      assert.ok(isPodRunningReady(p));
    }
    await waitFor(async () => {
      const evs = (await tc.client.list({ version: 'v1', resource: 'events', namespace: ns })).items;
      return evs.filter((e: any) => e.reason === 'SuccessfulCreate' && /^Created pod: web-/.test(e.message)).length === 3;
    }, 10_000, 'SuccessfulCreate events');

    await tc.client.patch({ ...rsRef(ns), name: 'web' }, 'merge', { spec: { replicas: 1 } });
    await waitFor(async () => (await activePods(ns, 'app=web')).length === 1, 15_000, 'scale down to 1');
    await waitFor(async () => (await tc.client.get({ ...rsRef(ns), name: 'web' })).status?.replicas === 1, 10_000, 'status replicas 1');
    await waitFor(async () => {
      const evs = (await tc.client.list({ version: 'v1', resource: 'events', namespace: ns })).items;
      return evs.some((e: any) => e.reason === 'SuccessfulDelete' && /^Deleted pod: web-/.test(e.message));
    }, 10_000, 'SuccessfulDelete event');
  });

  test('a deleted pod is replaced', async () => {
    const ns = await createNamespace(tc.client, 'rs-replace');
    await tc.client.create(rsRef(ns), replicaSet('db', 2));
    const pods = await waitFor(async () => {
      const ps = await activePods(ns, 'app=db');
      return ps.length === 2 ? ps : undefined;
    }, 15_000, 'two pods');
    await tc.client.delete({ version: 'v1', resource: 'pods', namespace: ns, name: pods[0]!.metadata.name! }, { gracePeriodSeconds: 0 });
    const now = await waitFor(async () => {
      const ps = await activePods(ns, 'app=db');
      return ps.length === 2 && !ps.some((p) => p.metadata.name === pods[0]!.metadata.name) ? ps : undefined;
    }, 15_000, 'replacement pod');
    assert.equal(now.length, 2);
  });

  test('adopts matching orphans and releases pods whose labels stop matching', async () => {
    const ns = await createNamespace(tc.client, 'rs-adopt');
    await tc.client.create({ version: 'v1', resource: 'pods', namespace: ns }, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'orphan', labels: { app: 'cache' } },
      spec: { containers: [{ name: 'c', image: 'redis' }] },
    });
    await tc.client.create(rsRef(ns), replicaSet('cache', 2));
    const rs = await tc.client.get({ ...rsRef(ns), name: 'cache' });
    const orphan = await waitFor(async () => {
      const p = await tc.client.get({ version: 'v1', resource: 'pods', namespace: ns, name: 'orphan' });
      return p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid ? p : undefined;
    }, 10_000, 'orphan adopted');
    assert.equal(orphan.metadata.ownerReferences![0]!.controller, true);
    await waitFor(async () => (await activePods(ns, 'app=cache')).length === 2, 10_000, 'two pods');
    // Only one pod was created: the orphan counts as one of the two.
    assert.equal((await activePods(ns, 'app=cache')).filter((p) => p.metadata.name !== 'orphan').length, 1);

    await tc.client.patch({ version: 'v1', resource: 'pods', namespace: ns, name: 'orphan' }, 'merge', { metadata: { labels: { app: 'other' } } });
    const released = await waitFor(async () => {
      const p = await tc.client.get({ version: 'v1', resource: 'pods', namespace: ns, name: 'orphan' });
      return !p.metadata.ownerReferences?.length ? p : undefined;
    }, 10_000, 'pod released');
    assert.equal(released.metadata.labels!.app, 'other');
    await waitFor(async () => (await activePods(ns, 'app=cache')).length === 2, 10_000, 'replacement for released pod');
  });
});
