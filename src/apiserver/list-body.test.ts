// LIST answers are written in pieces (list-body.ts): the bytes must be exactly the list's JSON,
// with a Content-Length that counts UTF-8 bytes, whatever the items hold and however many pieces.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { ApiClient } from '../client/api-client.ts';
import { CachedObject } from './registry/cached-object.ts';
import { PIECE_CHARS, slices } from './piecewise-write.ts';

let api: TestApiServer;
let sock: string;
// Multi-byte characters of every UTF-8 length, a surrogate pair, and what Go's escaping rewrites.
const text = 'é 日本 🚢 <&> \u2028 "q" \\ ';
const count = 300;
const bigItems = [
  ['a-big-ascii', 'x'.repeat(100_000)],
  ['zz-big-two-byte', '日本'.repeat(20_000)],
] as const;

before(async () => {
  api = await startTestApiServer({ name: 'listbody', unixSocket: true });
  sock = api.socketPath;
  const client = new ApiClient({ socketPath: sock, maxSockets: 8 });
  // ~1.5 MB in all: many pieces, and more than the writer buffers before it waits for the socket.
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      client.create({ version: 'v1', resource: 'configmaps', namespace: 'default' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${String(i).padStart(3, '0')}`, labels: { n: String(i % 2) } }, data: { t: text.repeat(200) } }),
    ),
  );
  // Items big enough to be written alone (not joined into a piece): first and last in the list.
  for (const [name, t] of bigItems) await client.create({ version: 'v1', resource: 'configmaps', namespace: 'default' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { t } });
  client.close();
});

after(async () => {
  await api?.close();
});

function get(path: string, headers: Record<string, string> = {}): Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: sock, path, headers: { Accept: 'application/json', ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

test('a big list with multi-byte text: Content-Length is its UTF-8 length, every item whole and in order', async () => {
  const r = await get('/api/v1/namespaces/default/configmaps');
  assert.equal(Number(r.headers['content-length']), r.body.length);
  assert.ok(r.body.length > 1024 * 1024);
  const list = JSON.parse(r.body.toString('utf8'));
  assert.equal(list.kind, 'ConfigMapList');
  assert.equal(list.apiVersion, 'v1');
  assert.match(list.metadata.resourceVersion, /^\d+$/);
  const mine = list.items.filter((o: any) => o.metadata.name.startsWith('cm-'));
  assert.equal(mine.length, count);
  mine.forEach((o: any, i: number) => {
    assert.equal(o.metadata.name, `cm-${String(i).padStart(3, '0')}`);
    assert.equal(o.data.t, text.repeat(200));
    assert.match(o.metadata.resourceVersion, /^\d+$/);
  });
  // Go's escaping of <, >, & and U+2028 is in the bytes, as stored.
  assert.ok(r.body.includes('\\u003c\\u0026\\u003e \\u2028'));
});

test('items too big to join into a piece are written whole on their own, the first and the last', async () => {
  for (const headers of [{}, { 'Accept-Encoding': 'gzip' }] as Record<string, string>[]) {
    const r = await get('/api/v1/namespaces/default/configmaps', headers);
    const body = r.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(r.body) : r.body;
    if (!r.headers['content-encoding']) assert.equal(Number(r.headers['content-length']), body.length);
    const names = JSON.parse(body.toString('utf8')).items.map((o: any) => o.metadata.name);
    assert.equal(names[0], 'a-big-ascii');
    assert.equal(names.at(-1), 'zz-big-two-byte');
    const items = JSON.parse(body.toString('utf8')).items;
    assert.equal(items[0].data.t, bigItems[0][1]);
    assert.equal(items.at(-1).data.t, bigItems[1][1]);
  }
  // Only the big ones, and none at all: head and tail around them.
  const one = JSON.parse((await get('/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dzz-big-two-byte')).body.toString('utf8'));
  assert.deepEqual(one.items.map((o: any) => o.metadata.name), ['zz-big-two-byte']);
});

test('the gzip-compressed and the indented answers hold the same list', async () => {
  const plain = await get('/api/v1/namespaces/default/configmaps');
  const gz = await get('/api/v1/namespaces/default/configmaps', { 'Accept-Encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(zlib.gunzipSync(gz.body).toString('utf8'), plain.body.toString('utf8'));
  const pretty = await get('/api/v1/namespaces/default/configmaps?pretty=true');
  assert.equal(Number(pretty.headers['content-length']), pretty.body.length);
  assert.ok(pretty.body.toString().startsWith('{\n  "kind": "ConfigMapList",'));
  assert.deepEqual(JSON.parse(pretty.body.toString('utf8')), JSON.parse(plain.body.toString('utf8')));
});

test('empty, selected and paged lists', async () => {
  const none = await get('/api/v1/namespaces/nothing-here/configmaps');
  assert.equal(Number(none.headers['content-length']), none.body.length);
  assert.deepEqual(JSON.parse(none.body.toString()).items, []);
  const odd = JSON.parse((await get('/api/v1/namespaces/default/configmaps?labelSelector=n%3D1')).body.toString('utf8'));
  assert.equal(odd.items.length, count / 2);
  const page = await get('/api/v1/namespaces/default/configmaps?limit=1');
  assert.equal(Number(page.headers['content-length']), page.body.length);
  const p = JSON.parse(page.body.toString('utf8'));
  assert.equal(p.items.length, 1);
  assert.ok(p.metadata.continue);
  assert.ok(p.metadata.remainingItemCount >= count - 1);
});

test('a cached object counts the bytes of the JSON it gives, resourceVersion spliced in or not', () => {
  const stored = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"t":"${text.replace(/["\\]/g, '\\$&')}"}}`;
  for (const c of [CachedObject.fromStored(stored, 7)!, CachedObject.fromStored(stored, 123456789)!, CachedObject.fromStored('{"apiVersion":"v1","kind":"X","metadata":{}}', 5)!, new CachedObject(stored)]) {
    assert.equal(c.jsonBytes, Buffer.byteLength(c.json));
  }
});

test('a client that goes away mid-list leaves the server serving', async () => {
  for (const headers of [{}, { 'Accept-Encoding': 'gzip' }]) {
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ socketPath: sock, path: '/api/v1/namespaces/default/configmaps', headers: { Accept: 'application/json', ...headers } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(e)));
    });
  }
  const r = await get('/api/v1/namespaces/default/configmaps');
  assert.equal(JSON.parse(r.body.toString('utf8')).items.length >= count, true);
});

test('a big Table (kubectl get) is written in pieces with its exact length', async () => {
  const r = await get('/api/v1/namespaces/default/configmaps?includeObject=Object', { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  assert.ok(r.body.length > 1024 * 1024);
  assert.equal(Number(r.headers['content-length']), r.body.length);
  const t = JSON.parse(r.body.toString('utf8'));
  assert.equal(t.kind, 'Table');
  assert.equal(t.rows.filter((row: any) => row.object.data?.t === text.repeat(200)).length, count);
});

test('a string is cut into pieces that never split a surrogate pair', () => {
  const s = 'a'.repeat(PIECE_CHARS - 1) + '🚢' + 'b'.repeat(PIECE_CHARS) + '🚢'.repeat(PIECE_CHARS);
  const next = slices(s);
  const pieces: string[] = [];
  for (let p = next(); p !== undefined; p = next()) pieces.push(p);
  assert.ok(pieces.length > 3);
  assert.equal(pieces.join(''), s);
  assert.equal(Buffer.concat(pieces.map((p) => Buffer.from(p))).toString(), s);
});

test('packed objects are copied into the pieces from their stored pieces: the same bytes as their JSON, mixed with others', async () => {
  const { Writable } = await import('node:stream');
  const { PackedKeyValue } = await import('../storage/packed-text.ts');
  const { sendJSONList } = await import('./list-body.ts');
  // Pods of ~2 KB as the store holds them (packed once delivered), every 7th not ASCII (kept
  // whole, joined as before), one with empty metadata (no comma after the resourceVersion).
  const items: CachedObject[] = [];
  for (let i = 0; i < 700; i++) {
    const note = i % 7 === 3 ? `日本 ${i}` : `plain-${i}`;
    const stored = i === 5 ? `{"apiVersion":"v1","kind":"Pod","metadata":{},"spec":{"note":"${note}","pad":"${'p'.repeat(2000)}"}}` : `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod-${i}","uid":"uid-${i}-${i * 7}"},"spec":{"nodeName":"node-${i % 13}","note":"${note}","pad":"${'p'.repeat(2000)}"}}`;
    const kv = new PackedKeyValue(`/registry/pods/default/pod-${i}`, stored, i + 1, i + 100);
    kv.pack();
    items.push(CachedObject.fromStored(kv.value, kv.modRevision, undefined, kv)!);
  }
  assert.ok(items.filter((c) => c.pushJSON([])).length > 500, 'most are held packed');
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(Buffer.from(c));
      cb();
    },
  });
  let headers: Record<string, unknown> = {};
  Object.assign(sink, { req: { headers: {}, url: '/api/v1/pods' }, writeHead: (_code: number, h: Record<string, unknown>) => ((headers = h), sink) });
  const done = new Promise((resolve) => sink.on('finish', resolve));
  sendJSONList(sink as any, 200, '{"kind":"PodList","items":[', items, '],"note":"é"}');
  await done;
  const body = Buffer.concat(chunks);
  const want = Buffer.from(`{"kind":"PodList","items":[${items.map((c) => c.json).join(',')}],"note":"é"}`);
  assert.equal(Number(headers['Content-Length']), want.length);
  assert.ok(body.equals(want));
  assert.equal(JSON.parse(body.toString()).items[5].metadata.resourceVersion, '105');
});
