// Watches over a MessagePort to the API server of this process (what the components of `mizzen up`
// do): the same request to the same handler as over the private socket, so the same events,
// resourceVersions, bookmarks, 410 Gone, timeouts and errors as Status; a watch ends on the server
// when its client stops it or when the client's thread dies; a stream's unread bytes count as a
// socket's unsent ones.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, Worker } from 'node:worker_threads';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { ApiClient, ApiError, isResourceExpired, type WatchEvent } from './api-client.ts';
import { ACK_BYTES, PortConnector, acceptPortStreams } from './port-link.ts';
import { setBookmarkInterval, bookmarkIntervalMs } from '../apiserver/watch.ts';
import { poll } from '../testing/poll.ts';
import { apiserverLongrunningRequests } from '../metrics/prometheus.ts';
import type { KObject } from '../api/types.ts';
import type { Status } from '../machinery/errors.ts';

let api: TestApiServer;
let connector: PortConnector;
let overPort: ApiClient;
let overSocket: ApiClient;
const cms = { version: 'v1', resource: 'configmaps', namespace: 'default' };
const savedBookmarkInterval = bookmarkIntervalMs;
/** Watches of configmaps the server is serving (its apiserver_longrunning_requests gauge). */
const serverWatchers = async () => (await apiserverLongrunningRequests.get()).values.filter((v) => v.labels.verb === 'WATCH' && v.labels.resource === 'configmaps').reduce((n, v) => n + v.value, 0);

before(async () => {
  // A small window: a test can make a resourceVersion too old.
  api = await startTestApiServer({ name: 'port-watch', unixSocket: true, watchCacheWindow: 20 });
  const ch = new MessageChannel();
  api.server.acceptPort!(ch.port1);
  connector = new PortConnector(ch.port2);
  overPort = new ApiClient({ socketPath: api.socketPath, connect: () => connector.connect(), maxSockets: 4 });
  overSocket = new ApiClient({ socketPath: api.socketPath, maxSockets: 4 });
});

after(async () => {
  setBookmarkInterval(savedBookmarkInterval);
  overPort?.close();
  overSocket?.close();
  connector?.close();
  await api?.close();
});

/** Watch until `until` holds of the events (or 10 s), then stop; the events and how it closed. */
async function collect(client: ApiClient, opts: Parameters<ApiClient['watch']>[1], until: (evs: WatchEvent[]) => boolean, ref: Parameters<ApiClient['watch']>[0] = cms) {
  const events: WatchEvent[] = [];
  let closedWith: { err?: Error } | undefined;
  const h = client.watch(ref, opts, (ev) => events.push(ev), (err) => (closedWith = { err }));
  await poll(() => until(events) || closedWith !== undefined, { what: 'the watch events', timeoutMs: 10_000, intervalMs: 5 });
  if (!closedWith) h.abort();
  await h.closed;
  return { events, closedWith };
}

const cm = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { v: name } });

test('the events of a watch and of a resumed watch are those of the socket', async () => {
  const rv = (await overPort.list(cms)).metadata.resourceVersion;
  const a = await overPort.create<KObject>(cms, cm('w-a', { pick: 'yes' }));
  await overPort.create(cms, cm('w-b', { pick: 'no' }));
  const a2 = await overPort.update<KObject>({ ...cms, name: 'w-a' }, { ...a, data: { v: '2' } });
  await overPort.delete({ ...cms, name: 'w-a' });
  const seen = (evs: WatchEvent[]) => evs.map((e) => [e.type, e.object.metadata.name, e.object.metadata.resourceVersion]);
  const want = (n: number) => (evs: WatchEvent[]) => evs.length >= n;
  const viaPort = await collect(overPort, { resourceVersion: rv }, want(4));
  const viaSocket = await collect(overSocket, { resourceVersion: rv }, want(4));
  assert.deepEqual(seen(viaPort.events), seen(viaSocket.events));
  assert.deepEqual(viaPort.events.map((e) => e.type), ['ADDED', 'ADDED', 'MODIFIED', 'DELETED']);
  // From the update's resourceVersion: only what came after it.
  const resumed = await collect(overPort, { resourceVersion: a2.metadata.resourceVersion }, want(1));
  assert.deepEqual(resumed.events.map((e) => [e.type, e.object.metadata.name]), [['DELETED', 'w-a']]);
  // A label selector filters on the server as on the socket.
  const picked = await collect(overPort, { resourceVersion: rv, labelSelector: 'pick=yes' }, want(3));
  assert.deepEqual(picked.events.map((e) => [e.type, e.object.metadata.name]), [['ADDED', 'w-a'], ['MODIFIED', 'w-a'], ['DELETED', 'w-a']]);
});

test('bookmarks come when asked for; timeoutSeconds ends the watch without an error', async () => {
  setBookmarkInterval(100);
  try {
    const rv = (await overPort.list(cms)).metadata.resourceVersion;
    const r = await collect(overPort, { resourceVersion: rv, allowWatchBookmarks: true }, (evs) => evs.some((e) => e.type === 'BOOKMARK'));
    const b = r.events.find((e) => e.type === 'BOOKMARK')!;
    assert.equal(b.object.kind, 'ConfigMap');
    assert.ok(Number(b.object.metadata.resourceVersion) >= Number(rv));
  } finally {
    setBookmarkInterval(savedBookmarkInterval);
  }
  const t0 = Date.now();
  const timed = await collect(overPort, { timeoutSeconds: 1 }, () => false);
  assert.deepEqual(timed.closedWith, { err: undefined });
  assert.ok(Date.now() - t0 < 5000);
});

test('a resourceVersion too old is a 410 Expired ERROR event; bad input and no permission are Status errors', async () => {
  const old = (await overPort.create<KObject>(cms, cm('old-0'))).metadata.resourceVersion;
  for (let i = 1; i <= 30; i++) await overPort.create(cms, cm(`old-${i}`));
  const r = await collect(overPort, { resourceVersion: old }, (evs) => evs.length > 0);
  assert.equal(r.events[0]!.type, 'ERROR');
  const st = r.events[0]!.object as unknown as Status;
  assert.equal(st.code, 410);
  assert.ok(isResourceExpired(new ApiError(st)));
  assert.deepEqual(r.closedWith, { err: undefined });

  const bad = await collect(overPort, { resourceVersion: 'abc' }, () => false);
  assert.ok(bad.closedWith?.err instanceof ApiError);
  assert.equal((bad.closedWith!.err as ApiError).code, 400);
  assert.match(bad.closedWith!.err!.message, /resourceVersion/);

  const nobody = overPort.withIdentity({ headers: { 'X-Remote-User': 'nobody' } });
  const denied = await collect(nobody, {}, () => false, { version: 'v1', resource: 'secrets', namespace: 'default' });
  assert.equal((denied.closedWith!.err as ApiError).code, 403);
  assert.equal((denied.closedWith!.err as ApiError).reason, 'Forbidden');
});

test('a stopped watch ends on the server; so do the watches of a thread that dies', async () => {
  const base = await serverWatchers();
  const h = overPort.watch(cms, {}, () => {}, () => {});
  await poll(() => serverWatchers(), { what: 'the watch on the server', done: (n) => n === base + 1, timeoutMs: 10_000, intervalMs: 10 });
  h.abort();
  await h.closed;
  await poll(() => serverWatchers(), { what: 'the watch gone from the server', done: (n) => n === base, timeoutMs: 10_000, intervalMs: 10 });

  // A thread with three watches over its own port, terminated without closing them.
  const ch = new MessageChannel();
  api.server.acceptPort!(ch.port1);
  const w = new Worker(
    `import { register } from 'tsx/esm/api'; register();
     const { workerData } = await import('node:worker_threads');
     const { ApiClient } = await import(${JSON.stringify(new URL('./api-client.ts', import.meta.url).href)});
     const { PortConnector } = await import(${JSON.stringify(new URL('./port-link.ts', import.meta.url).href)});
     const c = new PortConnector(workerData.port);
     const client = new ApiClient({ socketPath: workerData.socketPath, connect: () => c.connect() });
     for (let i = 0; i < 3; i++) client.watch({ version: 'v1', resource: 'configmaps', namespace: 'default' }, {}, () => {}, () => {});`,
    { eval: true, workerData: { port: ch.port2, socketPath: api.socketPath }, transferList: [ch.port2] },
  );
  await poll(() => serverWatchers(), { what: "the thread's watches on the server", done: (n) => n === base + 3, timeoutMs: 20_000, intervalMs: 20 });
  await w.terminate();
  await poll(() => serverWatchers(), { what: "the dead thread's watches gone from the server", done: (n) => n === base, timeoutMs: 10_000, intervalMs: 20 });
});

test("a stream's unread bytes count as buffered until the client says it read them", async () => {
  const ch = new MessageChannel();
  let server!: import('node:stream').Duplex;
  const link = acceptPortStreams(ch.port1, (s) => (server = s));
  const c = new PortConnector(ch.port2);
  try {
    const s = c.connect();
    let read = 0;
    s.on('data', (d: Buffer) => (read += d.length));
    s.write('hello');
    await poll(() => server, { what: 'the stream on the server', timeoutMs: 5000, intervalMs: 5 });
    const big = Buffer.alloc(ACK_BYTES * 3, 1);
    server.write(big);
    // Sent, not yet read: as a socket's buffer holding it.
    assert.ok(server.writableLength >= big.length, `writableLength ${server.writableLength}`);
    await poll(() => read, { what: 'the bytes read', done: (n) => n === big.length, timeoutMs: 5000, intervalMs: 5 });
    await poll(() => server.writableLength, { what: 'the acknowledgement', done: (n) => n < ACK_BYTES, timeoutMs: 5000, intervalMs: 5 });
  } finally {
    c.close();
    link.close();
  }
  // A client that never reads (its thread stuck): the server sees it all buffered.
  const ch2 = new MessageChannel();
  let server2!: import('node:stream').Duplex;
  const link2 = acceptPortStreams(ch2.port1, (s) => (server2 = s));
  try {
    ch2.port2.postMessage({ ids: [1], lengths: [5], bytes: new Uint8Array(Buffer.from('hello')) });
    await poll(() => server2, { what: 'the stream on the server', timeoutMs: 5000, intervalMs: 5 });
    server2.write(Buffer.alloc(ACK_BYTES * 2));
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(server2.writableLength >= ACK_BYTES * 2);
  } finally {
    link2.close();
    ch2.port2.close();
  }
});
