// The PersistentVolume controller against a real API server: static binding to the smallest fit,
// pre-binding, claims that wait (no class, WaitForFirstConsumer, provisioning), retroactive default
// class, and what happens to volumes and claims when the other side goes away.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { startTestCluster, type TestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { createNamespace, eventually, testControllerEnv, type TestControllerEnv } from '../test-support.ts';
import { externalProvisioningMessage, persistentVolumeController, waitForFirstConsumerMessage } from './index.ts';

let tc: TestCluster;
let env: TestControllerEnv;
const PVS = { version: 'v1', resource: 'persistentvolumes' };
const CLASSES = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };

before(async () => {
  tc = await startTestCluster();
  env = testControllerEnv(tc.kubeconfig);
  await env.start(persistentVolumeController);
});
after(async () => {
  await env.stop();
  await tc.close();
});

const pvcs = (ns: string) => ({ version: 'v1', resource: 'persistentvolumeclaims', namespace: ns });
const pv = (name: string, size: string, extra: any = {}) => ({
  metadata: { name, labels: extra.labels },
  spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/${name}` }, storageClassName: 'manual', persistentVolumeReclaimPolicy: 'Retain', ...extra.spec },
});
const claim = (name: string, size: string, spec: any = {}) => ({ metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, storageClassName: 'manual', ...spec } });
const getPV = (name: string) => tc.client.get<KObject>({ ...PVS, name });
const getPVC = (ns: string, name: string) => tc.client.get<KObject>({ ...pvcs(ns), name });

async function eventsFor(ns: string, name: string): Promise<Array<[string, string, string]>> {
  const list = await tc.client.list<KObject>({ version: 'v1', resource: 'events', namespace: ns });
  return list.items.filter((e) => e.involvedObject?.name === name).map((e) => [e.type, e.reason, e.message]);
}

test('a claim binds to the smallest Available volume that fits, both sides marked', async () => {
  const ns = await createNamespace(tc.client, 'static');
  await tc.client.create(PVS, pv('static-big', '5Gi'));
  await tc.client.create(PVS, pv('static-small', '1Gi'));
  await tc.client.create(PVS, pv('static-wrong-mode', '1Gi', { spec: { accessModes: ['ReadOnlyMany'] } }));
  // Once the controller has marked them Available its cache holds all three: the claim, watched
  // apart from the volumes, must not arrive while only the big one is known.
  for (const name of ['static-big', 'static-small', 'static-wrong-mode'])
    await eventually(`${name} Available`, async () => ((await getPV(name)).status?.phase === 'Available' ? true : undefined));
  await tc.client.create(pvcs(ns), claim('data', '500Mi'));
  const bound = await eventually('claim bound', async () => {
    const c = await getPVC(ns, 'data');
    return c.status?.phase === 'Bound' ? c : undefined;
  });
  assert.equal(bound.spec.volumeName, 'static-small');
  assert.deepEqual(bound.status.capacity, { storage: '1Gi' });
  assert.deepEqual(bound.status.accessModes, ['ReadWriteOnce']);
  assert.equal(bound.metadata.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
  assert.equal(bound.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
  const v = await eventually('volume bound', async () => {
    const p = await getPV('static-small');
    return p.status?.phase === 'Bound' ? p : undefined;
  });
  assert.deepEqual([v.spec.claimRef.namespace, v.spec.claimRef.name, v.spec.claimRef.uid], [ns, 'data', bound.metadata.uid]);
  assert.equal((await getPV('static-big')).status.phase, 'Available');

  // The claim goes away: a Retain volume is Released and stays.
  await tc.client.delete({ ...pvcs(ns), name: 'data' });
  await eventually('released', async () => ((await getPV('static-small')).status?.phase === 'Released' ? true : undefined));
});

test('pre-binding: a claim naming a volume gets it, or says why not', async () => {
  const ns = await createNamespace(tc.client, 'prebound');
  await tc.client.create(PVS, pv('pre-ok', '2Gi'));
  await tc.client.create(PVS, pv('pre-small', '1Gi'));
  await tc.client.create(pvcs(ns), claim('named', '2Gi', { volumeName: 'pre-ok' }));
  await tc.client.create(pvcs(ns), claim('too-big', '2Gi', { volumeName: 'pre-small' }));
  await eventually('named bound', async () => ((await getPVC(ns, 'named')).status?.phase === 'Bound' ? true : undefined));
  assert.equal((await getPV('pre-ok')).metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
  const ev = await eventually('mismatch event', async () => (await eventsFor(ns, 'too-big')).find((e) => e[1] === 'VolumeMismatch'));
  assert.deepEqual(ev, ['Warning', 'VolumeMismatch', 'Cannot bind to requested volume "pre-small": requested PV is too small']);
  assert.equal((await getPVC(ns, 'too-big')).status.phase, 'Pending');
});

test('claims that wait: no class, first consumer, provisioner; then a default class arrives', async () => {
  const ns = await createNamespace(tc.client, 'waiting');
  await tc.client.create(pvcs(ns), { metadata: { name: 'classless' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  const none = await eventually('FailedBinding', async () => (await eventsFor(ns, 'classless')).find((e) => e[1] === 'FailedBinding'));
  assert.equal(none[2], 'no persistent volumes available for this claim and no storage class is set');

  await tc.client.create(CLASSES, { metadata: { name: 'wffc' }, provisioner: 'example.com/disks', volumeBindingMode: 'WaitForFirstConsumer' });
  await tc.client.create(pvcs(ns), claim('late', '1Gi', { storageClassName: 'wffc' }));
  const wait = await eventually('WaitForFirstConsumer', async () => (await eventsFor(ns, 'late')).find((e) => e[1] === 'WaitForFirstConsumer'));
  assert.deepEqual(wait, ['Normal', 'WaitForFirstConsumer', waitForFirstConsumerMessage]);
  assert.equal((await getPVC(ns, 'late')).metadata.annotations?.['volume.kubernetes.io/storage-provisioner'], undefined);
  // The scheduler picked a node: now the provisioner is asked.
  await tc.client.patch({ ...pvcs(ns), name: 'late' }, 'merge', { metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'node-a' } } });
  const asked = await eventually('provisioner annotation', async () => {
    const c = await getPVC(ns, 'late');
    return c.metadata.annotations?.['volume.kubernetes.io/storage-provisioner'];
  });
  assert.equal(asked, 'example.com/disks');
  assert.equal((await getPVC(ns, 'late')).metadata.annotations?.['volume.beta.kubernetes.io/storage-provisioner'], 'example.com/disks');
  const ext = await eventually('ExternalProvisioning', async () => (await eventsFor(ns, 'late')).find((e) => e[1] === 'ExternalProvisioning'));
  assert.equal(ext[2], externalProvisioningMessage('example.com/disks'));

  // A default class appears: the classless claim gets it (upstream's retroactive default).
  await tc.client.create(CLASSES, { metadata: { name: 'std', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'example.com/std' });
  await eventually('class assigned', async () => ((await getPVC(ns, 'classless')).spec.storageClassName === 'std' ? true : undefined));
});

test('reclaim policies: Delete without a provisioner and Recycle fail as upstream says; lost claims', async () => {
  const ns = await createNamespace(tc.client, 'reclaim');
  await tc.client.create(PVS, pv('del-1', '1Gi', { spec: { storageClassName: 'reclaim-del', persistentVolumeReclaimPolicy: 'Delete' } }));
  await tc.client.create(PVS, pv('rec-1', '1Gi', { spec: { storageClassName: 'reclaim-rec', persistentVolumeReclaimPolicy: 'Recycle' } }));
  await tc.client.create(PVS, pv('lost-1', '1Gi', { spec: { storageClassName: 'reclaim-lost' } }));
  for (const [name, cls] of [['d', 'reclaim-del'], ['r', 'reclaim-rec'], ['l', 'reclaim-lost']])
    await tc.client.create(pvcs(ns), claim(name, '1Gi', { storageClassName: cls }));
  for (const name of ['d', 'r', 'l']) await eventually(`${name} bound`, async () => ((await getPVC(ns, name)).status?.phase === 'Bound' ? true : undefined));
  await tc.client.delete({ ...pvcs(ns), name: 'd' });
  await tc.client.delete({ ...pvcs(ns), name: 'r' });
  const del = await eventually('del failed', async () => {
    const p = await getPV('del-1');
    return p.status?.phase === 'Failed' ? p : undefined;
  });
  assert.equal(del.status.message, 'error getting deleter volume plugin for volume "del-1": no deletable volume plugin matched');
  const rec = await eventually('recycle failed', async () => {
    const p = await getPV('rec-1');
    return p.status?.phase === 'Failed' ? p : undefined;
  });
  assert.match(rec.status.message, /Recycle is deprecated upstream and not supported/);

  await tc.client.delete({ ...PVS, name: 'lost-1' });
  await eventually('claim lost', async () => ((await getPVC(ns, 'l')).status?.phase === 'Lost' ? true : undefined));
  const lost = await eventually('ClaimLost', async () => (await eventsFor(ns, 'l')).find((e) => e[1] === 'ClaimLost'));
  assert.deepEqual(lost, ['Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!']);
});
