// PodGC against a real API server: pods of a deleted node are marked and removed; terminated
// pods beyond the threshold are removed oldest first.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { createNamespace, eventually, testControllerEnv, type TestControllerEnv } from '../test-support.ts';
import { byEvictionAndCreation, createPodGC } from './index.ts';

let tc: TestCluster;
let env: TestControllerEnv;
const spec = { containers: [{ name: 'app', image: 'nginx' }] };

before(async () => {
  tc = await startTestCluster();
  env = testControllerEnv(tc.kubeconfig, { terminatedPodGCThreshold: 2 });
  await env.start((ctx) => createPodGC(ctx, { periodMs: 100, quarantineMs: 0 }));
});
after(async () => {
  await env.stop();
  await tc.close();
});

const exists = async (ref: any) => {
  try {
    return await tc.client.get<KObject>(ref);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
};

test('pods bound to a deleted node are marked DisruptionTarget, failed and deleted', async () => {
  const ns = await createNamespace(tc.client, 'orphans');
  await tc.client.create({ version: 'v1', resource: 'nodes' }, { metadata: { name: 'doomed-node' } });
  const pods = { version: 'v1', resource: 'pods', namespace: ns };
  // The hold finalizer keeps the deleted pod readable so the test can look at what PodGC wrote.
  await tc.client.create(pods, { metadata: { name: 'on-doomed', finalizers: ['example.com/hold'] }, spec: { ...spec, nodeName: 'doomed-node' } });
  await tc.client.create(pods, { metadata: { name: 'on-nothing' }, spec: { ...spec, nodeName: 'never-existed' } });
  await eventually('pod on a never-registered node deleted', async () => ((await exists({ ...pods, name: 'on-nothing' })) ? undefined : true));
  assert.equal((await exists({ ...pods, name: 'on-doomed' }))?.metadata.deletionTimestamp, undefined, 'node still exists');

  await tc.client.delete({ version: 'v1', resource: 'nodes', name: 'doomed-node' });
  const pod = await eventually('pod deleted', async () => {
    const p = await exists({ ...pods, name: 'on-doomed' });
    return p?.metadata.deletionTimestamp ? p : undefined;
  });
  assert.equal(pod.status.phase, 'Failed');
  const cond = pod.status.conditions.find((c: any) => c.type === 'DisruptionTarget');
  assert.deepEqual([cond.status, cond.reason, cond.message], ['True', 'DeletionByPodGC', 'PodGC: node no longer exists']);
  await tc.client.patch({ ...pods, name: 'on-doomed' }, 'merge', { metadata: { finalizers: null } });
  await eventually('pod gone', async () => ((await exists({ ...pods, name: 'on-doomed' })) ? undefined : true));
});

test('terminated pods beyond the threshold are deleted, oldest first', async () => {
  const ns = await createNamespace(tc.client, 'finished');
  const pods = { version: 'v1', resource: 'pods', namespace: ns };
  await tc.client.create(pods, { metadata: { name: 'running' }, spec });
  for (const name of ['t-a', 't-b', 't-c', 't-d']) {
    const p = await tc.client.create<KObject>(pods, { metadata: { name }, spec: { ...spec, restartPolicy: 'Never' } });
    p.status = { ...(p.status ?? {}), phase: 'Succeeded' };
    await tc.client.updateStatus({ ...pods, name }, p);
  }
  await eventually('two oldest deleted', async () => {
    const names = (await tc.client.list<KObject>(pods)).items.map((p) => p.metadata.name).sort();
    return JSON.stringify(names) === JSON.stringify(['running', 't-c', 't-d']) ? names : undefined;
  });
});

test('byEvictionAndCreation orders evicted, then oldest, then by name', () => {
  const mk = (name: string, ts: string, reason?: string): KObject => ({ metadata: { name, creationTimestamp: ts }, status: { reason } });
  const sorted = [mk('b', '2024-01-01T00:00:01Z'), mk('a', '2024-01-01T00:00:01Z'), mk('z', '2024-01-01T00:00:00Z'), mk('e', '2024-01-01T00:00:09Z', 'Evicted')].sort(byEvictionAndCreation);
  assert.deepEqual(sorted.map((p) => p.metadata.name), ['e', 'z', 'a', 'b']);
});
