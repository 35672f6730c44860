// Requests over a MessagePort to the API server of this process (what the components worker of
// `mizzen up` uses): the same answers as over the private socket, identity headers included,
// several requests and answers per message, large answers, streams closed by either side.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { ApiClient, type WatchEvent } from './api-client.ts';
import { PortConnector } from './port-link.ts';
import type { KObject } from '../api/types.ts';

let api: TestApiServer;
let connector: PortConnector;
let client: ApiClient;
const cms = { version: 'v1', resource: 'configmaps', namespace: 'default' };

before(async () => {
  api = await startTestApiServer({ name: 'port-link', unixSocket: true });
  const ch = new MessageChannel();
  api.server.acceptPort!(ch.port1);
  connector = new PortConnector(ch.port2);
  client = new ApiClient({ socketPath: api.socketPath, connect: () => connector.connect(), maxSockets: 4 });
});

after(async () => {
  client?.close();
  connector?.close();
  await api?.close();
});

test('create, get, conflicts and errors over the port, watches over the socket', async () => {
  const list = await client.list(cms);
  const events: WatchEvent[] = [];
  const w = client.watch(cms, { resourceVersion: list.metadata.resourceVersion }, (ev) => events.push(ev), () => {});
  const created = await client.create<KObject & { data: Record<string, string> }>(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'over-port' }, data: { a: '1' } });
  assert.ok(created.metadata.uid);
  await assert.rejects(client.create(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'over-port' } }), (e: { code?: number; reason?: string }) => e.code === 409 && e.reason === 'AlreadyExists');
  const updated = await client.update<KObject>({ ...cms, name: 'over-port' }, { ...created, data: { a: '2' } });
  assert.notEqual(updated.metadata.resourceVersion, created.metadata.resourceVersion);
  // The old resourceVersion again: a conflict, as over any transport.
  await assert.rejects(client.update({ ...cms, name: 'over-port' }, { ...created, data: { a: '3' } }), (e: { code?: number; reason?: string }) => e.code === 409 && e.reason === 'Conflict');
  await assert.rejects(client.get({ ...cms, name: 'missing' }), (e: { code?: number }) => e.code === 404);
  const until = Date.now() + 10_000;
  while (events.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(
    events.map((e) => [e.type, e.object.metadata.name]),
    [
      ['ADDED', 'over-port'],
      ['MODIFIED', 'over-port'],
    ],
  );
  w.abort();
  await w.closed;
});

test('identity headers count as on the socket', async () => {
  const nobody = new ApiClient({ socketPath: api.socketPath, connect: () => connector.connect(), headers: { 'X-Remote-User': 'nobody' } });
  try {
    await assert.rejects(nobody.list({ version: 'v1', resource: 'secrets', namespace: 'default' }), (e: { code?: number }) => e.code === 403);
  } finally {
    nobody.close();
  }
});

test('many requests in flight share streams and messages; a large answer arrives whole', async () => {
  const names = Array.from({ length: 60 }, (_, i) => `many-${i}`);
  await Promise.all(names.map((name) => client.create(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: 'x'.repeat(4000) } })));
  const all = await client.list<KObject>(cms);
  for (const n of names) assert.ok(all.items.some((o) => o.metadata.name === n), n);
});

test('a request with Connection: close, and a stream closed under the pool, are followed by new streams', async () => {
  const r = await client.request<KObject>('GET', '/api/v1/namespaces/default/configmaps/over-port', undefined, { Connection: 'close' });
  assert.equal(r.metadata.name, 'over-port');
  await client.get({ ...cms, name: 'over-port' });
  // What the client sees when the server's keep-alive timeout ends an idle connection.
  const before = (connector as unknown as { streams: Map<number, unknown> }).streams.size;
  assert.ok(before >= 1);
  for (const s of [...(connector as unknown as { streams: Map<number, { closedByPeer(): void }> }).streams.values()]) s.closedByPeer();
  const got = await client.get<KObject>({ ...cms, name: 'over-port' });
  assert.equal(got.metadata.name, 'over-port');
});

test('bytes for a stream the server closed are dropped, not served as a new connection', async () => {
  const ch = new MessageChannel();
  const accepted: number[] = [];
  const { acceptPortStreams } = await import('./port-link.ts');
  const server = acceptPortStreams(ch.port1, (s) => {
    accepted.push(1);
    s.on('data', () => s.destroy());
  });
  const c = new PortConnector(ch.port2);
  try {
    const s = c.connect();
    const closed = new Promise((r) => s.once('close', r));
    s.write('first');
    await closed;
    // The same stream's id again (as a write racing the close would arrive): ignored.
    (c as unknown as { send(id: number, d: Uint8Array): void }).send(s.id, Buffer.from('late'));
    const s2 = c.connect();
    const closed2 = new Promise((r) => s2.once('close', r));
    s2.write('second');
    await closed2;
    assert.equal(accepted.length, 2);
  } finally {
    c.close();
    server.close();
  }
});
