// Fuzzing the DNS server: random bytes and mutated queries (truncated, bit-flipped, pointer
// loops, huge counts) over UDP and TCP, interleaved with good queries that must keep getting
// right answers; and the packet handler itself must never throw on anything.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';
import { Forwarder } from './forwarder.ts';
import { DnsServer } from './server.ts';
import { ClusterZone } from './zone.ts';
import { randomLoopback, startStubUpstream, type StubUpstream } from './testing.ts';

let zone: ClusterZone;
let server: DnsServer;
let forwarder: Forwarder;
let stub: StubUpstream;
let port: number;
const addr = randomLoopback();

/** A small deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const good = (id: number, name = 'web.shop.svc.cluster.local') => packet.encode({ type: 'query', id, flags: packet.RECURSION_DESIRED, questions: [{ name, type: 'A', class: 'IN' }] });

function mutate(r: () => number, base: Buffer): Buffer {
  const b = Buffer.from(base);
  switch (Math.floor(r() * 7)) {
    case 0: // random bytes anywhere
      for (let i = 0, n = 1 + Math.floor(r() * 6); i < n; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      return b;
    case 1: // truncated
      return b.subarray(0, Math.floor(r() * b.length));
    case 2: // trailing garbage
      return Buffer.concat([b, Buffer.from(Array.from({ length: 1 + Math.floor(r() * 40) }, () => Math.floor(r() * 256)))]);
    case 3: // huge section counts
      b.writeUInt16BE(Math.floor(r() * 65536), 4 + 2 * Math.floor(r() * 4));
      return b;
    case 4: // a compression pointer to itself (a loop) as the question name
      return Buffer.concat([b.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    case 5: // a label longer than what is left
      b[12] = 63;
      return b.subarray(0, 30);
    default: // pure noise
      return Buffer.from(Array.from({ length: Math.floor(r() * 600) }, () => Math.floor(r() * 256)));
  }
}

before(async () => {
  stub = await startStubUpstream(randomLoopback(), {});
  zone = new ClusterZone({ domain: 'cluster.local' });
  zone.apply({ kind: 'service', key: 'shop/web', entry: { namespace: 'shop', name: 'web', kind: 'ClusterIP', clusterIPs: ['10.43.7.7'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }], endpoints: [] } });
  forwarder = new Forwarder({ upstreams: [{ address: stub.address, port: stub.port }], timeoutMs: 300 });
  server = new DnsServer({ zone, forwarder });
  [{ port }] = await server.listen([{ address: addr, port: 0 }]);
});

after(async () => {
  forwarder.close();
  await server.close();
  await stub.close();
});

test('the packet handler never throws or rejects, whatever it is given', async () => {
  const r = rng(1234);
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < 20_000; i++) {
    const out = server.handle(mutate(r, good(i & 0xffff)), r() < 0.5 ? 'udp' : 'tcp');
    if (out instanceof Promise) pending.push(out);
    else if (out) packet.decode(out); // whatever we send must itself decode
  }
  await Promise.all(pending);
  assert.ok(server.stats.malformed > 1000, JSON.stringify(server.stats));
});

test('over UDP: garbage is dropped and good queries in between still get answered', async () => {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const answers = new Map<number, packet.DecodedPacket>();
  sock.on('message', (m) => {
    try {
      const p = packet.decode(m);
      answers.set(p.id!, p);
    } catch {
      // a reply to a mangled query may not be ours to check
    }
  });
  const r = rng(99);
  const malformedBefore = server.stats.malformed;
  const goodIds: number[] = [];
  for (let i = 0; i < 3000; i++) {
    if (i % 20 === 0) {
      const id = 40000 + i;
      goodIds.push(id);
      sock.send(good(id), port, addr);
    } else sock.send(mutate(r, good(i)), port, addr);
    if (i % 200 === 0) await new Promise((res) => setImmediate(res));
  }
  const deadline = Date.now() + 5000;
  while (goodIds.some((id) => !answers.has(id)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  for (const id of goodIds) {
    const a = answers.get(id);
    assert.ok(a, `good query ${id} was answered`);
    assert.equal((a as any).rcode, "NOERROR");
    assert.deepEqual(
      a.answers?.map((x: any) => x.data),
      ['10.43.7.7'],
    );
  }
  assert.ok(server.stats.malformed > malformedBefore + 500, JSON.stringify(server.stats));
  sock.close();
});

function tcpAsk(sock: net.Socket, msg: Buffer): void {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  sock.write(Buffer.concat([len, msg]));
}

function readFrames(sock: net.Socket): { frames: Buffer[] } {
  const st = { frames: [] as Buffer[] };
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      st.frames.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      buf = buf.subarray(2 + buf.readUInt16BE(0));
    }
  });
  return st;
}

test('over TCP: garbage frames are skipped on the same connection; a half frame only costs its own connection', async () => {
  const r = rng(7);
  const c = net.connect(port, addr);
  await new Promise((res) => c.once('connect', res));
  const st = readFrames(c);
  for (let i = 0; i < 200; i++) tcpAsk(c, Buffer.from(Array.from({ length: 1 + Math.floor(r() * 100) }, () => Math.floor(r() * 256))));
  tcpAsk(c, good(4242));
  const deadline = Date.now() + 3000;
  while (!st.frames.some((f) => f.readUInt16BE(0) === 4242) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
  const reply = st.frames.find((f) => f.readUInt16BE(0) === 4242);
  assert.ok(reply, 'the good query after 200 garbage frames was answered');
  assert.deepEqual(packet.decode(reply).answers?.map((a: any) => a.data), ['10.43.7.7']);
  c.destroy();

  // A connection that promises a long frame and stops: others are served meanwhile.
  const stuck = net.connect(port, addr);
  await new Promise((res) => stuck.once('connect', res));
  stuck.write(Buffer.from([0xff, 0xff, 1, 2, 3]));
  const other = net.connect(port, addr);
  await new Promise((res) => other.once('connect', res));
  const st2 = readFrames(other);
  tcpAsk(other, good(77));
  const d2 = Date.now() + 3000;
  while (!st2.frames.length && Date.now() < d2) await new Promise((res) => setTimeout(res, 10));
  assert.equal(st2.frames[0]?.readUInt16BE(0), 77);
  stuck.destroy();
  other.destroy();
});
