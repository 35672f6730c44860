// Garbage collector against a real in-process API server: Background, Foreground and Orphan
// cascades across kinds, multiple owners, recreated owners and objects created later.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject, OwnerReference } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { eventually, testControllerEnv, type TestControllerEnv } from '../test-support.ts';
import { garbageCollectorController } from './index.ts';

let cluster: TestCluster;
let env: TestControllerEnv;
const ns = 'default';
const cm = { version: 'v1', resource: 'configmaps', namespace: ns };
const secret = { version: 'v1', resource: 'secrets', namespace: ns };
const rs = { group: 'apps', version: 'v1', resource: 'replicasets', namespace: ns };
const deploy = { group: 'apps', version: 'v1', resource: 'deployments', namespace: ns };
const pods = { version: 'v1', resource: 'pods', namespace: ns };

before(async () => {
  cluster = await startTestCluster();
  env = testControllerEnv(cluster.kubeconfig);
  await env.start(garbageCollectorController);
});
after(async () => {
  await env.stop();
  await cluster.close();
});

function ownerRef(o: KObject, extra: Partial<OwnerReference> = {}): OwnerReference {
  return { apiVersion: o.apiVersion!, kind: o.kind!, name: o.metadata.name!, uid: o.metadata.uid!, ...extra };
}

async function gone(ref: any, name: string): Promise<true | undefined> {
  try {
    await cluster.client.get({ ...ref, name });
    return undefined;
  } catch (e) {
    if (isNotFound(e)) return true;
    throw e;
  }
}

const podTemplate = { containers: [{ name: 'app', image: 'nginx' }] };

test('background: deleting a deployment removes its replicaset and the replicaset removes its pod', async () => {
  const d = await cluster.client.create<KObject>(deploy, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'bg' },
    spec: { selector: { matchLabels: { app: 'bg' } }, template: { metadata: { labels: { app: 'bg' } }, spec: podTemplate } },
  });
  const r = await cluster.client.create<KObject>(rs, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'bg-1', ownerReferences: [ownerRef(d, { controller: true, blockOwnerDeletion: true })] },
    spec: { replicas: 0, selector: { matchLabels: { app: 'bg' } }, template: { metadata: { labels: { app: 'bg' } }, spec: podTemplate } },
  });
  await cluster.client.create(pods, { metadata: { name: 'bg-1-x', labels: { app: 'bg' }, ownerReferences: [ownerRef(r, { controller: true, blockOwnerDeletion: true })] }, spec: podTemplate });
  await cluster.client.delete({ ...deploy, name: 'bg' }, { propagationPolicy: 'Background' });
  await eventually('replicaset deleted', () => gone(rs, 'bg-1'));
  await eventually('pod deleted', () => gone(pods, 'bg-1-x'));
});

test('a dependent with another live owner only loses the reference to the deleted one', async () => {
  const a = await cluster.client.create<KObject>(cm, { metadata: { name: 'owner-a' } });
  const b = await cluster.client.create<KObject>(secret, { metadata: { name: 'owner-b' } });
  await cluster.client.create(cm, { metadata: { name: 'two-owners', ownerReferences: [ownerRef(a), ownerRef(b)] } });
  await cluster.client.delete({ ...cm, name: 'owner-a' });
  const dep = await eventually('reference removed', async () => {
    const o = await cluster.client.get<KObject>({ ...cm, name: 'two-owners' });
    return o.metadata.ownerReferences?.length === 1 ? o : undefined;
  });
  assert.equal(dep.metadata.ownerReferences![0].uid, b.metadata.uid);
  await cluster.client.delete({ ...secret, name: 'owner-b' });
  await eventually('dependent deleted with its last owner', () => gone(cm, 'two-owners'));
});

test('foreground: the owner waits for blocking dependents, then goes', async () => {
  const owner = await cluster.client.create<KObject>(cm, { metadata: { name: 'fg-owner' } });
  // The hold finalizer keeps the dependent (and so the owner) around until the test releases it.
  await cluster.client.create(secret, {
    metadata: { name: 'fg-dep', finalizers: ['example.com/hold'], ownerReferences: [ownerRef(owner, { blockOwnerDeletion: true })] },
  });
  await cluster.client.create(cm, { metadata: { name: 'fg-free', ownerReferences: [ownerRef(owner)] } });
  await cluster.client.delete({ ...cm, name: 'fg-owner' }, { propagationPolicy: 'Foreground' });
  await eventually('non-blocking dependent deleted', () => gone(cm, 'fg-free'));
  // The dependent has no dependents of its own, so its foreground finalizer goes at once; the hold stays.
  await eventually('blocking dependent being deleted', async () => {
    const o = await cluster.client.get<KObject>({ ...secret, name: 'fg-dep' });
    return o.metadata.deletionTimestamp && o.metadata.finalizers?.length === 1 ? o : undefined;
  });
  const o = await cluster.client.get<KObject>({ ...cm, name: 'fg-owner' });
  assert.ok(o.metadata.deletionTimestamp);
  assert.deepEqual(o.metadata.finalizers, ['foregroundDeletion']);
  await cluster.client.patch({ ...secret, name: 'fg-dep' }, 'json', [{ op: 'remove', path: '/metadata/finalizers/0' }]);
  await eventually('dependent gone', () => gone(secret, 'fg-dep'));
  await eventually('owner gone', () => gone(cm, 'fg-owner'));
});

test('orphan: dependents lose the reference and stay; the owner goes', async () => {
  const owner = await cluster.client.create<KObject>(rs, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'orph' },
    spec: { replicas: 0, selector: { matchLabels: { app: 'orph' } }, template: { metadata: { labels: { app: 'orph' } }, spec: podTemplate } },
  });
  await cluster.client.create(pods, { metadata: { name: 'orph-x', labels: { app: 'orph' }, ownerReferences: [ownerRef(owner, { controller: true, blockOwnerDeletion: true })] }, spec: podTemplate });
  await cluster.client.delete({ ...rs, name: 'orph' }, { propagationPolicy: 'Orphan' });
  await eventually('owner gone', () => gone(rs, 'orph'));
  const pod = await cluster.client.get<KObject>({ ...pods, name: 'orph-x' });
  assert.equal(pod.metadata.ownerReferences, undefined);
  assert.equal(pod.metadata.deletionTimestamp, undefined);
});

test('an owner recreated under the same name with a new uid does not keep the dependent', async () => {
  const first = await cluster.client.create<KObject>(cm, { metadata: { name: 'reborn' } });
  await cluster.client.delete({ ...cm, name: 'reborn' });
  await cluster.client.create(cm, { metadata: { name: 'reborn' } });
  // Created after the GC started, pointing at the old uid.
  await cluster.client.create(secret, { metadata: { name: 'reborn-dep', ownerReferences: [ownerRef({ ...first, apiVersion: 'v1', kind: 'ConfigMap' })] } });
  await eventually('dependent of the old owner deleted', () => gone(secret, 'reborn-dep'));
  await cluster.client.get({ ...cm, name: 'reborn' });
});

test('a dependent whose owner is alive but not yet cached is kept', async () => {
  const owner = await cluster.client.create<KObject>(cm, { metadata: { name: 'alive' } });
  await cluster.client.create(secret, { metadata: { name: 'alive-dep', ownerReferences: [ownerRef(owner)] } });
  // Wait until a newer object has come through the watch, then check the dependent survived.
  await cluster.client.create(cm, { metadata: { name: 'alive-marker' } });
  await eventually('marker cached', () => env.informers.informerFor({ version: 'v1', resource: 'configmaps' }).indexer.getByKey(`${ns}/alive-marker`));
  const dep = await cluster.client.get<KObject>({ ...secret, name: 'alive-dep' });
  assert.equal(dep.metadata.deletionTimestamp, undefined);
});

test('after a restart the collector finds dependents whose owner went while it was down', async () => {
  await env.stop();
  const owner = await cluster.client.create<KObject>(cm, { metadata: { name: 'while-down' } });
  await cluster.client.create(secret, { metadata: { name: 'while-down-dep', ownerReferences: [ownerRef(owner)] } });
  await cluster.client.delete({ ...cm, name: 'while-down' });
  env = testControllerEnv(cluster.kubeconfig);
  await env.start(garbageCollectorController);
  await eventually('dependent deleted', () => gone(secret, 'while-down-dep'));
});
