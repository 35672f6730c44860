import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from './api-client.ts';
import { FakeApiServer } from './fake-api-server.ts';
import { Informer, SharedInformerFactory, dropManagedFields } from './informer.ts';
import type { KObject } from '../api/types.ts';
import { until as waitFor } from '../testing/poll.ts';

const PODS = 'api/v1/pods';
const podRef = { version: 'v1', resource: 'pods' };
const pod = (ns: string, name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name }, spec: {}, ...extra });

function recorder() {
  const log: string[] = [];
  return {
    log,
    handlers: {
      onAdd: (o: KObject, initial: boolean) => log.push(`add ${o.metadata.name}${initial ? ' (initial)' : ''}`),
      onUpdate: (a: KObject, b: KObject) => log.push(`update ${b.metadata.name} ${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`),
      onDelete: (o: KObject, unknown: boolean) => log.push(`delete ${o.metadata.name}${unknown ? ' (unknown)' : ''}`),
    },
  };
}

async function setup() {
  const server = new FakeApiServer();
  await server.start();
  const client = new ApiClient({ server: server.url });
  return { server, client };
}

test('lists, syncs, then follows watch events into the cache and handlers', async () => {
  const { server, client } = await setup();
  server.put(PODS, pod('a', 'p1'));
  server.put(PODS, pod('b', 'p2', { spec: { nodeName: 'n1' } }));
  const inf = new Informer(client, podRef, {
    indexers: { node: (o) => (o.spec?.nodeName ? [o.spec.nodeName] : []) },
    log: () => {},
  });
  const r = recorder();
  inf.addEventHandler(r.handlers);
  assert.equal(inf.hasSynced(), false);
  inf.start();
  await inf.waitForSync();
  assert.deepEqual(r.log.sort(), ['add p1 (initial)', 'add p2 (initial)']);
  assert.equal(inf.lastSyncResourceVersion(), String(server.currentRV()));
  const listReq = server.requests.find((q) => q.query.get('watch') !== 'true')!;
  assert.equal(listReq.query.get('limit'), '500');

  await waitFor(() => server.watchCount() === 1, 'watch');
  const wq = server.requests.find((q) => q.query.get('watch') === 'true')!.query;
  assert.equal(wq.get('allowWatchBookmarks'), 'true');
  assert.equal(wq.get('resourceVersion'), inf.lastSyncResourceVersion());

  r.log.length = 0;
  const p1Before = server.getObject(PODS, 'a', 'p1').metadata.resourceVersion;
  server.put(PODS, pod('a', 'p3', { spec: { nodeName: 'n1' } }));
  const p1 = server.put(PODS, pod('a', 'p1', { spec: { nodeName: 'n2' } }));
  server.remove(PODS, 'b', 'p2');
  await waitFor(() => r.log.length === 3, 'events');
  assert.deepEqual(r.log, ['add p3', `update p1 ${p1Before}->${p1.metadata.resourceVersion}`, 'delete p2']);
  assert.deepEqual(inf.indexer.byIndex('node', 'n1').map((o) => o.metadata.name), ['p3']);
  assert.equal(inf.lister().namespace('a').list().length, 2);
  assert.equal(inf.lister().namespace('b').get('p2'), undefined);

  server.bookmark(PODS);
  await waitFor(() => inf.lastSyncResourceVersion() === String(server.currentRV()), 'bookmark');

  await inf.stop();
  await waitFor(() => server.watchCount() === 0, 'watch closed on server');
  client.close();
  await server.stop();
});

test('a dropped watch resumes from the last resourceVersion without replaying', async () => {
  const { server, client } = await setup();
  server.put(PODS, pod('a', 'p1'));
  const inf = new Informer(client, podRef, { backoffInitialMs: 5, log: () => {} });
  const r = recorder();
  inf.addEventHandler(r.handlers);
  inf.start();
  await inf.waitForSync();
  await waitFor(() => server.watchCount() === 1, 'watch');
  server.put(PODS, pod('a', 'p2'));
  await waitFor(() => r.log.length === 2, 'p2');
  const lastRV = inf.lastSyncResourceVersion();
  server.dropWatches();
  server.put(PODS, pod('a', 'p3')); // happens while disconnected
  await waitFor(() => r.log.length === 3, 'p3 after reconnect');
  assert.deepEqual(r.log, ['add p1 (initial)', 'add p2', 'add p3']);
  const watches = server.requests.filter((q) => q.query.get('watch') === 'true');
  assert.equal(watches.at(-1)!.query.get('resourceVersion'), lastRV);
  assert.equal(server.requests.filter((q) => q.query.get('watch') !== 'true').length, 1, 'no re-list');
  await inf.stop();
  client.close();
  await server.stop();
});

test('410 Expired on re-watch: re-lists and emits the diff (add, update, delete-unknown)', async () => {
  const { server, client } = await setup();
  server.put(PODS, pod('a', 'keep'));
  server.put(PODS, pod('a', 'change'));
  server.put(PODS, pod('a', 'gone'));
  const inf = new Informer(client, podRef, { backoffInitialMs: 5, log: () => {} });
  const r = recorder();
  inf.addEventHandler(r.handlers);
  inf.start();
  await inf.waitForSync();
  await waitFor(() => server.watchCount() === 1, 'watch');
  const before = server.getObject(PODS, 'a', 'change').metadata.resourceVersion;
  server.dropWatches();
  // Changes the informer misses, then history is compacted away.
  const changed = server.put(PODS, pod('a', 'change', { spec: { nodeName: 'x' } }));
  server.remove(PODS, 'a', 'gone');
  server.put(PODS, pod('a', 'new'));
  server.compact();
  r.log.length = 0;
  await waitFor(() => r.log.length === 3, 'diff events');
  assert.deepEqual(r.log.sort(), ['add new', `update change ${before}->${changed.metadata.resourceVersion}`, 'delete gone (unknown)'].sort());
  assert.deepEqual(inf.indexer.listKeys().sort(), ['a/change', 'a/keep', 'a/new']);
  await inf.stop();
  client.close();
  await server.stop();
});

test('survives a server restart: backs off, reconnects, relists when its version is gone', async () => {
  const { server, client } = await setup();
  const port = server.port();
  server.put(PODS, pod('a', 'p1'));
  server.put(PODS, pod('a', 'p2'));
  const inf = new Informer(client, podRef, { backoffInitialMs: 5, backoffMaxMs: 50, log: () => {} });
  const r = recorder();
  inf.addEventHandler(r.handlers);
  inf.start();
  await inf.waitForSync();
  await waitFor(() => server.watchCount() === 1, 'watch');
  await server.stop();

  const server2 = new FakeApiServer({ startRV: 1000 });
  server2.put(PODS, pod('a', 'p1'));
  server2.put(PODS, pod('a', 'p9'));
  server2.compact();
  await new Promise((res) => setTimeout(res, 20)); // let a reconnect attempt fail first
  await server2.start(port);
  r.log.length = 0;
  await waitFor(() => inf.indexer.has('a/p9') && !inf.indexer.has('a/p2'), 'relist after restart');
  await waitFor(() => server2.watchCount() === 1, 'watch on the new server');
  assert.ok(r.log.includes('add p9'));
  assert.ok(r.log.includes('delete p2 (unknown)'));
  server2.put(PODS, pod('a', 'p10'));
  await waitFor(() => r.log.includes('add p10'), 'live event after restart');
  await inf.stop();
  client.close();
  await server2.stop();
});

test('late handlers get replayed adds; resync calls onUpdate with the same object', async () => {
  const { server, client } = await setup();
  server.put(PODS, pod('a', 'p1'));
  const inf = new Informer(client, podRef, { log: () => {} });
  inf.start();
  await inf.waitForSync();
  const r = recorder();
  const reg = inf.addEventHandler(r.handlers);
  assert.equal(reg.hasSynced(), true);
  assert.deepEqual(r.log, ['add p1 (initial)']);

  const resynced: string[] = [];
  const reg2 = inf.addEventHandler({ onUpdate: (a, b) => a === b && resynced.push(b.metadata.name!) }, 10);
  await waitFor(() => resynced.length >= 2, 'resync');
  reg2.remove();
  reg.remove();
  await inf.stop();
  const never = new Informer(client, podRef);
  await never.stop();
  await assert.rejects(never.waitForSync(), /stopped before it synced/);
  client.close();
  await server.stop();
});

test('a throwing handler does not break the informer or other handlers', async () => {
  const { server, client } = await setup();
  const inf = new Informer(client, podRef, { log: () => {} });
  inf.addEventHandler({ onAdd: () => { throw new Error('bad handler'); } });
  const r = recorder();
  inf.addEventHandler(r.handlers);
  inf.start();
  await inf.waitForSync();
  await waitFor(() => server.watchCount() === 1, 'watch');
  server.put(PODS, pod('a', 'p1'));
  await waitFor(() => r.log.length === 1, 'add');
  await inf.stop();
  client.close();
  await server.stop();
});

test('shared factory: one informer per resource, shared by callers', async () => {
  const { server, client } = await setup();
  server.put('api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
  const f = new SharedInformerFactory(client, { log: () => {} });
  const a = f.informerFor({ version: 'v1', resource: 'pods' });
  const b = f.informerFor({ version: 'v1', resource: 'pods', indexers: { node: (o) => [o.spec?.nodeName ?? ''] } });
  assert.equal(a, b);
  assert.ok(a.indexer.hasIndex('node'));
  const nodes = f.lister({ version: 'v1', resource: 'nodes' });
  f.start();
  await f.waitForCacheSync();
  assert.equal(nodes.get('n1')?.metadata.name, 'n1');
  const late = f.informerFor({ group: 'apps', version: 'v1', resource: 'deployments' });
  await late.waitForSync();
  await f.stop();
  client.close();
  await server.stop();
});

test('scopes of a shared factory: one watch for all; stopping a scope removes only its handlers', async () => {
  const { server, client } = await setup();
  server.put(PODS, pod('ns', 'a'));
  const f = new SharedInformerFactory(client, { log: () => {} });
  const cm = f.scope();
  const sched = f.scope();
  const r1 = recorder();
  const r2 = recorder();
  cm.informerFor<KObject>(podRef).addEventHandler(r1.handlers);
  sched.informerFor<KObject>(podRef).addEventHandler(r2.handlers);
  cm.start();
  sched.start();
  await Promise.all([cm.waitForCacheSync(), sched.waitForCacheSync()]);
  await waitFor(() => server.watchCount() === 1, 'the one watch');
  await waitFor(() => r1.log.length === 1 && r2.log.length === 1, 'initial adds');

  // One component stops (a controller manager losing its lease): the other goes on being told.
  await cm.stop();
  server.put(PODS, pod('ns', 'b'));
  await waitFor(() => r2.log.includes('add b'), 'add b for the remaining scope');
  assert.deepEqual(r1.log, ['add a (initial)']);
  assert.equal(sched.informerFor<KObject>(podRef).indexer.list().length, 2);

  // A new scope (the next term) sees everything so far as replayed adds.
  const next = f.scope();
  const r3 = recorder();
  next.informerFor<KObject>(podRef).addEventHandler(r3.handlers);
  await next.waitForCacheSync();
  assert.deepEqual(r3.log.sort(), ['add a (initial)', 'add b (initial)']);
  assert.equal(server.watchCount(), 1);
  await f.stop();
  client.close();
  await server.stop();
});

test('a transform (dropManagedFields) applies to listed and watched objects before cache and handlers', async () => {
  const { server, client } = await setup();
  const mf = [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }];
  server.put(PODS, pod('a', 'p1', { metadata: { namespace: 'a', name: 'p1', managedFields: mf } }));
  const inf = new Informer(client, podRef, { transform: dropManagedFields, log: () => {} });
  const seen: KObject[] = [];
  inf.addEventHandler({ onAdd: (o) => seen.push(o), onUpdate: (_a, b) => seen.push(b) });
  inf.start();
  try {
    await inf.waitForSync();
    await waitFor(() => server.watchCount() === 1, 'watch');
    server.put(PODS, pod('a', 'p2', { metadata: { namespace: 'a', name: 'p2', managedFields: mf } }));
    await waitFor(() => seen.length === 2, 'the watched pod');
    for (const o of [...seen, ...inf.indexer.list()]) {
      assert.equal(o.metadata.managedFields, undefined, o.metadata.name);
      assert.ok(o.metadata.resourceVersion);
    }
  } finally {
    await inf.stop();
    client.close();
    await server.stop();
  }
});
