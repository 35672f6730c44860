// The API server's private Unix socket: plain HTTP, admin identity, 0600, removed at close; the
// HTTPS port keeps working beside it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type RunningApiServer } from './server.ts';
import type { Pki } from './pki.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { socketUser } from './authn.ts';
import { ApiClient, type WatchEvent } from '../client/api-client.ts';
import type { KObject } from '../api/types.ts';

let api: TestApiServer;
let pki: Pki;
let server: RunningApiServer;
let sock: string;
let client: ApiClient;

const cms = { version: 'v1', resource: 'configmaps', namespace: 'default' };

before(async () => {
  api = await startTestApiServer({
    name: 'sock',
    unixSocket: true,
    beforeStart: ({ socketPath }) => {
      // A socket file left behind by a server that died: replaced, not an error.
      // (A process that exits without closing its server leaves the file, as a killed one would.)
      const r = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.exit(0))`]);
      assert.equal(r.status, 0);
      assert.ok(existsSync(socketPath));
    },
  });
  ({ pki, server, socketPath: sock } = api);
  client = new ApiClient({ socketPath: sock, maxSockets: 4 });
});

after(async () => {
  client?.close();
  await api?.close();
});

test('the socket identity is the admin certificate identity', () => {
  assert.deepEqual(socketUser(), { name: 'admin', groups: ['system:masters', 'system:authenticated'] });
});

test('the socket is private to the user and reported by the server', () => {
  assert.equal(server.socketPath, sock);
  const st = statSync(sock);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o600);
});

test('create, get, list and watch a configmap over the socket without credentials', async () => {
  const events: WatchEvent[] = [];
  const list = await client.list(cms);
  let closed: Error | undefined | null = null;
  const w = client.watch(cms, { resourceVersion: list.metadata.resourceVersion }, (ev) => events.push(ev), (err) => (closed = err));

  const created = await client.create<KObject>(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'over-sock' }, data: { a: '1' } });
  assert.ok(created.metadata.uid);
  const got = await client.get<KObject & { data: Record<string, string> }>({ ...cms, name: 'over-sock' });
  assert.equal(got.data.a, '1');
  await client.patch({ ...cms, name: 'over-sock' }, 'merge', { data: { a: '2' } });

  const until = Date.now() + 10_000;
  while (events.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(
    events.map((e) => [e.type, e.object.metadata.name]),
    [
      ['ADDED', 'over-sock'],
      ['MODIFIED', 'over-sock'],
    ],
  );
  w.abort();
  await w.closed;
  assert.equal(closed, undefined);
});

test('discovery and errors work over the socket', async () => {
  const v = await client.request<{ resources: { name: string }[] }>('GET', '/api/v1');
  assert.ok(v.resources.some((r) => r.name === 'configmaps'));
  await assert.rejects(client.get({ ...cms, name: 'missing' }), (e: { code?: number; reason?: string }) => e.code === 404 && e.reason === 'NotFound');
});

test('HTTPS still serves beside the socket; a client without credentials is anonymous and refused', async () => {
  const admin = new ApiClient({ server: server.url, ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem });
  try {
    const got = await admin.get<KObject>({ ...cms, name: 'over-sock' });
    assert.equal(got.metadata.name, 'over-sock');
  } finally {
    admin.close();
  }
  const code = await new Promise<number>((resolve, reject) => {
    https
      .get(`${server.url}/api/v1/namespaces/default/configmaps`, { ca: pki.caCertPem }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
  // system:anonymous may read health and version only (upstream's system:public-info-viewer).
  assert.equal(code, 403);
});

test('close removes the socket; a non-socket file at the path is refused', async () => {
  const d = await mkdtemp(join(tmpdir(), 'mizzen-sock2-'));
  try {
    const tls = { cert: pki.serverCertPem, key: pki.serverKeyPem, clientCA: pki.caCertPem };
    const p = join(d, 'apiserver.sock');
    const s = await startApiServer({ dataDir: d, port: 0, bindAddress: '127.0.0.1', tls, unixSocket: p });
    assert.ok(existsSync(p));
    await s.close();
    assert.equal(existsSync(p), false);

    writeFileSync(p, 'not a socket');
    await assert.rejects(startApiServer({ dataDir: d, port: 0, bindAddress: '127.0.0.1', tls, unixSocket: p }), /is not a socket/);
    assert.ok(existsSync(p));
    // The failed start released the data dir: a second try with the path cleared succeeds.
    await rm(p);
    const again = await startApiServer({ dataDir: d, port: 0, bindAddress: '127.0.0.1', tls, unixSocket: p });
    await again.close();
  } finally {
    await rm(d, { recursive: true, force: true });
  }
});
