// Big answers are gzip-compressed for clients that accept it (kubectl's Go transport asks for it);
// small ones, and clients that do not ask, get plain JSON.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { acceptsGzip, syncGzipMaxBytes } from './http-util.ts';
import { ApiClient } from '../client/api-client.ts';

let api: TestApiServer;
let sock: string;

before(async () => {
  api = await startTestApiServer({ name: 'gzip', unixSocket: true });
  sock = api.socketPath;
  const client = new ApiClient({ socketPath: sock, maxSockets: 8 });
  const data = { blob: 'x'.repeat(6000) };
  await Promise.all(Array.from({ length: 200 }, (_, i) => client.create({ version: 'v1', resource: 'configmaps', namespace: 'default' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data })));
  client.close();
});

after(async () => {
  await api?.close();
});

function get(path: string, headers: Record<string, string>): Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: sock, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

test('a big list is gzip-compressed when the client accepts it, and decompresses to the same JSON', async () => {
  const plain = await get('/api/v1/namespaces/default/configmaps', { Accept: 'application/json' });
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.ok(plain.body.length > 128 * 1024);
  const gz = await get('/api/v1/namespaces/default/configmaps', { Accept: 'application/json', 'Accept-Encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.match(String(gz.headers.vary), /Accept-Encoding/);
  // Up to syncGzipMaxBytes compressed at once, with its length; bigger ones streamed as they are
  // compressed (upstream's compressing writer streams too): chunked, no length.
  if (plain.body.length <= syncGzipMaxBytes) assert.equal(Number(gz.headers['content-length']), gz.body.length);
  else assert.equal(gz.headers['transfer-encoding'], 'chunked');
  assert.equal(Number(plain.headers['content-length']), plain.body.length);
  assert.ok(gz.body.length < plain.body.length / 10);
  assert.deepEqual(JSON.parse(zlib.gunzipSync(gz.body).toString()).items.length, 200);
  assert.equal(zlib.gunzipSync(gz.body).toString(), plain.body.toString());
});

test('small answers and clients that refuse gzip get plain JSON; OpenAPI is compressed too', async () => {
  const small = await get('/api/v1/namespaces/default/configmaps/cm-1', { 'Accept-Encoding': 'gzip' });
  assert.equal(small.headers['content-encoding'], undefined);
  assert.equal(JSON.parse(small.body.toString()).metadata.name, 'cm-1');
  const refused = await get('/api/v1/namespaces/default/configmaps', { 'Accept-Encoding': 'gzip;q=0, identity' });
  assert.equal(refused.headers['content-encoding'], undefined);
  const openapi = await get('/openapi/v2', { Accept: 'application/json', 'Accept-Encoding': 'gzip' });
  assert.equal(openapi.headers['content-encoding'], 'gzip');
  assert.equal(JSON.parse(zlib.gunzipSync(openapi.body).toString()).swagger, '2.0');
});

test('Accept-Encoding parsing', () => {
  const req = (v?: string) => ({ headers: v === undefined ? {} : { 'accept-encoding': v } }) as unknown as http.IncomingMessage;
  assert.equal(acceptsGzip(req()), false);
  assert.equal(acceptsGzip(req('gzip')), true);
  assert.equal(acceptsGzip(req('br, gzip;q=0.5')), true);
  assert.equal(acceptsGzip(req('*')), true);
  assert.equal(acceptsGzip(req('gzip;q=0')), false);
  assert.equal(acceptsGzip(req('identity')), false);
});
