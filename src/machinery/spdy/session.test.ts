import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { SpdySession, SpdyStream } from './session.ts';
import { RstStatus } from './frames.ts';

/** A client and a server session over a real loopback TCP connection. */
async function pair(serverOpts: { autoReply?: boolean } = {}): Promise<{ client: SpdySession; server: SpdySession; close(): void }> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const accepted = once(srv, 'connection');
  const sock = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  await once(sock, 'connect');
  const [peer] = (await accepted) as [net.Socket];
  const client = new SpdySession(sock, { server: false });
  const server = new SpdySession(peer, { server: true, ...serverOpts });
  return {
    client,
    server,
    close() {
      sock.destroy();
      peer.destroy();
      srv.close();
    },
  };
}

function nextStream(s: SpdySession): Promise<SpdyStream> {
  return once(s, 'stream').then(([st]) => st as SpdyStream);
}

/** Everything a stream's readable side delivers (without destroying the stream, as for-await would). */
function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}

test('streams carry headers and data both ways, and half-close independently', async () => {
  const { client, server, close } = await pair();
  try {
    const incoming = nextStream(server);
    const c = client.createStream({ streamType: 'stdin', Port: ['1', '2'] });
    assert.equal(c.id, 1);
    const replied = once(c, 'reply');
    c.write('hello ');
    c.end('world');
    const s = await incoming;
    assert.equal(s.id, 1);
    assert.equal(s.header('streamtype'), 'stdin');
    assert.deepEqual(s.headers.port, ['1', '2']);
    assert.deepEqual((await replied)[0], {});
    assert.equal((await readAll(s)).toString(), 'hello world');
    // The server side is still open for writing after the client half-closed.
    s.end('back');
    assert.equal((await readAll(c)).toString(), 'back');
    assert.equal(server.openStreams, 0);
    assert.equal(client.openStreams, 0);
  } finally {
    close();
  }
});

test('stream ids: odd from the client, even from the server', async () => {
  const { client, server, close } = await pair();
  try {
    const a = client.createStream({});
    const b = client.createStream({});
    const fromServer = nextStream(client);
    const c = server.createStream({ x: 'y' });
    assert.deepEqual([a.id, b.id, c.id], [1, 3, 2]);
    assert.equal((await fromServer).header('x'), 'y');
  } finally {
    close();
  }
});

test('a stream the peer resets ends its reader and reports the status', async () => {
  const { client, server, close } = await pair();
  try {
    const incoming = nextStream(server);
    const c = client.createStream({ streamtype: 'stdout' });
    const s = await incoming;
    s.write('partial');
    const reset = once(c, 'reset');
    const data = readAll(c);
    s.reset(RstStatus.Cancel);
    assert.deepEqual(await reset, [RstStatus.Cancel]);
    assert.equal((await data).toString(), 'partial');
    assert.equal(c.aborted, true);
    // Writes after a reset are dropped, not errors.
    c.write('ignored');
    c.end();
    await once(c, 'finish');
  } finally {
    close();
  }
});

test('streams the server does not reply to automatically can be refused', async () => {
  const { client, server, close } = await pair({ autoReply: false });
  try {
    server.on('stream', (s: SpdyStream) => (s.header('ok') ? s.reply({ answer: 'yes' }) : s.refuse()));
    const good = client.createStream({ ok: '1' });
    const bad = client.createStream({});
    const [replied, refused] = await Promise.all([once(good, 'reply'), once(bad, 'reset')]);
    assert.deepEqual(replied[0], { answer: ['yes'] });
    assert.deepEqual(refused, [RstStatus.RefusedStream]);
  } finally {
    close();
  }
});

test('pings are answered by the peer', async () => {
  const { client, server, close } = await pair();
  try {
    assert.ok((await client.ping()) >= 0);
    assert.ok((await server.ping()) >= 0);
  } finally {
    close();
  }
});

test('big writes are split into frames and a slow reader holds the sender back', async () => {
  const { client, server, close } = await pair();
  try {
    const incoming = nextStream(server);
    const c = client.createStream({});
    const s = await incoming;
    const total = 8 << 20;
    const block = Buffer.alloc(1 << 20, 7);
    let writesDone = false;
    const writer = (async () => {
      for (let sent = 0; sent < total; sent += block.length) if (!c.write(block)) await once(c, 'drain');
      c.end();
      writesDone = true;
    })();
    // Nobody reads yet: the server stops reading the socket, TCP fills, and the writer waits.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(writesDone, false, 'the writer should be held back while nobody reads');
    const got = await readAll(s);
    await writer;
    assert.equal(got.length, total);
    assert.ok(got.every((b) => b === 7));
  } finally {
    close();
  }
});

test('a stream read late holds the connection back without losing anything', async () => {
  const { client, server, close } = await pair();
  try {
    const streams: SpdyStream[] = [];
    server.on('stream', (s: SpdyStream) => streams.push(s));
    const a = client.createStream({ n: 'a' });
    const b = client.createStream({ n: 'b' });
    for (let i = 0; i < 64; i++) {
      a.write(Buffer.alloc(32 * 1024, 1));
      b.write(Buffer.alloc(32 * 1024, 2));
    }
    a.end();
    b.end();
    while (streams.length < 2) await once(server, 'stream');
    // Read b now and a later: a's buffer fills meanwhile and pauses the connection (as spdystream
    // stops reading when a stream's consumer lags), until a is read.
    const b2 = readAll(streams[1]);
    await new Promise((r) => setTimeout(r, 100));
    const gotA = await readAll(streams[0]);
    const gotB = await b2;
    assert.equal(gotA.length, 64 * 32 * 1024);
    assert.equal(gotB.length, 64 * 32 * 1024);
  } finally {
    close();
  }
});

test('close() resets open streams, sends GOAWAY and ends the connection', async () => {
  const { client, server, close } = await pair();
  try {
    const incoming = nextStream(server);
    const c = client.createStream({});
    const s = await incoming;
    const goaway = once(client, 'goaway');
    const clientClosed = once(client, 'close');
    const data = readAll(c);
    s.write('last words');
    server.close();
    assert.equal((await goaway)[0].status, 0);
    assert.equal((await data).toString(), 'last words');
    await clientClosed;
    assert.throws(() => client.createStream({}), /closed|going away/);
  } finally {
    close();
  }
});

test('a connection that drops ends every stream', async () => {
  const { client, server, close } = await pair();
  try {
    const incoming = nextStream(server);
    const c = client.createStream({});
    await incoming;
    const ended = readAll(c);
    const closed = once(client, 'close');
    server.destroy();
    assert.equal((await ended).length, 0);
    await closed;
  } finally {
    close();
  }
});

test('garbage from the peer is a protocol error that closes the session', async () => {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const accepted = once(srv, 'connection');
  const sock = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  const [peer] = (await accepted) as [net.Socket];
  try {
    const server = new SpdySession(peer, { server: true });
    const closed = once(server, 'close');
    const received: Buffer[] = [];
    sock.on('data', (d) => received.push(d));
    sock.write(Buffer.from('ffffffff' + '00000004' + 'deadbeef', 'hex'));
    const [err] = await closed;
    assert.match(String(err), /protocol error/);
    await once(sock, 'end');
    // The last thing sent is a GOAWAY with PROTOCOL_ERROR.
    const bytes = Buffer.concat(received);
    assert.equal(bytes.subarray(0, 4).toString('hex'), '80030007');
    assert.equal(bytes.readUInt32BE(12), 1);
  } finally {
    sock.destroy();
    peer.destroy();
    srv.close();
  }
});

test('a stream id used twice is refused with PROTOCOL_ERROR', async () => {
  const { client, server, close } = await pair();
  try {
    const streams: SpdyStream[] = [];
    server.on('stream', (s: SpdyStream) => streams.push(s));
    const ok = client.createStream({});
    (client as any).nextStreamId = 1; // reuse an id: the server must refuse it
    const again = client.createStream({});
    assert.deepEqual(await once(again, 'reset'), [RstStatus.ProtocolError]);
    ok.end();
    assert.equal(streams.length, 1);
  } finally {
    close();
  }
});
