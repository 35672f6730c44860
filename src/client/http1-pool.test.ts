import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Http1Pool, parseResponse } from './http1-pool.ts';

async function serve(handler: http.RequestListener): Promise<{ server: http.Server; socket: string; connections: () => number; done: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pool-'));
  const socket = path.join(dir, 's.sock');
  const server = http.createServer({ keepAlive: true }, handler);
  let conns = 0;
  server.on('connection', () => conns++);
  await new Promise<void>((r) => server.listen(socket, r));
  return {
    server,
    socket,
    connections: () => conns,
    done: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const echo: http.RequestListener = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.stringify({ method: req.method, url: req.url, ua: req.headers['user-agent'], body: Buffer.concat(chunks).toString() });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(body);
  });
};

test('requests and answers over one kept-alive connection', async () => {
  const s = await serve(echo);
  const pool = new Http1Pool(s.socket, 4);
  for (let i = 0; i < 5; i++) {
    const r = await pool.request('POST', `/x/${i}`, { 'User-Agent': 'ua' }, `{"i":${i}}`, 5000);
    assert.equal(r.code, 200);
    assert.deepEqual(JSON.parse(r.text), { method: 'POST', url: `/x/${i}`, ua: 'ua', body: `{"i":${i}}` });
    assert.equal(r.headers['content-type'], 'application/json');
  }
  assert.equal(s.connections(), 1);
  pool.close();
  await s.done();
});

test('concurrent requests use at most maxSockets connections, the rest queue', async () => {
  const s = await serve((req, res) => setTimeout(() => echo(req, res), 10));
  const pool = new Http1Pool(s.socket, 3);
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.request('GET', `/q/${i}`, {}, undefined, 5000)));
  assert.deepEqual(rs.map((r) => JSON.parse(r.text).url), Array.from({ length: 20 }, (_, i) => `/q/${i}`));
  assert.equal(s.connections(), 3);
  pool.close();
  await s.done();
});

test('chunked, multi-read and empty answers', async () => {
  const big = 'x'.repeat(300_000);
  const s = await serve((req, res) => {
    if (req.url === '/chunked') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"a":');
      res.write('"' + big + '"');
      res.end('}');
    } else if (req.url === '/empty') {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json', 'Retry-After': '1' });
      res.end(JSON.stringify({ kind: 'Status', code: 404, big }));
    }
  });
  const pool = new Http1Pool(s.socket, 2);
  const c = await pool.request('GET', '/chunked', {}, undefined, 5000);
  assert.equal(JSON.parse(c.text).a.length, big.length);
  const e = await pool.request('GET', '/empty', {}, undefined, 5000);
  assert.deepEqual([e.code, e.text], [204, '']);
  const n = await pool.request('GET', '/missing', {}, undefined, 5000);
  assert.equal(n.code, 404);
  assert.equal(n.headers['retry-after'], '1');
  assert.equal(JSON.parse(n.text).big.length, big.length);
  pool.close();
  await s.done();
});

test('a kept-alive connection the server closed is replaced without failing the request', async () => {
  const s = await serve(echo);
  const pool = new Http1Pool(s.socket, 1);
  assert.equal((await pool.request('GET', '/1', {}, undefined, 5000)).code, 200);
  s.server.closeIdleConnections();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await pool.request('GET', '/2', {}, undefined, 5000)).code, 200);
  assert.equal(s.connections(), 2);
  pool.close();
  await s.done();
});

test('timeouts, refused connections and a closed pool fail with a clear error', async () => {
  const s = await serve(() => {
    // never answers
  });
  const pool = new Http1Pool(s.socket, 1);
  await assert.rejects(pool.request('GET', '/slow', {}, undefined, 50), /timed out after 50ms/);
  pool.close();
  await assert.rejects(pool.request('GET', '/', {}, undefined, 50), /client is closed/);
  await s.done();
  const gone = new Http1Pool(s.socket, 1);
  await assert.rejects(gone.request('GET', '/', {}, undefined, 1000), /ENOENT|ECONNREFUSED/);
  gone.close();
});

test('parseResponse waits for the whole answer', () => {
  const full = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nX-A: 2\r\n\r\nhello');
  assert.equal(parseResponse(full.subarray(0, 20)), undefined);
  assert.equal(parseResponse(full.subarray(0, full.length - 1)), undefined);
  const r = parseResponse(full)!;
  assert.deepEqual([r.response.code, r.response.text, r.response.headers['x-a'], r.consumed], [200, 'hello', '1, 2', full.length]);
  const chunked = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
  assert.equal(parseResponse(chunked.subarray(0, chunked.length - 2)), undefined);
  assert.equal(parseResponse(chunked)!.response.text, 'abcde');
});

test('an answer that is not HTTP fails the request instead of throwing from the socket', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pool-'));
  const socket = path.join(dir, 's.sock');
  const net = await import('node:net');
  const server = net.createServer((c) => c.on('data', () => c.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')));
  await new Promise<void>((r) => server.listen(socket, r));
  const pool = new Http1Pool(socket, 1);
  await assert.rejects(pool.request('GET', '/', {}, undefined, 2000), /malformed chunked response/);
  pool.close();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('an answer that arrived while the thread was busy past the timeout is taken, not timed out', async () => {
  // The server runs in another thread, so it answers while this one is busy.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pool-busy-'));
  const socket = path.join(dir, 's.sock');
  const { Worker } = await import('node:worker_threads');
  const worker = new Worker(
    `const net = require('node:net'); const { parentPort, workerData } = require('node:worker_threads');
     net.createServer((c) => c.on('data', () => c.write('HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok'))).listen(workerData, () => parentPort.postMessage('up'));`,
    { eval: true, workerData: socket },
  );
  await new Promise((r) => worker.once('message', r));
  const pool = new Http1Pool(socket, 1);
  try {
    assert.equal((await pool.request('GET', '/warm', {}, undefined, 5000)).text, 'ok');
    // Sent on the kept-alive connection at once; then this thread is busy for 4 times the timeout.
    const answer = pool.request('GET', '/busy', {}, undefined, 50);
    const until = performance.now() + 200;
    while (performance.now() < until) {
      // busy
    }
    assert.equal((await answer).text, 'ok');
  } finally {
    pool.close();
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
});
