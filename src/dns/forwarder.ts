// Forwarding of names outside the cluster to the node's resolvers: the client's query bytes go
// upstream under an ID of our own, the reply comes back under the client's. Upstreams are tried
// in order within one deadline; a refused port (ICMP, seen on a connected socket) moves on at
// once, a silent one after its share of the deadline. When none answers the caller gets
// undefined and replies SERVFAIL: a client is told, never left waiting (CoreDNS's forward does
// the same).

import dgram from 'node:dgram';
import net from 'node:net';
import { isIPv6 } from 'node:net';

export interface Upstream {
  address: string;
  port: number;
}

export interface ForwarderOptions {
  upstreams: Upstream[];
  /** Whole budget for one query over all upstreams (default 3 s, under a stub resolver's 5 s). */
  timeoutMs?: number;
  /** Queries in flight at once; beyond it a query fails at once (default 4096). */
  maxInFlight?: number;
  log?: (msg: string) => void;
}

interface Pending {
  resolve(reply: Buffer | undefined): void;
  clientId: number;
  timer: NodeJS.Timeout;
}

/** One connected UDP socket per upstream, with its own ID space. */
class UdpUpstream {
  private sock: dgram.Socket;
  private pending = new Map<number, Pending>();
  private nextId = Math.floor(Math.random() * 65536);
  private ready: Promise<void>;
  private closed = false;

  constructor(readonly up: Upstream) {
    this.sock = dgram.createSocket(isIPv6(up.address) ? 'udp6' : 'udp4');
    this.sock.on('message', (msg) => this.onReply(msg));
    // ECONNREFUSED (the upstream's port is closed) arrives as a socket error: fail what is in flight.
    this.sock.on('error', () => this.failAll());
    this.ready = new Promise((resolve) => this.sock.connect(up.port, up.address, () => resolve()));
    this.ready.catch(() => {});
  }

  get inFlight(): number {
    return this.pending.size;
  }

  async query(packet: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
    if (this.closed || packet.length < 12) return undefined;
    await this.ready;
    let id = this.nextId;
    for (let i = 0; i < 65536 && this.pending.has(id); i++) id = (id + 1) & 0xffff;
    if (this.pending.has(id)) return undefined;
    this.nextId = (id + 1) & 0xffff;
    const out = Buffer.from(packet);
    const clientId = out.readUInt16BE(0);
    out.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.finish(id, undefined), timeoutMs);
      this.pending.set(id, { resolve, clientId, timer });
      this.sock.send(out, (err) => {
        if (err) this.finish(id, undefined);
      });
    });
  }

  private onReply(msg: Buffer): void {
    if (msg.length < 12 || !(msg[2] & 0x80)) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    if (!p) return;
    const reply = Buffer.from(msg);
    reply.writeUInt16BE(p.clientId, 0);
    this.finish(msg.readUInt16BE(0), reply);
  }

  private finish(id: number, reply: Buffer | undefined): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(reply);
  }

  private failAll(): void {
    for (const id of [...this.pending.keys()]) this.finish(id, undefined);
  }

  close(): void {
    this.closed = true;
    this.failAll();
    try {
      this.sock.close();
    } catch {
      // already closed
    }
  }
}

/** One query over TCP (a truncated UDP answer's retry, or a TCP client's question). */
function tcpQuery(up: Upstream, packet: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: up.address, port: up.port });
    let buf = Buffer.alloc(0);
    const done = (reply: Buffer | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('close', () => done(undefined));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(packet.length);
      sock.write(Buffer.concat([len, packet]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
  });
}

export class Forwarder {
  private readonly udp: UdpUpstream[];
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private inFlight = 0;

  constructor(private readonly opts: ForwarderOptions) {
    this.udp = opts.upstreams.map((u) => new UdpUpstream(u));
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.maxInFlight = opts.maxInFlight ?? 4096;
  }

  get upstreams(): Upstream[] {
    return this.opts.upstreams;
  }

  /** The upstream's reply (ID restored to the client's), or undefined: answer SERVFAIL. */
  async forward(packet: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    if (!this.udp.length || this.inFlight >= this.maxInFlight) return undefined;
    this.inFlight++;
    try {
      const deadline = Date.now() + this.timeoutMs;
      for (let i = 0; i < this.udp.length; i++) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        // Each remaining upstream gets an equal share of what is left of the deadline.
        const budget = Math.max(1, Math.floor(left / (this.udp.length - i)));
        const reply = transport === 'udp' ? await this.udp[i].query(packet, budget) : await tcpQuery(this.udp[i].up, packet, budget);
        if (reply) return reply;
      }
      return undefined;
    } finally {
      this.inFlight--;
    }
  }

  close(): void {
    for (const u of this.udp) u.close();
  }
}
