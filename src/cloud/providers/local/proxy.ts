// The local load balancer's data path: a TCP and a UDP listener on ingressIP:port that forward to
// the Service's current backends, spreading new connections (and new UDP clients) round robin.
// Backends can be replaced at any time; connections already open stay where they are, UDP
// sessions to a removed backend are closed.

import dgram from 'node:dgram';
import net from 'node:net';

export interface Backend {
  host: string;
  port: number;
}

export interface Listener {
  readonly protocol: 'TCP' | 'UDP';
  readonly host: string;
  readonly port: number;
  /** Resolves once listening; rejects with the bind error (EADDRINUSE, EACCES, ...). */
  listen(): Promise<void>;
  setBackends(backends: Backend[]): void;
  backends(): Backend[];
  close(): Promise<void>;
}

const backendKey = (b: Backend) => `${b.host}:${b.port}`;

/** Per-connection read buffer for the backend-to-client direction. */
const RELAY_BUFFER_BYTES = 256 * 1024;

/**
 * Write a chunk read into a reused buffer. If the socket could not take it all at once, the
 * pending write still points into that buffer: stop reading (return false) until it drains.
 */
function relayChunk(src: net.Socket, dst: net.Socket, buf: Uint8Array, n: number): boolean {
  if (dst.destroyed) return false;
  dst.write(buf.subarray(0, n));
  if (dst.writableLength === 0) return true;
  dst.once('drain', () => src.resume());
  src.pause();
  return false;
}

/** Client-to-backend bytes: forward each chunk, with backpressure, and pass on the half-close. */
function relay(src: net.Socket, dst: net.Socket): void {
  src.on('data', (d: Buffer) => {
    if (!dst.write(d)) {
      src.pause();
      dst.once('drain', () => src.resume());
    }
  });
  src.once('end', () => dst.end());
}

/** Round-robin choice over a backend list that may be replaced between picks. */
class RoundRobin {
  list: Backend[] = [];
  private next = 0;

  set(list: Backend[]): void {
    this.list = list;
    if (this.next >= list.length) this.next = 0;
  }

  pick(): Backend | undefined {
    if (this.list.length === 0) return undefined;
    const b = this.list[this.next % this.list.length]!;
    this.next = (this.next + 1) % this.list.length;
    return b;
  }
}

export class TcpListener implements Listener {
  readonly protocol = 'TCP' as const;
  private readonly rr = new RoundRobin();
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly log: (m: string) => void = () => {},
  ) {
    // Half-open both ways: a client that shuts down its sending side still gets the answer.
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => this.accept(client));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.once('error', onError);
      this.server.listen({ host: this.host, port: this.port, exclusive: true }, () => {
        this.server.off('error', onError);
        this.server.on('error', (e) => this.log(`tcp ${this.host}:${this.port}: ${e.message}`));
        resolve();
      });
    });
  }

  setBackends(backends: Backend[]): void {
    this.rr.set(backends);
  }

  backends(): Backend[] {
    return this.rr.list;
  }

  private accept(client: net.Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => {});
    this.connect(client, this.rr.list.length);
  }

  /** Connect to the next backend; a refused one is skipped, up to one try per backend. */
  private connect(client: net.Socket, triesLeft: number): void {
    const b = triesLeft > 0 ? this.rr.pick() : undefined;
    if (!b) {
      // No backend took it: refuse the connection as a balancer with no healthy target does.
      if (!client.destroyed) client.resetAndDestroy();
      return;
    }
    // Backend-to-client bytes (the bulk of most traffic) are read into one buffer of this
    // connection's and written straight on, without a Buffer allocated per read.
    const readBuffer = Buffer.allocUnsafe(RELAY_BUFFER_BYTES);
    let connected = false;
    const upstream: net.Socket = net.connect({
      host: b.host,
      port: b.port,
      allowHalfOpen: true,
      noDelay: true,
      onread: { buffer: readBuffer, callback: (n, buf) => relayChunk(upstream, client, buf, n) },
    });
    this.sockets.add(upstream);
    upstream.on('close', () => this.sockets.delete(upstream));
    upstream.once('connect', () => {
      connected = true;
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      relay(client, upstream);
      upstream.once('end', () => client.end());
    });
    upstream.on('error', () => {
      if (!connected) {
        upstream.destroy();
        if (!client.destroyed) this.connect(client, triesLeft - 1);
        return;
      }
      if (!client.destroyed) client.resetAndDestroy();
    });
    client.once('close', () => {
      if (!upstream.destroyed) (client.errored ? upstream.resetAndDestroy() : upstream.destroy());
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
  }
}

interface UdpSession {
  upstream: dgram.Socket;
  backend: Backend;
  lastActive: number;
}

/**
 * UDP has no connections: each client address gets its own upstream socket to one backend (so
 * replies find their way back), closed after idleTimeoutMs without traffic.
 */
export class UdpListener implements Listener {
  readonly protocol = 'UDP' as const;
  private readonly rr = new RoundRobin();
  private readonly socket: dgram.Socket;
  private readonly sessions = new Map<string, UdpSession>();
  private sweep?: NodeJS.Timeout;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly idleTimeoutMs = 60_000,
    private readonly log: (m: string) => void = () => {},
  ) {
    this.socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    this.socket.on('message', (msg, rinfo) => this.forward(msg, rinfo));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.socket.once('error', onError);
      this.socket.bind({ address: this.host, port: this.port, exclusive: true }, () => {
        this.socket.off('error', onError);
        this.socket.on('error', (e) => this.log(`udp ${this.host}:${this.port}: ${e.message}`));
        this.sweep = setInterval(() => this.expire(), Math.max(100, Math.floor(this.idleTimeoutMs / 2)));
        this.sweep.unref();
        resolve();
      });
    });
  }

  setBackends(backends: Backend[]): void {
    this.rr.set(backends);
    const live = new Set(backends.map(backendKey));
    for (const [client, s] of this.sessions) if (!live.has(backendKey(s.backend))) this.endSession(client, s);
  }

  backends(): Backend[] {
    return this.rr.list;
  }

  private forward(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const client = `${rinfo.address}:${rinfo.port}`;
    let s = this.sessions.get(client);
    if (!s) {
      const backend = this.rr.pick();
      if (!backend) return; // nowhere to send it: dropped, as UDP does
      const upstream = dgram.createSocket('udp4');
      upstream.on('message', (reply) => {
        const cur = this.sessions.get(client);
        if (cur) cur.lastActive = Date.now();
        this.socket.send(reply, rinfo.port, rinfo.address);
      });
      upstream.on('error', () => this.endSession(client, s!));
      s = { upstream, backend, lastActive: Date.now() };
      this.sessions.set(client, s);
    }
    s.lastActive = Date.now();
    s.upstream.send(msg, s.backend.port, s.backend.host);
  }

  private endSession(client: string, s: UdpSession): void {
    if (this.sessions.get(client) !== s) return;
    this.sessions.delete(client);
    try {
      s.upstream.close();
    } catch {
      // already closed
    }
  }

  private expire(): void {
    const cutoff = Date.now() - this.idleTimeoutMs;
    for (const [client, s] of this.sessions) if (s.lastActive < cutoff) this.endSession(client, s);
  }

  /** Open client sessions (for tests and diagnostics). */
  sessionCount(): number {
    return this.sessions.size;
  }

  close(): Promise<void> {
    clearInterval(this.sweep);
    for (const [client, s] of this.sessions) this.endSession(client, s);
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // never bound
      }
    });
  }
}
