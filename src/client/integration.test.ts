// End-to-end checks of the client package against the real Mizzen API server over HTTPS with
// client-certificate auth (the same path the scheduler and controllers use).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { loadKubeconfig } from './kubeconfig.ts';
import { ApiClient, ApiError, isConflict, isNotFound } from './api-client.ts';
import { Informer } from './informer.ts';
import { LeaderElector } from './leader-election.ts';
import { EventRecorder } from './event-recorder.ts';
import type { KObject } from '../api/types.ts';
import { until as waitFor } from '../testing/poll.ts';

let api: TestApiServer;
let client: ApiClient;

before(async () => {
  api = await startTestApiServer({ name: 'client-it' });
  client = new ApiClient({ ...loadKubeconfig(api.kubeconfig), maxSockets: 16 });
});

after(async () => {
  client?.close();
  await api?.close();
});

const cms = (ns = 'default') => ({ version: 'v1', resource: 'configmaps', namespace: ns });

test('CRUD over HTTPS with Status errors', async () => {
  const cm = await client.create(cms(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'it-1' }, data: { a: '1' } });
  assert.ok(cm.metadata.resourceVersion);
  const got = await client.get({ ...cms(), name: 'it-1' });
  assert.equal(got.data.a, '1');
  const updated = await client.update({ ...cms(), name: 'it-1' }, { ...got, data: { a: '2' } });
  await assert.rejects(client.update({ ...cms(), name: 'it-1' }, got), (e: unknown) => isConflict(e));
  const patched = await client.patch({ ...cms(), name: 'it-1' }, 'strategic', { data: { b: '3' } });
  assert.deepEqual(patched.data, { a: '2', b: '3' });
  assert.notEqual(patched.metadata.resourceVersion, updated.metadata.resourceVersion);
  await client.delete({ ...cms(), name: 'it-1' });
  await assert.rejects(client.get({ ...cms(), name: 'it-1' }), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.message, 'configmaps "it-1" not found');
    return isNotFound(e);
  });
});

test('informer follows real watch events', async () => {
  const inf = new Informer<KObject>(client, { version: 'v1', resource: 'configmaps' }, { namespace: 'informer-it', log: () => {} });
  await client.create({ version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'informer-it' } });
  await client.create(cms('informer-it'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'before' } });
  const log: string[] = [];
  inf.addEventHandler({
    onAdd: (o) => log.push(`add ${o.metadata.name}`),
    onUpdate: (_a, b) => log.push(`update ${b.metadata.name}`),
    onDelete: (o) => log.push(`delete ${o.metadata.name}`),
  });
  inf.start();
  await inf.waitForSync();
  assert.deepEqual(log, ['add before']);
  await client.create(cms('informer-it'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after' } });
  await client.patch({ ...cms('informer-it'), name: 'after' }, 'merge', { data: { x: 'y' } });
  await client.delete({ ...cms('informer-it'), name: 'before' });
  await waitFor(() => log.length === 4, 'events');
  assert.deepEqual(log, ['add before', 'add after', 'update after', 'delete before']);
  assert.equal(inf.lister().namespace('informer-it').get('after')?.data?.x, 'y');
  await inf.stop();
});

test('scheduler-style bind sets spec.nodeName', async () => {
  await client.create({ version: 'v1', resource: 'pods', namespace: 'default' }, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'bind-me' },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  });
  const pod = await client.get({ version: 'v1', resource: 'pods', namespace: 'default', name: 'bind-me' });
  await client.bind('default', 'bind-me', 'node-1', pod.metadata.uid);
  const bound = await client.get({ version: 'v1', resource: 'pods', namespace: 'default', name: 'bind-me' });
  assert.equal(bound.spec.nodeName, 'node-1');
});

test('leader election on a real Lease', async () => {
  const started: string[] = [];
  const le = new LeaderElector({
    client,
    namespace: 'kube-system',
    name: 'it-lock',
    identity: 'me',
    leaseDurationSeconds: 2,
    renewDeadlineMs: 1000,
    retryPeriodMs: 100,
    onStartedLeading: () => started.push('me'),
    log: () => {},
  });
  const run = le.run();
  await waitFor(() => le.isLeader(), 'leadership');
  const lease = await client.get({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system', name: 'it-lock' });
  assert.equal(lease.spec.holderIdentity, 'me');
  assert.match(lease.spec.renewTime, /\.\d{6}Z$/);
  await le.stop();
  await run;
  const released = await client.get({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system', name: 'it-lock' });
  assert.ok(!released.spec.holderIdentity);
  assert.deepEqual(started, ['me']);
});

test('event recorder creates and then patches a real Event', async () => {
  const rec = new EventRecorder(client, { source: { component: 'it' }, log: (m) => assert.fail(m) });
  const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ev-target', namespace: 'default', uid: 'u-1' } };
  rec.event(obj, 'Normal', 'Tested', 'hello');
  rec.event(obj, 'Normal', 'Tested', 'hello');
  await rec.flush();
  const list = await client.list({ version: 'v1', resource: 'events', namespace: 'default' });
  const evs = list.items.filter((e: KObject) => e.involvedObject?.name === 'ev-target');
  assert.equal(evs.length, 1);
  assert.equal(evs[0].count, 2);
  assert.equal(evs[0].reason, 'Tested');
});
