// ApiClient over a Unix domain socket: plain HTTP, pooled keep-alive connections, watches.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, ApiError, type WatchEvent } from './api-client.ts';

let dir: string;
let sock: string;
let server: http.Server;
const seen: { method: string; url: string; host?: string; conn: number }[] = [];
let connections = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mizzen-client-sock-'));
  sock = join(dir, 'api.sock');
  const ids = new WeakMap<object, number>();
  server = http.createServer({ keepAlive: true }, (req, res) => {
    if (!ids.has(req.socket)) ids.set(req.socket, ++connections);
    seen.push({ method: req.method!, url: req.url!, host: req.headers.host, conn: ids.get(req.socket)! });
    if (req.url!.includes('watch=true')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n');
      res.end('{"type":"DELETED","object":{"metadata":{"name":"a"}}}\n');
      return;
    }
    if (req.url!.endsWith('/missing')) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: 'configmaps "missing" not found' }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ metadata: { name: req.url!.split('/').pop() } }));
  });
  await new Promise<void>((r) => server.listen(sock, r));
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('needs a server URL or a socket path', () => {
  assert.throws(() => new ApiClient({}), /server URL or a socket path/);
});

test('requests go over the socket as plain HTTP on one kept-alive connection', async () => {
  const c = new ApiClient({ socketPath: sock, maxSockets: 1 });
  try {
    const before = seen.length;
    for (const name of ['x', 'y', 'z']) {
      const got = await c.get({ version: 'v1', resource: 'configmaps', namespace: 'default', name });
      assert.equal(got.metadata.name, name);
    }
    const mine = seen.slice(before);
    assert.deepEqual(mine.map((r) => r.url), ['/api/v1/namespaces/default/configmaps/x', '/api/v1/namespaces/default/configmaps/y', '/api/v1/namespaces/default/configmaps/z']);
    assert.ok(mine.every((r) => r.host === 'localhost'));
    assert.equal(new Set(mine.map((r) => r.conn)).size, 1);
    await assert.rejects(c.get({ version: 'v1', resource: 'configmaps', namespace: 'default', name: 'missing' }), (e: unknown) => e instanceof ApiError && e.reason === 'NotFound');
  } finally {
    c.close();
  }
});

test('an https server URL with a socket path still speaks plain HTTP to the socket', async () => {
  const c = new ApiClient({ server: 'https://127.0.0.1:1', socketPath: sock });
  try {
    const got = await c.get({ version: 'v1', resource: 'nodes', name: 'n1' });
    assert.equal(got.metadata.name, 'n1');
    assert.equal(seen.at(-1)!.host, '127.0.0.1');
  } finally {
    c.close();
  }
});

test('watch streams events over the socket', async () => {
  const c = new ApiClient({ socketPath: sock });
  try {
    const events: WatchEvent[] = [];
    let closeErr: Error | undefined | null = null;
    const w = c.watch({ version: 'v1', resource: 'configmaps' }, { resourceVersion: '1' }, (e) => events.push(e), (e) => (closeErr = e));
    await w.closed;
    assert.equal(closeErr, undefined);
    assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED a', 'DELETED a']);
    assert.match(seen.at(-1)!.url, /^\/api\/v1\/configmaps\?resourceVersion=1&watch=true$/);
  } finally {
    c.close();
  }
});
