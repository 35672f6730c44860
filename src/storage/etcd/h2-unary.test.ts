// Our HTTP/2 unary client against node:http2's server (nghttp2: Huffman-coded, indexed headers,
// CONTINUATION for big blocks, its own flow control), for what etcd rarely does; etcd-store.test.ts
// runs it against etcd itself.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { H2UnaryChannel } from './h2-unary.ts';
import { huffmanCode, huffmanDecode, HpackDecoder, encodeHeaderBlock } from './hpack.ts';
import { GrpcCallError, GrpcCode } from '../../machinery/grpc-unary.ts';
import { freePort } from '../../testing/etcd.ts';

function frame(msg: Buffer): Buffer {
  const b = Buffer.alloc(5 + msg.length);
  b.writeUInt32BE(msg.length, 1);
  msg.copy(b, 5);
  return b;
}

describe('HPACK', () => {
  it('rebuilds the Huffman code of RFC 7541 Appendix B from its lengths', () => {
    // Some rows of the RFC's table: symbol, code, bits.
    const rows: [number, number, number][] = [
      [0, 0x1ff8, 13], [1, 0x7fffd8, 23], [9, 0xffffea, 24], [10, 0x3ffffffc, 30], [32, 0x14, 6], [48, 0x0, 5],
      [97, 0x3, 5], [101, 0x5, 5], [122, 0x7b, 7], [127, 0xffffffc, 28], [199, 0x1ffffec, 25], [200, 0x3ffffe2, 26], [255, 0x3ffffee, 26], [256, 0x3fffffff, 30],
    ];
    for (const [sym, code, bits] of rows) assert.deepEqual(huffmanCode(sym), { code, bits }, `symbol ${sym}`);
  });

  it('decodes the RFC\'s Huffman examples and refuses bad padding', () => {
    // C.4.1: "www.example.com"
    assert.equal(huffmanDecode(Buffer.from('f1e3c2e5f23a6ba0ab90f4ff', 'hex'), 0, 12), 'www.example.com');
    // C.6.1: "Mon, 21 Oct 2013 20:13:21 GMT"
    assert.equal(huffmanDecode(Buffer.from('d07abe941054d444a8200595040b8166e082a62d1bff', 'hex'), 0, 22), 'Mon, 21 Oct 2013 20:13:21 GMT');
    assert.throws(() => huffmanDecode(Buffer.from('f1e3c2e5f23a6ba0ab90f4fe', 'hex'), 0, 12));
  });

  it('decodes the RFC\'s response examples with the dynamic table (C.6)', () => {
    const dec = new HpackDecoder(256);
    const r1 = dec.decode(Buffer.from('488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3', 'hex'));
    assert.deepEqual(r1, [[':status', '302'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']]);
    const r2 = dec.decode(Buffer.from('4883640effc1c0bf', 'hex'));
    assert.deepEqual(r2, [[':status', '307'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']]);
  });

  it('encodes requests that a decoder reads back', () => {
    const fields: [string, string][] = [[':method', 'POST'], [':path', '/etcdserverpb.KV/Txn'], ['content-type', 'application/grpc'], ['te', 'trailers'], ['x-long', 'y'.repeat(300)]];
    assert.deepEqual(new HpackDecoder().decode(encodeHeaderBlock(fields)), fields);
  });
});

describe('H2UnaryChannel against node:http2', () => {
  let server: http2.Http2Server;
  let origin = '';
  const sessions = new Set<http2.ServerHttp2Session>();
  before(async () => {
    server = http2.createServer({ settings: { initialWindowSize: 65_535 } });
    server.on('session', (s) => {
      sessions.add(s);
      s.on('close', () => sessions.delete(s));
    });
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('error', () => undefined);
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('end', () => {
        const body = Buffer.concat(chunks).subarray(5);
        const path = String(headers[':path']);
        if (headers['content-type'] !== 'application/grpc' || headers.te !== 'trailers') {
          stream.respond({ ':status': 400 }, { endStream: true });
          return;
        }
        switch (path) {
          case '/t/Echo':
            stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
            stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-echo-len': String(body.length) }));
            stream.end(frame(body));
            return;
          case '/t/Big': {
            const n = Number(body.toString());
            stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
            stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
            stream.end(frame(Buffer.alloc(n, 7)));
            return;
          }
          case '/t/Fail':
          case '/t/FailLong':
            // Trailers-only, a percent-encoded message long enough to need CONTINUATION frames.
            stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '9', 'grpc-message': encodeURIComponent(`no: ${body.toString()} é`) + 'x'.repeat(path === '/t/FailLong' ? 40_000 : 0) }, { endStream: true });
            return;
          case '/t/Reset':
            stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
            return;
          case '/t/Never':
            return;
          case '/t/Away':
            // GOAWAY (the stream is taken: nghttp2 names it as the last one), then the answer.
            stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR, 0);
            stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' }, { endStream: true });
            return;
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    for (const s of sessions) s.destroy();
    server.close();
  });

  it('makes many calls at once on one connection, beyond the peer\'s flow-control window', async () => {
    const ch = new H2UnaryChannel({ origin });
    try {
      const bodies = Array.from({ length: 300 }, (_, i) => Buffer.alloc(100 + i * 10, i));
      const answers = await Promise.all(bodies.map((b) => ch.unary('/t/Echo', b, 10_000)));
      answers.forEach((a, i) => assert.ok(a.equals(bodies[i])));
      // One body of 1 MB: sixteen times the server's window, sent as it opens.
      const big = Buffer.alloc(1024 * 1024, 3);
      assert.ok((await ch.unary('/t/Echo', big, 10_000)).equals(big));
      assert.equal(sessions.size, 1);
    } finally {
      ch.close();
    }
  });

  it('receives answers larger than its stream window (WINDOW_UPDATE as they come)', async () => {
    const ch = new H2UnaryChannel({ origin });
    try {
      const a = await ch.unary('/t/Big', Buffer.from(String(20 * 1024 * 1024)), 20_000);
      assert.equal(a.length, 20 * 1024 * 1024);
      assert.equal(a[a.length - 1], 7);
    } finally {
      ch.close();
    }
  });

  it('reports the gRPC status and message of a trailers-only answer, also in CONTINUATION frames', async () => {
    const ch = new H2UnaryChannel({ origin });
    try {
      for (const path of ['/t/Fail', '/t/FailLong']) {
        const e = (await ch.unary(path, Buffer.from('why'), 5_000).then(() => undefined, (err) => err)) as GrpcCallError;
        assert.ok(e instanceof GrpcCallError);
        assert.equal(e.code, GrpcCode.FAILED_PRECONDITION);
        assert.equal(e.details.slice(0, 9), 'no: why é');
      }
      // The connection (and its HPACK state) is still good.
      assert.ok((await ch.unary('/t/Echo', Buffer.from('ok'), 5_000)).equals(Buffer.from('ok')));
    } finally {
      ch.close();
    }
  });

  it('fails a reset stream and a call past its deadline; after GOAWAY, finishes the calls taken and uses a new connection', async () => {
    const ch = new H2UnaryChannel({ origin });
    try {
      const reset = (await ch.unary('/t/Reset', Buffer.from('x'), 5_000).catch((e) => e)) as GrpcCallError;
      assert.equal(reset.code, GrpcCode.UNAVAILABLE);
      assert.equal(reset.notSent, false);
      const slow = (await ch.unary('/t/Never', Buffer.from('x'), 200).catch((e) => e)) as GrpcCallError;
      assert.equal(slow.code, GrpcCode.DEADLINE_EXCEEDED);
      assert.equal(slow.notSent, false);
      const away = await ch.unary('/t/Away', Buffer.from('x'), 5_000).catch((e) => e);
      assert.equal((away as GrpcCallError).code, GrpcCode.INTERNAL, 'an answer without a message, but an answer');
      const seen = new Set(sessions);
      // A new connection serves the next call.
      assert.ok((await ch.unary('/t/Echo', Buffer.from('again'), 5_000)).equals(Buffer.from('again')));
      assert.ok([...sessions].some((s) => !seen.has(s)), 'a new connection');
    } finally {
      ch.close();
    }
  });

  it('says "never sent" when no connection can be made', async () => {
    const ch = new H2UnaryChannel({ origin: `http://127.0.0.1:${await freePort()}` });
    try {
      const e = (await ch.unary('/t/Echo', Buffer.from('x'), 5_000).catch((err) => err)) as GrpcCallError;
      assert.equal(e.code, GrpcCode.UNAVAILABLE);
      assert.equal(e.notSent, true);
      assert.match(e.details, /No connection established.*ECONNREFUSED/);
    } finally {
      ch.close();
    }
  });
});

const run = promisify(execFile);

describe('H2UnaryChannel on a unix socket (the kubelet\'s CRI calls)', () => {
  let server: http2.Http2Server;
  let dir = '';
  let socketPath = '';
  const seenTimeouts: string[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mizzen-h2-unix-'));
    socketPath = join(dir, 'rt.sock');
    server = http2.createServer();
    server.on('stream', (stream, headers) => {
      seenTimeouts.push(String(headers['grpc-timeout'] ?? ''));
      const chunks: Buffer[] = [];
      stream.on('error', () => undefined);
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('end', () => {
        const body = Buffer.concat(chunks).subarray(5);
        if (headers[':path'] === '/t/Never') return;
        const answer = headers[':path'] === '/t/Big' ? Buffer.alloc(Number(body.toString()), 1) : body;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(frame(answer));
      });
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the deadline as grpc-timeout, limits answers, ends aborted calls, and says "never sent" without a socket', async () => {
    const ch = new H2UnaryChannel({ origin: 'http://localhost', socketPath, sendDeadline: true, maxReceiveBytes: 1000, unrefWhenIdle: true });
    try {
      assert.ok((await ch.unary('/t/Echo', Buffer.from('hi'), 1500)).equals(Buffer.from('hi')));
      assert.ok((await ch.unary('/t/Echo', Buffer.from('hi'), 2 * 1e8)).equals(Buffer.from('hi')));
      assert.deepEqual(seenTimeouts, ['1500m', '200000S']);
      assert.equal((await ch.unary('/t/Big', Buffer.from('1000'), 5_000)).length, 1000);
      const big = (await ch.unary('/t/Big', Buffer.from('1001'), 5_000).catch((e) => e)) as GrpcCallError;
      assert.equal(big.code, GrpcCode.RESOURCE_EXHAUSTED);
      const ac = new AbortController();
      const pending = ch.unary('/t/Never', Buffer.from('x'), 10_000, ac.signal);
      setTimeout(() => ac.abort(), 50);
      const aborted = (await pending.catch((e) => e)) as GrpcCallError;
      assert.equal(aborted.code, GrpcCode.CANCELLED);
      assert.equal(aborted.notSent, false);
      const before = (await ch.unary('/t/Echo', Buffer.from('x'), 5_000, AbortSignal.abort()).catch((e) => e)) as GrpcCallError;
      assert.equal(before.code, GrpcCode.CANCELLED);
      assert.equal(before.notSent, true);
      // The connection still serves calls after all that.
      assert.ok((await ch.unary('/t/Echo', Buffer.from('ok'), 5_000)).equals(Buffer.from('ok')));
    } finally {
      ch.close();
    }
    const none = new H2UnaryChannel({ origin: 'http://localhost', socketPath: join(dir, 'missing.sock') });
    const e = (await none.unary('/t/Echo', Buffer.from('x'), 5_000).catch((err) => err)) as GrpcCallError;
    assert.equal(e.code, GrpcCode.UNAVAILABLE);
    assert.equal(e.notSent, true);
    assert.match(e.details, /No connection established.*ENOENT/);
    none.close();
  });

  it('with unrefWhenIdle, an open connection does not keep the process alive between calls', async () => {
    // A child process makes one call and leaves the channel open: it must exit on its own.
    const script = `
      import { H2UnaryChannel } from ${JSON.stringify(new URL('./h2-unary.ts', import.meta.url).href)};
      const ch = new H2UnaryChannel({ origin: 'http://localhost', socketPath: ${JSON.stringify(socketPath)}, unrefWhenIdle: true });
      const a = await ch.unary('/t/Echo', Buffer.from('bye'), 5000);
      console.log(a.toString());`;
    // Not spawnSync: this process's server must answer meanwhile.
    const r = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 }).catch((e) => e);
    assert.equal(r.signal ?? null, null, `the child did not exit by itself: ${r.stderr}`);
    assert.equal(r.stdout.trim(), 'bye', r.stderr);
  });
});
