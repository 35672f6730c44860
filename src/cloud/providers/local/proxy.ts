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

/** Per-connection read buffers: backend to client (most of the bytes) and client to backend. */
const DOWN_BUFFER_BYTES = 256 * 1024;
const UP_BUFFER_BYTES = 64 * 1024;

type OnRead = (n: number, buf: Uint8Array) => boolean;

/**
 * Write a chunk read into a reused buffer. If the socket could not take it all at once, the
 * pending write still points into that buffer: stop reading (return false) until it drains.
 */
function relayChunk(src: net.Socket, dst: net.Socket | undefined, buf: Uint8Array, n: number): boolean {
  if (!dst || dst.destroyed) return false;
  dst.write(buf.subarray(0, n));
  if (dst.writableLength === 0) return true;
  dst.once('drain', () => src.resume());
  src.pause();
  return false;
}

/**
 * An accepted socket that reads into `buffer` (no Buffer allocated per read, as with `onread` on
 * net.connect), paused. Node offers `onread` only for sockets it connects, so the accepted
 * socket's handle is moved to a new net.Socket made with it; undefined if this Node's sockets do
 * not look as expected (the caller then reads the accepted socket the ordinary way).
 */
function withReadBuffer(accepted: net.Socket, buffer: Uint8Array, callback: OnRead): net.Socket | undefined {
  const inner = accepted as unknown as { _handle?: { readStart?: unknown } | null };
  const handle = inner._handle;
  if (!handle || typeof handle.readStart !== 'function') return undefined;
  inner._handle = null;
  accepted.destroy(); // only the empty wrapper: its handle lives on in the new socket
  const s = new net.Socket({ handle, allowHalfOpen: true, readable: true, writable: true, onread: { buffer, callback } } as net.SocketConstructorOpts);
  s.pause();
  s.setNoDelay(true);
  return s;
}

/** One client connection and its backend connection, each direction read into a buffer of its own. */
class Connection {
  readonly client: net.Socket;
  private upstream?: net.Socket;
  private readonly down = Buffer.allocUnsafe(DOWN_BUFFER_BYTES);

  constructor(
    private readonly listener: TcpListener,
    accepted: net.Socket,
  ) {
    const client = withReadBuffer(accepted, Buffer.allocUnsafe(UP_BUFFER_BYTES), (n, buf) => relayChunk(this.client, this.upstream, buf, n));
    if (client) this.client = client;
    else {
      // Fallback: 'data' events, a Buffer per read.
      this.client = accepted;
      accepted.pause();
      accepted.on('data', (d: Buffer) => {
        if (this.upstream && !this.upstream.write(d)) {
          accepted.pause();
          this.upstream.once('drain', () => accepted.resume());
        }
      });
    }
    listener.track(this.client);
    this.client.on('error', () => {});
    this.client.once('close', () => {
      const up = this.upstream;
      if (up && !up.destroyed) (this.client.errored ? up.resetAndDestroy() : up.destroy());
    });
    this.connect(listener.rr.list.length);
  }

  /** Connect to the next backend; a refused one is skipped, up to one try per backend. */
  private connect(triesLeft: number): void {
    const b = triesLeft > 0 ? this.listener.rr.pick() : undefined;
    if (!b) {
      // No backend took it: refuse the connection as a balancer with no healthy target does.
      if (!this.client.destroyed) this.client.resetAndDestroy();
      return;
    }
    let connected = false;
    const upstream: net.Socket = net.connect({
      host: b.host,
      port: b.port,
      allowHalfOpen: true,
      noDelay: true,
      onread: { buffer: this.down, callback: (n, buf) => relayChunk(upstream, this.client, buf, n) },
    });
    this.upstream = upstream;
    this.listener.track(upstream);
    upstream.once('connect', () => {
      connected = true;
      if (this.client.destroyed) return upstream.destroy();
      this.client.once('end', () => upstream.end());
      upstream.once('end', () => this.client.end());
      this.client.resume();
    });
    upstream.on('error', () => {
      if (!connected) {
        upstream.destroy();
        if (!this.client.destroyed) this.connect(triesLeft - 1);
        return;
      }
      if (!this.client.destroyed) this.client.resetAndDestroy();
    });
  }
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
  readonly rr = new RoundRobin();
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly log: (m: string) => void = () => {},
  ) {
    // Half-open both ways: a client that shuts down its sending side still gets the answer.
    // Accepted sockets start paused: nothing is read before a backend has taken the connection.
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (client) => new Connection(this, client));
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

  /** Keep a socket for close(), until it closes. */
  track(s: net.Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
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
