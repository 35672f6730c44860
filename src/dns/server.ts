// The DNS server: UDP and TCP listeners, packets decoded and encoded with dns-packet, questions
// answered from the ClusterZone or forwarded upstream. A packet that does not decode is dropped
// and counted: it costs one failed decode and affects no other query. Answers too big for the
// client's UDP size are sent truncated (TC) so the client retries over TCP.

import dgram from 'node:dgram';
import net from 'node:net';
import { isIPv6 } from 'node:net';
import * as packet from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet } from 'dns-packet';
import type { Forwarder } from './forwarder.ts';
import type { ClusterZone, ZoneRecord } from './zone.ts';

export interface ListenAddress {
  address: string;
  port: number;
}

export interface DnsStats {
  queries: number;
  /** Answered from the encoded-answer cache. */
  cacheHits: number;
  malformed: number;
  forwarded: number;
  servfail: number;
  nxdomain: number;
  truncated: number;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const OPCODE_MASK = 0x7800;
/** The UDP payload size we advertise and honour at most (the DNS flag day's 1232 keeps clear of fragmentation). */
const MAX_UDP = 1232;
const TCP_IDLE_MS = 10_000;
const TCP_MAX_CONNECTIONS = 1024;

export interface DnsServerOptions {
  zone: ClusterZone;
  forwarder: Forwarder;
  /** Encoded cluster answers kept for reuse until the zone changes (default 10,000; 0 = none). */
  cacheSize?: number;
  log?: (msg: string) => void;
}

export class DnsServer {
  readonly stats: DnsStats = { queries: 0, cacheHits: 0, malformed: 0, forwarded: 0, servfail: 0, nxdomain: 0, truncated: 0 };
  private cache = new Map<string, { reply: Buffer; nxdomain: boolean }>();
  private cacheSerial = -1;
  private readonly cacheSize: number;
  private udp: dgram.Socket[] = [];
  private tcp: net.Server[] = [];
  private conns = new Set<net.Socket>();
  private readonly log: (msg: string) => void;

  constructor(private readonly opts: DnsServerOptions) {
    this.log = opts.log ?? (() => {});
    this.cacheSize = opts.cacheSize ?? 10_000;
  }

  /** Bind UDP and TCP on each address (port 0: one free port, the same for both); returns what was bound. */
  async listen(addrs: ListenAddress[]): Promise<ListenAddress[]> {
    const bound: ListenAddress[] = [];
    for (const a of addrs) {
      const sock = dgram.createSocket({ type: isIPv6(a.address) ? 'udp6' : 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(a.port, a.address, () => {
          sock.off('error', reject);
          resolve();
        });
      });
      sock.on('error', (e) => this.log(`udp ${a.address}: ${e.message}`));
      sock.on('message', (msg, rinfo) => this.onUdp(sock, msg, rinfo));
      this.udp.push(sock);
      const port = sock.address().port;
      const srv = net.createServer((c) => this.onTcp(c));
      srv.maxConnections = TCP_MAX_CONNECTIONS;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(port, a.address, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      srv.on('error', (e) => this.log(`tcp ${a.address}: ${e.message}`));
      this.tcp.push(srv);
      bound.push({ address: a.address, port });
    }
    return bound;
  }

  async close(): Promise<void> {
    for (const s of this.udp) s.close();
    for (const c of this.conns) c.destroy();
    await Promise.all(this.tcp.map((s) => new Promise((r) => s.close(r))));
    this.udp = [];
    this.tcp = [];
  }

  private onUdp(sock: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const reply = this.handle(msg, 'udp');
    if (!reply) return;
    if (reply instanceof Promise) reply.then((r) => r && sock.send(r, rinfo.port, rinfo.address), () => {});
    else sock.send(reply, rinfo.port, rinfo.address);
  }

  private onTcp(c: net.Socket): void {
    this.conns.add(c);
    c.setNoDelay(true);
    c.setTimeout(TCP_IDLE_MS, () => c.destroy());
    c.on('close', () => this.conns.delete(c));
    c.on('error', () => c.destroy());
    let buf: Buffer = Buffer.alloc(0);
    const send = (r: Buffer | undefined) => {
      if (!r || c.destroyed) return;
      const len = Buffer.alloc(2);
      len.writeUInt16BE(r.length);
      c.write(Buffer.concat([len, r]));
    };
    c.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 2) {
        const n = buf.readUInt16BE(0);
        if (buf.length < 2 + n) break;
        const msg = buf.subarray(2, 2 + n);
        buf = buf.subarray(2 + n);
        const reply = this.handle(msg, 'tcp');
        if (reply instanceof Promise) reply.then(send, () => {});
        else send(reply);
      }
    });
  }

  /**
   * One query in, its reply out (a Buffer, or a Promise when it goes upstream); undefined drops
   * it: no decodable DNS query.
   */
  handle(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | Promise<Buffer | undefined> | undefined {
    // The same question (same bytes after the ID, same transport) under the same zone serial gets
    // the same answer: reuse its encoding with the ID patched, as CoreDNS's cache plugin would.
    let key: string | undefined;
    if (this.cacheSize > 0 && msg.length >= 12 && msg.length <= 512) {
      if (this.cacheSerial !== this.opts.zone.serial) {
        this.cache.clear();
        this.cacheSerial = this.opts.zone.serial;
      }
      key = transport === 'udp' ? msg.toString('latin1', 2) : `t${msg.toString('latin1', 2)}`;
      const hit = this.cache.get(key);
      if (hit) {
        this.stats.queries++;
        this.stats.cacheHits++;
        if (hit.nxdomain) this.stats.nxdomain++;
        const out = Buffer.allocUnsafe(hit.reply.length);
        hit.reply.copy(out);
        out.writeUInt16BE(msg.readUInt16BE(0), 0);
        return out;
      }
    }
    const out = this.handleUncached(msg, transport);
    if (key !== undefined && out instanceof Buffer) {
      if (this.cache.size >= this.cacheSize) this.cache.clear();
      this.cache.set(key, { reply: out, nxdomain: (out[3] & 0x0f) === RCODE.NXDOMAIN });
    }
    return out;
  }

  private handleUncached(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | Promise<Buffer | undefined> | undefined {
    let q: DecodedPacket;
    if (!plausibleCounts(msg)) {
      this.stats.malformed++;
      return undefined;
    }
    try {
      q = packet.decode(msg);
    } catch {
      this.stats.malformed++;
      return undefined;
    }
    // Replies are never answered: that would let two servers bounce packets between them.
    if (q.flag_qr) {
      this.stats.malformed++;
      return undefined;
    }
    this.stats.queries++;
    try {
      return this.answer(q, msg, transport);
    } catch (e) {
      this.log(`answering ${q.questions?.[0]?.name ?? '?'}: ${(e as Error).message}`);
      return this.safeEncode(q, RCODE.SERVFAIL, transport);
    }
  }

  private answer(q: DecodedPacket, msg: Buffer, transport: 'udp' | 'tcp'): Buffer | Promise<Buffer | undefined> | undefined {
    if (((q.flags ?? 0) & OPCODE_MASK) !== 0) return this.reply(q, RCODE.NOTIMP, transport);
    const questions = q.questions ?? [];
    if (questions.length !== 1) return this.reply(q, RCODE.FORMERR, transport);
    const question = questions[0];
    if (question.class !== 'IN' && question.class !== 'ANY') return this.reply(q, RCODE.REFUSED, transport);
    const zone = this.opts.zone;
    const r = zone.lookup(question.name, question.type);
    switch (r.kind) {
      case 'forward':
        this.stats.forwarded++;
        return this.opts.forwarder.forward(msg, transport).then((reply) => reply ?? this.servfail(q, transport));
      case 'nxdomain':
        this.stats.nxdomain++;
        return this.reply(q, RCODE.NXDOMAIN, transport, [], [], [zone.soa()]);
      case 'nodata':
        return this.reply(q, RCODE.NOERROR, transport, [], [], [zone.soa()]);
      case 'answer':
        if (r.chase) return this.chase(q, r.answers, r.chase, question.type, transport);
        return this.reply(q, RCODE.NOERROR, transport, r.answers, r.additionals);
    }
  }

  /** An ExternalName's CNAME to a name outside the cluster: stub resolvers expect the chain resolved. */
  private async chase(q: DecodedPacket, answers: ZoneRecord[], target: string, type: string, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    this.stats.forwarded++;
    const ask = packet.encode({ type: 'query', id: 0, flags: packet.RECURSION_DESIRED, questions: [{ name: target, type: type as any, class: 'IN' }] });
    const reply = await this.opts.forwarder.forward(ask, 'udp');
    let more: Answer[] = [];
    if (reply) {
      try {
        more = (packet.decode(reply).answers ?? []).filter((a) => a.type !== 'OPT');
      } catch {
        // an undecodable upstream reply: answer with the CNAME alone
      }
    }
    return this.reply(q, RCODE.NOERROR, transport, [...(answers as Answer[]), ...more]);
  }

  private servfail(q: DecodedPacket, transport: 'udp' | 'tcp'): Buffer | undefined {
    this.stats.servfail++;
    return this.safeEncode(q, RCODE.SERVFAIL, transport);
  }

  private safeEncode(q: DecodedPacket, rcode: number, transport: 'udp' | 'tcp'): Buffer | undefined {
    try {
      return this.reply(q, rcode, transport);
    } catch {
      return undefined;
    }
  }

  private reply(q: DecodedPacket, rcode: number, transport: 'udp' | 'tcp', answers: ZoneRecord[] | Answer[] = [], additionals: ZoneRecord[] = [], authorities: ZoneRecord[] = []): Buffer {
    const opt = q.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
    const flags = ((q.flags ?? 0) & (OPCODE_MASK | packet.RECURSION_DESIRED | packet.CHECKING_DISABLED)) | packet.RECURSION_AVAILABLE | (rcode === RCODE.NOERROR || rcode === RCODE.NXDOMAIN ? packet.AUTHORITATIVE_ANSWER : 0) | rcode;
    const optOut: Answer[] = opt ? [{ type: 'OPT', name: '.', udpPayloadSize: MAX_UDP, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as OptAnswer] : [];
    const res: Packet = { type: 'response', id: q.id, flags, questions: q.questions, answers: answers as Answer[], additionals: [...(additionals as Answer[]), ...optOut], authorities: authorities as Answer[] };
    const out = packet.encode(res);
    const limit = transport === 'tcp' ? 65535 : opt ? Math.min(MAX_UDP, Math.max(512, opt.udpPayloadSize)) : 512;
    if (out.length <= limit) return out;
    this.stats.truncated++;
    return packet.encode({ ...res, flags: flags | packet.TRUNCATED_RESPONSE, answers: [], additionals: optOut, authorities: [] });
  }
}

/**
 * Whether the header's section counts could fit the packet: a question takes at least 5 bytes, a
 * record 11. dns-packet allocates arrays of the claimed sizes before reading; four counts of
 * 65535 in a 12-byte packet cost it about 10 ms each, a cheap flood. Checked before decoding.
 */
function plausibleCounts(msg: Buffer): boolean {
  if (msg.length < 12) return false;
  const qd = msg.readUInt16BE(4);
  const rr = msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10);
  return qd * 5 + rr * 11 <= msg.length - 12;
}
