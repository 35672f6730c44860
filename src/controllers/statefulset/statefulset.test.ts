import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { Informer } from '../../client/informer.ts';
import { startTestCluster, type TestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { startSimulatedNodes, type SimulatedNodes } from '../../kubelet/simulated/simulator.ts';
import { eventually, startRoundRobinBinder, testControllerEnv, type TestControllerEnv } from '../test-support.ts';
import { PODS, PVCS, REVISIONS, STATEFULSETS } from '../job/pod-helpers.ts';
import { isPodReady } from '../../api/core/pod-state.ts';
import { newStatefulSetController } from './statefulset-controller.ts';

describe('statefulset controller', () => {
  let tc: TestCluster;
  let nodes: SimulatedNodes;
  let binder: { stop(): Promise<void> };
  let env: TestControllerEnv;
  let watcher: Informer;
  const ns = 'default';
  /** Violations of ordering seen through a pod watch (events arrive in resourceVersion order). */
  const violations: string[] = [];
  const deletionOrder: string[] = [];

  before(async () => {
    tc = await startTestCluster();
    nodes = await startSimulatedNodes({ client: tc.client, count: 2, maxStopMs: 50 });
    binder = startRoundRobinBinder(tc.client, nodes.nodes);
    watcher = new Informer(tc.client, { version: 'v1', resource: 'pods' }, { log: () => {} });
    watcher.addEventHandler({
      onAdd: (p) => {
        const m = /^web-(\d+)$/.exec(p.metadata.name!);
        if (!m || m[1] === '0') return;
        const prev = watcher.indexer.getByKey(`${ns}/web-${Number(m[1]) - 1}`);
        if (!prev || !isPodReady(prev)) violations.push(`${p.metadata.name} created before web-${Number(m[1]) - 1} was ready`);
      },
      onUpdate: (o, n) => {
        if (n.metadata.name!.startsWith('web-') && n.metadata.deletionTimestamp && !o.metadata.deletionTimestamp) deletionOrder.push(n.metadata.name!);
      },
    });
    watcher.start();
    await watcher.waitForSync();
    env = testControllerEnv(tc.client);
    await env.start(newStatefulSetController());
  });
  after(async () => {
    await env.stop();
    await watcher.stop();
    await binder.stop();
    await nodes.close();
    await tc.close();
  });

  const get = (name: string) => tc.client.get<KObject>({ ...STATEFULSETS, namespace: ns, name });
  const podsOf = async (app: string) =>
    (await tc.client.list<KObject>({ ...PODS, namespace: ns }, { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp).sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
  const sts = (name: string, spec: any = {}, image = 'nginx:1'): KObject => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: name,
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
      ...spec,
    },
  });
  const settled = (name: string, want: number) =>
    eventually(`${name} settled at ${want}`, async () => {
      const s = await get(name);
      const st = s.status ?? {};
      return st.observedGeneration === s.metadata.generation && st.replicas === want && st.readyReplicas === want && (await podsOf(name)).length === want ? s : undefined;
    });

  it('creates ordered pods with stable identity and claims', async () => {
    const claimTemplate = { metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
    await tc.client.create({ ...STATEFULSETS, namespace: ns }, sts('web', { volumeClaimTemplates: [claimTemplate] }));
    const s = await settled('web', 3);
    assert.deepEqual(violations, []);
    assert.equal(s.status.currentReplicas, 3);
    assert.equal(s.status.updatedReplicas, 3);
    assert.equal(s.status.availableReplicas, 3);
    assert.equal(s.status.currentRevision, s.status.updateRevision);
    assert.match(s.status.updateRevision, /^web-[a-z0-9]+$/);
    assert.equal(s.status.collisionCount, 0);
    const pods = await podsOf('web');
    assert.deepEqual(pods.map((p) => p.metadata.name), ['web-0', 'web-1', 'web-2']);
    const p1 = pods[1];
    assert.equal(p1.spec.hostname, 'web-1');
    assert.equal(p1.spec.subdomain, 'web');
    assert.equal(p1.metadata.labels!['statefulset.kubernetes.io/pod-name'], 'web-1');
    assert.equal(p1.metadata.labels!['apps.kubernetes.io/pod-index'], '1');
    assert.equal(p1.metadata.labels!['controller-revision-hash'], s.status.updateRevision);
    assert.deepEqual(p1.spec.volumes.find((v: any) => v.name === 'www').persistentVolumeClaim, { claimName: 'www-web-1' });
    const claims = (await tc.client.list<KObject>({ ...PVCS, namespace: ns })).items.map((c) => c.metadata.name).sort();
    assert.deepEqual(claims, ['www-web-0', 'www-web-1', 'www-web-2']);
    const evs = await eventually('events', async () => {
      const e = (await tc.client.list<KObject>({ version: 'v1', resource: 'events', namespace: ns }, { fieldSelector: 'involvedObject.name=web' })).items;
      return e.some((x) => x.message === 'create Pod web-2 in StatefulSet web successful') ? e : undefined;
    });
    assert.ok(evs.some((x) => x.reason === 'SuccessfulCreate' && x.message === 'create Claim www-web-0 Pod web-0 in StatefulSet web success'));
  });

  it('rolls updates from the highest ordinal down to the partition', async () => {
    const before = await get('web');
    await tc.client.patch({ ...STATEFULSETS, namespace: ns, name: 'web' }, 'merge', {
      spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } }, template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } },
    });
    const s = await eventually('partitioned update', async () => {
      const x = await get('web');
      const pods = await podsOf('web');
      return x.status?.updatedReplicas === 2 && x.status.readyReplicas === 3 && pods.length === 3 ? x : undefined;
    });
    assert.equal(s.status.currentRevision, before.status.currentRevision);
    assert.notEqual(s.status.updateRevision, before.status.updateRevision);
    const pods = await podsOf('web');
    assert.deepEqual(pods.map((p) => p.spec.containers[0].image), ['nginx:1', 'nginx:2', 'nginx:2']);
    assert.deepEqual(deletionOrder.slice(-2), ['web-2', 'web-1']);
    await tc.client.patch({ ...STATEFULSETS, namespace: ns, name: 'web' }, 'merge', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } });
    const done = await eventually('update complete', async () => {
      const x = await get('web');
      return x.status?.currentRevision === x.status?.updateRevision && x.status.updatedReplicas === 3 && x.status.readyReplicas === 3 ? x : undefined;
    });
    assert.equal(done.status.currentReplicas, 3);
    const revs = (await tc.client.list<KObject>({ ...REVISIONS, namespace: ns }, { labelSelector: 'app=web' })).items;
    assert.equal(revs.length, 2);
  });

  it('scales down in reverse ordinal order', async () => {
    deletionOrder.length = 0;
    await tc.client.patch({ ...STATEFULSETS, namespace: ns, name: 'web' }, 'merge', { spec: { replicas: 1 } });
    await settled('web', 1);
    assert.deepEqual(deletionOrder, ['web-2', 'web-1']);
    assert.deepEqual((await podsOf('web')).map((p) => p.metadata.name), ['web-0']);
  });

  it('Parallel with ordinals.start and claim retention owner references', async () => {
    const claimTemplate = { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
    await tc.client.create(
      { ...STATEFULSETS, namespace: ns },
      sts('par', {
        replicas: 2,
        podManagementPolicy: 'Parallel',
        ordinals: { start: 5 },
        volumeClaimTemplates: [claimTemplate],
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' },
      }),
    );
    const s = await settled('par', 2);
    assert.deepEqual((await podsOf('par')).map((p) => p.metadata.name), ['par-5', 'par-6']);
    const claim = await tc.client.get<KObject>({ ...PVCS, namespace: ns, name: 'data-par-6' });
    assert.ok(claim.metadata.ownerReferences!.some((r) => r.kind === 'StatefulSet' && r.uid === s.metadata.uid));
    const pod6 = (await podsOf('par')).find((p) => p.metadata.name === 'par-6')!;
    await tc.client.patch({ ...STATEFULSETS, namespace: ns, name: 'par' }, 'merge', { spec: { replicas: 1 } });
    await settled('par', 1);
    const after = await tc.client.get<KObject>({ ...PVCS, namespace: ns, name: 'data-par-6' });
    assert.ok(after.metadata.ownerReferences!.some((r) => r.kind === 'Pod' && r.uid === pod6.metadata.uid));
  });

  it('does not duplicate work across a controller restart', async () => {
    await env.stop();
    env = testControllerEnv(tc.client);
    await env.start(newStatefulSetController());
    await tc.client.patch({ ...STATEFULSETS, namespace: ns, name: 'web' }, 'merge', { spec: { replicas: 2 } });
    await settled('web', 2);
    assert.deepEqual((await podsOf('web')).map((p) => p.metadata.name), ['web-0', 'web-1']);
  });
});
