import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { Duplex, PassThrough } from 'node:stream';
import { dialUpgrade, proxyUpgrade, UpgradeRefused, WebSocketFrameWriter, writeRawResponse } from './http-upgrade.ts';

/** A server whose upgrade handler is `onUpgrade`; plain requests get 404. */
async function server(onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void): Promise<{ url: string; close(): void }> {
  const s = http.createServer((_q, r) => {
    r.writeHead(404);
    r.end();
  });
  const sockets = new Set<net.Socket>();
  s.on('connection', (c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  s.on('upgrade', onUpgrade);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`,
    close() {
      for (const c of sockets) c.destroy();
      s.close();
    },
  };
}

/** Switches to a protocol that echoes every byte, after sending `hello`. */
const echoing = (req: http.IncomingMessage, socket: Duplex) => {
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade}\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\nhello`);
  socket.pipe(socket);
};

test('dialUpgrade: the 101 answer, then a raw connection', async () => {
  const s = await server(echoing);
  try {
    const up = await dialUpgrade(`${s.url}/exec/x`, { method: 'POST', headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' } });
    assert.equal(up.response.headers['x-stream-protocol-version'], 'v4.channel.k8s.io');
    let got = up.head.toString();
    up.socket.on('data', (d) => (got += d));
    up.socket.write(' world');
    for (let i = 0; i < 100 && got !== 'hello world'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(got, 'hello world');
    up.socket.destroy();
  } finally {
    s.close();
  }
});

test('dialUpgrade: a refusal carries the status and body; silence times out', async () => {
  const refusing = await server((_req, socket) => writeRawResponse(socket, 403, { 'Content-Type': 'text/plain' }, 'no thanks'));
  const silent = await server(() => {});
  try {
    await assert.rejects(dialUpgrade(`${refusing.url}/x`, { headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' } }), (e: unknown) => e instanceof UpgradeRefused && e.status === 403 && e.body.toString() === 'no thanks');
    await assert.rejects(dialUpgrade(`${silent.url}/x`, { headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' }, timeoutMs: 200 }), /timed out after 0s/);
    await assert.rejects(dialUpgrade('ftp://example/x', { headers: {} }), /unsupported URL scheme/);
  } finally {
    refusing.close();
    silent.close();
  }
});

test('proxyUpgrade relays the upgrade, then bytes both ways; a refusal is passed back', async () => {
  const backend = await server(echoing);
  const refusing = await server((_req, socket) => writeRawResponse(socket, 400, { 'Content-Type': 'application/json' }, '{"kind":"Status","code":400}'));
  const front = await server((req, socket, head) => {
    const target = req.url === '/refused' ? refusing.url : backend.url;
    proxyUpgrade(req, socket, head, `${target}${req.url}`, {}).catch((e) => writeRawResponse(socket, 503, {}, String(e)));
  });
  try {
    const up = await dialUpgrade(`${front.url}/exec`, { headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io', Authorization: 'Bearer secret' } });
    assert.equal(up.response.headers['x-stream-protocol-version'], 'v4.channel.k8s.io');
    let got = up.head.toString();
    up.socket.on('data', (d) => (got += d));
    up.socket.write('!');
    for (let i = 0; i < 100 && got !== 'hello!'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(got, 'hello!');
    up.socket.destroy();
    await assert.rejects(dialUpgrade(`${front.url}/refused`, { headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' } }), (e: unknown) => e instanceof UpgradeRefused && e.status === 400 && e.headers['content-type'] === 'application/json');
  } finally {
    front.close();
    backend.close();
    refusing.close();
  }
});

test('a WebSocket stream is written to the client one whole frame per write', async () => {
  const writes: Buffer[] = [];
  const target = new Duplex({
    write(chunk, _e, cb) {
      writes.push(Buffer.from(chunk));
      setImmediate(cb);
    },
    read() {},
  });
  const w = new WebSocketFrameWriter(target);
  const small = Buffer.from([0x82, 0x03, 1, 2, 3]);
  const medium = Buffer.concat([Buffer.from([0x82, 126, 0x01, 0x00]), Buffer.alloc(256, 7)]);
  const close = Buffer.from([0x88, 0x02, 0x03, 0xe8]);
  const all = Buffer.concat([small, medium, close]);
  // Two frames and a half in the first chunk, the rest in the second.
  w.write(all.subarray(0, small.length + 100));
  w.end(all.subarray(small.length + 100));
  await once(w, 'finish');
  assert.deepEqual(writes, [small, medium, close]);
});

test('bytes that are not WebSocket frames pass through unchanged', async () => {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c) => chunks.push(c));
  const w = new WebSocketFrameWriter(out);
  const bogus = Buffer.from([0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2]);
  w.end(bogus);
  await once(w, 'finish');
  assert.deepEqual(Buffer.concat(chunks), bogus);
});
