// A paged list whose continue token has outlived the watch cache's window: 410 Expired, with (as
// upstream) a token in the Status that goes on from the same key at the current revision, so a
// client walking a long list (the web console's 150,000 pods on a busy machine) need not start over.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { ApiClient } from '../client/api-client.ts';

let api: TestApiServer;
let client: ApiClient;
const ns = 'expired-continue';
const cms = { version: 'v1', resource: 'configmaps', namespace: ns };

before(async () => {
  api = await startTestApiServer({ name: 'list-expired', unixSocket: true, watchCacheWindow: 5 });
  client = new ApiClient({ socketPath: api.socketPath, maxSockets: 4 });
  await client.create({ version: 'v1', resource: 'namespaces' }, { metadata: { name: ns } });
  for (let i = 0; i < 10; i++) await client.create(cms, { metadata: { name: `cm-${i}` }, data: { v: '0' } });
});

after(async () => {
  client?.close();
  await api?.close();
});

function get(path: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: api.socketPath, path, headers: { Accept: 'application/json' } }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(b) }));
      })
      .on('error', reject);
  });
}

test('a too old continue token gets 410 with a token to go on from the same key at the current revision', async () => {
  const base = `/api/v1/namespaces/${ns}/configmaps`;
  const first = await get(`${base}?limit=4`);
  assert.deepEqual(first.body.items.map((o: any) => o.metadata.name), ['cm-0', 'cm-1', 'cm-2', 'cm-3']);
  // More changes than the window keeps: one already listed, one ahead, one new, one deleted ahead.
  for (let i = 0; i < 3; i++) await client.patch({ ...cms, name: 'cm-0' }, 'merge', { data: { v: String(i + 1) } });
  await client.patch({ ...cms, name: 'cm-5' }, 'merge', { data: { v: 'new' } });
  await client.create(cms, { metadata: { name: 'cm-9a' } });
  await client.delete({ ...cms, name: 'cm-7' });
  await client.patch({ ...cms, name: 'cm-1' }, 'merge', { data: { v: 'x' } });
  await client.patch({ ...cms, name: 'cm-2' }, 'merge', { data: { v: 'x' } });

  const expired = await get(`${base}?limit=4&continue=${first.body.metadata.continue}`);
  assert.equal(expired.status, 410);
  assert.equal(expired.body.kind, 'Status');
  assert.equal(expired.body.reason, 'Expired');
  assert.match(expired.body.message, /continue token in this response/);
  const goOn = expired.body.metadata.continue;
  assert.ok(goOn, 'the Status carries a continue token');

  // The rest, from after cm-3, as it is now.
  const rest = await get(`${base}?limit=4&continue=${goOn}`);
  assert.equal(rest.status, 200);
  assert.deepEqual(rest.body.items.map((o: any) => o.metadata.name), ['cm-4', 'cm-5', 'cm-6', 'cm-8']);
  assert.equal(rest.body.items[1].data.v, 'new');
  const now = Number(rest.body.metadata.resourceVersion);
  assert.ok(now > Number(first.body.metadata.resourceVersion));
  // Its own continue token is a consistent one at that revision.
  const last = await get(`${base}?limit=4&continue=${rest.body.metadata.continue}`);
  assert.equal(last.status, 200);
  assert.deepEqual(last.body.items.map((o: any) => o.metadata.name), ['cm-9', 'cm-9a']);
  assert.equal(last.body.metadata.resourceVersion, String(now));
  assert.equal(last.body.metadata.continue, undefined);
});

test('a list at an exact resourceVersion older than the server keeps is 410 Expired', async () => {
  const base = `/api/v1/namespaces/${ns}/configmaps`;
  const rv = (await get(base)).body.metadata.resourceVersion;
  for (let i = 0; i < 7; i++) await client.patch({ ...cms, name: 'cm-0' }, 'merge', { data: { v: `exact-${i}` } });
  for (const q of [`resourceVersion=${rv}&resourceVersionMatch=Exact`, `resourceVersion=${rv}&limit=3`]) {
    const r = await get(`${base}?${q}`);
    assert.equal(r.status, 410, q);
    assert.equal(r.body.reason, 'Expired');
    assert.match(r.body.message, new RegExp(`too old resource version: ${rv}`));
  }
});
