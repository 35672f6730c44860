// The local load balancer's TCP and UDP listeners with backends on 127.0.0.1 (the proxy accepts
// any address it is given; what is routable is decided above it, in load-balancer.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { TcpListener, UdpListener } from './proxy.ts';
import { poll } from '../../../testing/poll.ts';

const LB_IP = `127.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}.9`;

function tcpServer(reply: string): Promise<{ port: number; close(): Promise<void> }> {
  const srv = net.createServer((s) => {
    s.on('data', (d) => s.end(`${reply}:${d}`));
    s.on('error', () => {});
  });
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r({ port: (srv.address() as net.AddressInfo).port, close: () => new Promise((c) => srv.close(() => c())) })));
}

function ask(port: number, msg: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, LB_IP, () => s.write(msg));
    let out = '';
    s.setEncoding('utf8').on('data', (c: string) => (out += c));
    s.on('end', () => resolve(out));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(`error:${e.code}`));
  });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, LB_IP, r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

test('TCP: round robin, a refused backend is skipped, no backend resets, half-close carries the answer', async () => {
  const a = await tcpServer('A');
  const b = await tcpServer('B');
  const deadPort = await freePort();
  const port = await freePort();
  const l = new TcpListener(LB_IP, port);
  await l.listen();
  try {
    assert.equal(await ask(port, 'x'), 'error:ECONNRESET');
    l.setBackends([
      { host: '127.0.0.1', port: a.port },
      { host: '127.0.0.1', port: deadPort },
      { host: '127.0.0.1', port: b.port },
    ]);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await ask(port, `m${i}`));
    assert.ok(answers.every((x) => /^[AB]:m\d$/.test(x)), answers.join(','));
    assert.equal(answers.filter((x) => x.startsWith('A')).length, 3);
    // The client half-closes after sending; the backend's answer still arrives.
    const half = await new Promise<string>((resolve) => {
      const s = net.connect({ port, host: LB_IP, allowHalfOpen: true }, () => s.end('bye'));
      let out = '';
      s.setEncoding('utf8').on('data', (c: string) => (out += c));
      s.on('close', () => resolve(out));
    });
    assert.match(half, /^[AB]:bye$/);
    // A second listener on the same address and port is refused by the kernel.
    await assert.rejects(new TcpListener(LB_IP, port).listen(), { code: 'EADDRINUSE' });
  } finally {
    await l.close();
    await a.close();
    await b.close();
  }
  assert.equal(await ask(port, 'x'), 'error:ECONNREFUSED');
});

test('UDP: one session per client, spread over backends, replies come back, idle sessions end', async () => {
  const echo = async (name: string) => {
    const s = dgram.createSocket('udp4');
    s.on('message', (m, r) => s.send(`${name}:${m}`, r.port, r.address));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return s;
  };
  const a = await echo('A');
  const b = await echo('B');
  const port = await freePort();
  const l = new UdpListener(LB_IP, port, 300);
  await l.listen();
  l.setBackends([
    { host: '127.0.0.1', port: a.address().port },
    { host: '127.0.0.1', port: b.address().port },
  ]);
  const client = async (msgs: string[]) => {
    const s = dgram.createSocket('udp4');
    const got: string[] = [];
    s.on('message', (m) => got.push(m.toString()));
    for (const m of msgs) s.send(m, port, LB_IP);
    await poll(() => got.length === msgs.length, { what: 'udp replies', timeoutMs: 3000 });
    s.close();
    return got;
  };
  try {
    const c1 = await client(['1', '2', '3']);
    const c2 = await client(['4']);
    // A client sticks to its backend; the next client gets the other one.
    assert.equal(new Set(c1.map((x) => x[0])).size, 1);
    assert.notEqual(c1[0]![0], c2[0]![0]);
    assert.equal(l.sessionCount(), 2);
    await poll(() => l.sessionCount() === 0, { what: 'idle sessions expire', timeoutMs: 3000 });
    // Removing a backend ends its sessions at once.
    await client(['5']);
    l.setBackends([]);
    assert.equal(l.sessionCount(), 0);
  } finally {
    await l.close();
    a.close();
    b.close();
  }
});

test('TCP: bulk both ways to a slow reader arrives intact (the reused read buffer waits for drains)', async () => {
  // 48 MiB of a position-dependent pattern each way: a chunk written from the reused buffer and
  // overwritten before the kernel took it would show as a hash mismatch.
  const size = 48 * 1024 * 1024;
  const pattern = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) pattern.writeUInt32LE(i, i);
  const { createHash } = await import('node:crypto');
  const want = createHash('sha256').update(pattern).digest('hex');
  /** Reads everything, pausing now and then as a slow consumer does; resolves with its hash and length. */
  const slowRead = (s: net.Socket) =>
    new Promise<{ hash: string; n: number }>((resolve) => {
      const h = createHash('sha256');
      let n = 0;
      let chunks = 0;
      s.on('data', (d: Buffer) => {
        h.update(d);
        n += d.length;
        if (++chunks % 16 === 0) {
          s.pause();
          setTimeout(() => s.resume(), 2);
        }
      });
      s.on('end', () => resolve({ hash: h.digest('hex'), n }));
    });
  let backendGot!: Promise<{ hash: string; n: number }>;
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    backendGot = slowRead(s);
    s.end(pattern);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const l = new TcpListener(LB_IP, await freePort());
  await l.listen();
  l.setBackends([{ host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port }]);
  try {
    const c = net.connect({ host: LB_IP, port: l.port, allowHalfOpen: true });
    const clientGot = slowRead(c);
    c.end(pattern);
    const [down, up] = await Promise.all([clientGot, (async () => (await poll(() => backendGot, { what: 'backend connection' })))()]);
    assert.equal(down.n, size);
    assert.equal(down.hash, want);
    assert.equal(up.n, size);
    assert.equal(up.hash, want);
  } finally {
    await l.close();
    await new Promise((r) => srv.close(r));
  }
});

test('TCP: a reset is passed on as a reset, both ways', async () => {
  // The backend resets the first connection it gets, and reports how the second one ended.
  let seen = 0;
  let secondEnded!: (how: string) => void;
  const second = new Promise<string>((r) => (secondEnded = r));
  const srv = net.createServer((s) => {
    if (++seen === 1) s.once('data', () => s.resetAndDestroy());
    else {
      s.on('error', (e: NodeJS.ErrnoException) => secondEnded(`error:${e.code}`));
      s.on('end', () => secondEnded('end'));
      s.once('data', () => s.write('ready'));
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const l = new TcpListener(LB_IP, await freePort());
  await l.listen();
  l.setBackends([{ host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port }]);
  try {
    assert.equal(await ask(l.port, 'x'), 'error:ECONNRESET');
    const c = net.connect(l.port, LB_IP, () => c.write('hello'));
    c.on('error', () => {});
    await new Promise((r) => c.once('data', r));
    c.resetAndDestroy();
    assert.equal(await second, 'error:ECONNRESET');
  } finally {
    await l.close();
    await new Promise((r) => srv.close(r));
  }
});
