// ReplicationControllers get pods, as upstream's replication manager gives them: the steps of the
// conformance test "ReplicationController should test the lifecycle of a ReplicationController"
// (create, ready, label patch, status patch, scale patch, status update, list by label), plus
// adoption and release of pods, against a real API server with simulated nodes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { createNamespace, listPods, runControllers, startControllerTestCluster, waitFor, type ControllerTestCluster } from '../test-support.ts';
import { replicationControllerController, RC_REF } from './index.ts';

const rcRef = (ns: string) => ({ ...RC_REF, namespace: ns });
const PODS = { version: 'v1', resource: 'pods' };

function rc(name: string, replicas: number, labels: Record<string, string>): KObject {
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name, labels },
    spec: { replicas, selector: labels, template: { metadata: { name, labels }, spec: { containers: [{ name, image: 'nginx' }] } } },
  };
}

describe('ReplicationController controller (real API server)', () => {
  let tc: ControllerTestCluster;
  let ctrl: Awaited<ReturnType<typeof runControllers>>;
  before(async () => {
    tc = await startControllerTestCluster({ nodes: 2 });
    ctrl = await runControllers(tc.client, [replicationControllerController]);
  });
  after(async () => {
    await ctrl?.stop();
    await tc?.close();
  });

  const active = async (ns: string, sel: string) => (await listPods(tc.client, ns, sel)).filter((p) => !p.metadata.deletionTimestamp);
  const statusIs = (ns: string, name: string, replicas: number, ready: number) =>
    waitFor(async () => {
      const r = await tc.client.get({ ...rcRef(ns), name });
      return r.status?.replicas === replicas && r.status?.readyReplicas === ready ? r : undefined;
    }, 20_000, `${name}: ${replicas} replicas, ${ready} ready`);

  test("the conformance lifecycle: ready, label and status patches, scale, status update", async () => {
    const ns = await createNamespace(tc.client, 'rc-life');
    const labels = { 'test-rc-static': 'true' };
    await tc.client.create(rcRef(ns), rc('rc-test', 1, labels));
    const ready = await statusIs(ns, 'rc-test', 1, 1);
    assert.equal(ready.status.availableReplicas, 1);
    assert.equal(ready.status.fullyLabeledReplicas, 1);
    assert.equal(ready.status.observedGeneration, ready.metadata.generation);
    const [pod] = await active(ns, 'test-rc-static=true');
    assert.deepEqual(pod.metadata.ownerReferences, [
      { apiVersion: 'v1', kind: 'ReplicationController', name: 'rc-test', uid: ready.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    assert.match(pod.metadata.name!, /^rc-test-[a-z0-9]{5}$/);

    const patched = await tc.client.patch<KObject>({ ...rcRef(ns), name: 'rc-test' }, 'strategic', { metadata: { labels: { 'test-rc': 'patched' } } });
    assert.equal(patched.metadata.labels?.['test-rc'], 'patched');

    // A status patch the controller then corrects back to what the pods say.
    const st = await tc.client.patch<KObject>({ ...rcRef(ns), name: 'rc-test', subresource: 'status' }, 'strategic', { status: { readyReplicas: 0, availableReplicas: 0 } });
    assert.equal(st.status.readyReplicas, 0);

    await tc.client.patch({ ...rcRef(ns), name: 'rc-test', subresource: 'scale' }, 'strategic', { spec: { replicas: 2 } });
    const scaled = await statusIs(ns, 'rc-test', 2, 2);
    assert.equal(scaled.metadata.labels?.['test-rc'], 'patched');

    scaled.status.availableReplicas = 1;
    scaled.status.readyReplicas = 1;
    await tc.client.updateStatus({ ...rcRef(ns), name: 'rc-test' }, scaled);
    const listed = await tc.client.list({ ...RC_REF }, { labelSelector: 'test-rc-static=true' });
    assert.ok(listed.items.some((r) => r.metadata.name === 'rc-test' && r.metadata.namespace === ns && r.metadata.labels?.['test-rc'] === 'patched'));
    await statusIs(ns, 'rc-test', 2, 2);

    await tc.client.patch({ ...rcRef(ns), name: 'rc-test' }, 'merge', { spec: { replicas: 0 } });
    await waitFor(async () => (await active(ns, 'test-rc-static=true')).length === 0, 15_000, 'scaled to zero');
  });

  test('adopts a matching orphan and releases a pod whose labels stop matching', async () => {
    const ns = await createNamespace(tc.client, 'rc-adopt');
    await tc.client.create({ ...PODS, namespace: ns }, { metadata: { name: 'orphan', labels: { name: 'pod-adoption' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    await tc.client.create(rcRef(ns), rc('pod-adoption', 1, { name: 'pod-adoption' }));
    const owner = await tc.client.get({ ...rcRef(ns), name: 'pod-adoption' });
    await waitFor(async () => {
      const p = await tc.client.get({ ...PODS, namespace: ns, name: 'orphan' });
      return p.metadata.ownerReferences?.[0]?.uid === owner.metadata.uid;
    }, 10_000, 'orphan adopted');
    assert.equal((await active(ns, 'name=pod-adoption')).length, 1);
    await tc.client.patch({ ...PODS, namespace: ns, name: 'orphan' }, 'merge', { metadata: { labels: { name: 'not-matching' } } });
    await waitFor(async () => !(await tc.client.get({ ...PODS, namespace: ns, name: 'orphan' })).metadata.ownerReferences?.length, 10_000, 'released');
    await waitFor(async () => (await active(ns, 'name=pod-adoption')).length === 1, 10_000, 'a replacement pod');
  });
});
