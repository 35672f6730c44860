import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient, ApiError, isConflict, isNotFound, isResourceExpired, microTime, resourcePath, rfc3339, type WatchEvent } from './api-client.ts';
import { FakeApiServer } from './fake-api-server.ts';

const pods = { version: 'v1', resource: 'pods', namespace: 'default' };
let server: FakeApiServer;
let client: ApiClient;

before(async () => {
  server = new FakeApiServer();
  await server.start();
  client = new ApiClient({ server: server.url, token: 'tok', maxSockets: 4 });
});
after(async () => {
  client.close();
  await server.stop();
});

test('resource paths for core and named groups', () => {
  assert.equal(resourcePath({ version: 'v1', resource: 'nodes' }), '/api/v1/nodes');
  assert.equal(resourcePath({ version: 'v1', resource: 'pods', namespace: 'ns', name: 'p', subresource: 'status' }), '/api/v1/namespaces/ns/pods/p/status');
  assert.equal(
    resourcePath({ group: 'apps', version: 'v1', resource: 'deployments', namespace: 'ns', name: 'd' }),
    '/apis/apps/v1/namespaces/ns/deployments/d',
  );
});

test('time formats', () => {
  const d = new Date('2024-05-06T07:08:09.123Z');
  assert.equal(microTime(d), '2024-05-06T07:08:09.123000Z');
  assert.equal(rfc3339(d), '2024-05-06T07:08:09Z');
});

test('create/get/list/update/patch/delete round trip with auth and query params', async () => {
  const created = await client.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1' }, spec: {} }, { dryRun: false, fieldManager: 'me' });
  assert.equal(created.metadata.name, 'p1');
  const req = server.requests.at(-1)!;
  assert.equal(req.method, 'POST');
  assert.equal(req.path, '/api/v1/namespaces/default/pods');
  assert.equal(req.headers.authorization, 'Bearer tok');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.query.get('fieldManager'), 'me');
  assert.equal(req.query.has('dryRun'), false);

  const got = await client.get({ ...pods, name: 'p1' });
  assert.equal(got.metadata.resourceVersion, created.metadata.resourceVersion);

  const list = await client.list(pods, { labelSelector: 'a=b', fieldSelector: 'spec.nodeName=', limit: 10, resourceVersion: '0' });
  assert.equal(list.items.length, 1);
  const lq = server.requests.at(-1)!.query;
  assert.equal(lq.get('labelSelector'), 'a=b');
  assert.equal(lq.get('limit'), '10');
  assert.equal(lq.get('resourceVersion'), '0');

  const updated = await client.update({ ...pods, name: 'p1' }, { ...got, spec: { nodeName: 'n' } });
  assert.equal(updated.spec.nodeName, 'n');
  await assert.rejects(client.update({ ...pods, name: 'p1' }, got), (e: unknown) => isConflict(e));

  await client.updateStatus({ ...pods, name: 'p1' }, { ...updated, status: { phase: 'Running' } });
  assert.equal(server.requests.at(-1)!.path, '/api/v1/namespaces/default/pods/p1/status');

  await client.patch({ ...pods, name: 'p1' }, 'merge', { metadata: { labels: { x: 'y' } } }, { dryRun: true });
  const pr = server.requests.at(-1)!;
  assert.equal(pr.headers['content-type'], 'application/merge-patch+json');
  assert.equal(pr.query.get('dryRun'), 'All');
  await client.patch({ ...pods, name: 'p1' }, 'strategic', {});
  assert.equal(server.requests.at(-1)!.headers['content-type'], 'application/strategic-merge-patch+json');
  await client.patch({ ...pods, name: 'p1' }, 'json', []);
  assert.equal(server.requests.at(-1)!.headers['content-type'], 'application/json-patch+json');

  await client.delete({ ...pods, name: 'p1' }, { propagationPolicy: 'Foreground', gracePeriodSeconds: 0 });
  const dr = server.requests.at(-1)!;
  assert.deepEqual(dr.body, { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground', gracePeriodSeconds: 0 });
  await assert.rejects(client.get({ ...pods, name: 'p1' }), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, 404);
    assert.equal(e.reason, 'NotFound');
    assert.equal(e.message, 'pods "p1" not found');
    return isNotFound(e);
  });
});

test('bind posts a v1 Binding to the binding subresource', async () => {
  server.put('api/v1/pods', { metadata: { name: 'b1', namespace: 'default' }, spec: {} });
  await client.bind('default', 'b1', 'node-7', 'uid-b1');
  const r = server.requests.at(-1)!;
  assert.equal(r.path, '/api/v1/namespaces/default/pods/b1/binding');
  assert.deepEqual(r.body, {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name: 'b1', namespace: 'default', uid: 'uid-b1' },
    target: { apiVersion: 'v1', kind: 'Node', name: 'node-7' },
  });
  assert.equal(server.getObject('api/v1/pods', 'default', 'b1').spec.nodeName, 'node-7');
});

test('non-Status error bodies become a synthetic Status; 429 with Retry-After is retried', async () => {
  let calls = 0;
  const raw = http.createServer((req, res) => {
    calls++;
    if (req.url === '/plain') {
      res.writeHead(500);
      res.end('boom');
    } else if (calls === 2) {
      res.writeHead(429, { 'Retry-After': '0', 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 429, reason: 'TooManyRequests', message: 'slow down' }));
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    }
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  const c = new ApiClient({ server: `http://127.0.0.1:${(raw.address() as AddressInfo).port}` });
  try {
    await assert.rejects(c.request('GET', '/plain'), (e: unknown) => e instanceof ApiError && e.code === 500 && e.reason === 'InternalError' && e.message === 'boom');
    assert.deepEqual(await c.request('GET', '/retry'), { ok: true });
    assert.equal(calls, 3);
  } finally {
    c.close();
    raw.close();
  }
});

test('watch streams events, reports 410 as an ERROR event, and abort closes cleanly', async () => {
  const rv = server.currentRV();
  const events: WatchEvent[] = [];
  let closedWith: Error | undefined | 'open' = 'open';
  const h = client.watch({ version: 'v1', resource: 'configmaps' }, { resourceVersion: String(rv), allowWatchBookmarks: true }, (e) => events.push(e), (err) => (closedWith = err));
  // Wait for the watch to register before writing.
  while (server.watchCount() === 0) await new Promise((r) => setTimeout(r, 2));
  server.put('api/v1/configmaps', { metadata: { name: 'c1', namespace: 'x' } });
  server.remove('api/v1/configmaps', 'x', 'c1');
  while (events.length < 2) await new Promise((r) => setTimeout(r, 2));
  assert.deepEqual(events.map((e) => e.type), ['ADDED', 'DELETED']);
  const wq = server.requests.at(-1)!.query;
  assert.equal(wq.get('watch'), 'true');
  assert.equal(wq.get('allowWatchBookmarks'), 'true');
  h.abort();
  await h.closed;
  assert.equal(closedWith, undefined);

  server.compact();
  const errs: WatchEvent[] = [];
  const h2 = client.watch({ version: 'v1', resource: 'configmaps' }, { resourceVersion: String(rv) }, (e) => errs.push(e), () => {});
  await h2.closed;
  assert.equal(errs[0].type, 'ERROR');
  assert.ok(isResourceExpired(new ApiError(errs[0].object as any)));
});

test('watch on a non-2xx answer closes with the ApiError', async () => {
  server.failNext.push({ match: (r) => r.query.get('watch') === 'true', code: 403, reason: 'Forbidden', message: 'nope' });
  let err: Error | undefined;
  const h = client.watch(pods, {}, () => {}, (e) => (err = e));
  await h.closed;
  assert.ok(err instanceof ApiError);
  assert.equal((err as ApiError).code, 403);
});
