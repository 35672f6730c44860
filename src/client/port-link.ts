// Byte streams between two threads of one process over a MessagePort, as many as are opened,
// standing in for connections to the API server's private Unix socket. What goes through them is
// the same HTTP/1.1 the socket carries (the server parses and answers it with its own handler),
// but each thread hands over everything its streams wrote in one turn of its event loop as one
// message: one wake-up of the other thread per turn, not one socket write and wake-up per
// request and per answer (docs/scale.md, "Components over a MessagePort").

import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import type { MessagePort } from 'node:worker_threads';

/**
 * One message: the stream ids, each frame's length (-1: that side closed the stream), and every
 * frame's bytes in one buffer that is transferred, not copied (a Buffer's view would be cloned with
 * the whole pooled slab under it).
 */
interface Batch {
  ids: number[];
  lengths: number[];
  bytes: Uint8Array;
}

/** The end of a port that batches what its streams write and routes what arrives to them. */
class PortEnd {
  private ids: number[] = [];
  private chunks: (Uint8Array | null)[] = [];
  private size = 0;
  private flushing = false;

  constructor(
    protected readonly port: MessagePort,
    onFrame: (id: number, data: Buffer | null) => void,
  ) {
    port.on('message', (b: Batch) => {
      let at = 0;
      for (let i = 0; i < b.ids.length; i++) {
        const n = b.lengths[i]!;
        if (n < 0) {
          onFrame(b.ids[i]!, null);
          continue;
        }
        onFrame(b.ids[i]!, Buffer.from(b.bytes.buffer, b.bytes.byteOffset + at, n));
        at += n;
      }
    });
  }

  send(id: number, data: Uint8Array | null): void {
    this.ids.push(id);
    this.chunks.push(data);
    if (data) this.size += data.byteLength;
    if (this.flushing) return;
    this.flushing = true;
    // After this turn's I/O callbacks: everything the turn wrote goes in one message.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushing = false;
    const bytes = new Uint8Array(this.size);
    const lengths: number[] = [];
    let at = 0;
    for (const c of this.chunks) {
      if (!c) {
        lengths.push(-1);
        continue;
      }
      bytes.set(c, at);
      at += c.byteLength;
      lengths.push(c.byteLength);
    }
    const batch: Batch = { ids: this.ids, lengths, bytes };
    this.ids = [];
    this.chunks = [];
    this.size = 0;
    this.port.postMessage(batch, [bytes.buffer]);
  }
}

/**
 * The client's end: `connect()` gives a stream with the little of net.Socket that Http1Pool uses
 * (write, destroy, ref/unref, 'data', 'close', 'error').
 */
export class PortConnector extends PortEnd {
  private readonly streams = new Map<number, PortSocket>();
  private nextId = 1;
  /** Streams that keep the thread alive (busy ones; the pool unrefs idle ones). */
  private refs = 0;

  constructor(port: MessagePort) {
    super(port, (id, data) => {
      const s = this.streams.get(id);
      if (!s) return;
      if (data) s.emit('data', data);
      else s.closedByPeer();
    });
    port.unref();
  }

  connect(): PortSocket {
    const s = new PortSocket(this, this.nextId++);
    this.streams.set(s.id, s);
    this.ref(1);
    return s;
  }

  /** @internal */
  forget(s: PortSocket): void {
    this.streams.delete(s.id);
  }

  /** @internal */
  ref(delta: number): void {
    const before = this.refs;
    this.refs += delta;
    if (before === 0 && this.refs > 0) this.port.ref();
    else if (before > 0 && this.refs === 0) this.port.unref();
  }

  close(): void {
    for (const s of [...this.streams.values()]) s.destroy();
    this.port.close();
  }
}

export class PortSocket extends EventEmitter {
  private closed = false;
  private refd = true;

  constructor(
    private readonly link: PortConnector,
    readonly id: number,
  ) {
    super();
  }

  write(data: string | Uint8Array, encoding: BufferEncoding = 'utf8'): boolean {
    if (this.closed) return false;
    const b = typeof data === 'string' ? Buffer.from(data, encoding) : data;
    this.link.send(this.id, b);
    return true;
  }

  destroy(): void {
    if (this.closed) return;
    this.link.send(this.id, null);
    this.finish();
  }

  /** The server ended the stream (its keep-alive timeout, `Connection: close`). */
  closedByPeer(): void {
    if (!this.closed) this.finish();
  }

  private finish(): void {
    this.closed = true;
    this.unref();
    this.link.forget(this);
    queueMicrotask(() => this.emit('close'));
  }

  setNoDelay(): this {
    return this;
  }

  ref(): this {
    if (!this.refd && !this.closed) {
      this.refd = true;
      this.link.ref(1);
    }
    return this;
  }

  unref(): this {
    if (this.refd) {
      this.refd = false;
      this.link.ref(-1);
    }
    return this;
  }
}

/**
 * The server's end: each stream the client opens is handed to `accept` as a Duplex, as a
 * listening socket hands over connections (`httpServer.emit('connection', duplex)`).
 */
export function acceptPortStreams(port: MessagePort, accept: (stream: Duplex) => void): { close(): void } {
  const streams = new Map<number, ServerPortStream>();
  /** The client numbers its streams 1, 2, 3, ...: the highest opened so far. */
  let lastId = 0;
  const end: PortEnd = new PortEnd(port, (id, data) => {
    let s = streams.get(id);
    if (!data) {
      if (s) {
        s.peerClosed = true;
        s.push(null);
        s.destroy();
      }
      return;
    }
    if (!s) {
      // Bytes for a stream this side closed already (a request sent as the server's keep-alive
      // timeout ended it) are dropped, as the kernel drops them on a closed socket: the client
      // sees the close and sends the request again; serving it here too would run it twice.
      if (id <= lastId) return;
      lastId = id;
      s = new ServerPortStream(end, id, () => streams.delete(id));
      streams.set(id, s);
      accept(s);
    }
    s.touch();
    s.push(data);
  });
  // The server's listening sockets keep its thread alive, not this port.
  port.unref();
  const close = () => {
    for (const s of streams.values()) s.destroy();
    port.close();
  };
  // The other end's thread gone (a components worker that died and is started again with a new
  // port): its streams end here too instead of waiting for the keep-alive timeout.
  port.once('close', close);
  return { close };
}

/** A stream as the HTTP server sees it: a Duplex with the socket methods it calls. */
class ServerPortStream extends Duplex {
  peerClosed = false;
  private timer?: NodeJS.Timeout;
  private timeoutMs = 0;

  constructor(
    private readonly portEnd: PortEnd,
    private readonly id: number,
    private readonly forget: () => void,
  ) {
    super({ allowHalfOpen: false });
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.touch();
    this.portEnd.send(this.id, chunk);
    cb();
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (e?: Error | null) => void): void {
    this.touch();
    this.portEnd.send(this.id, chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)));
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    clearTimeout(this.timer);
    this.forget();
    if (!this.peerClosed) this.portEnd.send(this.id, null);
    cb(err);
  }

  override _final(cb: (e?: Error | null) => void): void {
    // The server ended its side (e.g. `Connection: close`): the client's socket closes.
    this.destroy();
    cb();
  }

  /** Idle timeout as net.Socket's: 'timeout' after ms without reads or writes. */
  setTimeout(ms: number, onTimeout?: () => void): this {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timeoutMs = ms;
    if (onTimeout) this.once('timeout', onTimeout);
    if (ms > 0) {
      this.timer = setTimeout(() => this.emit('timeout'), ms);
      this.timer.unref();
    }
    return this;
  }

  /** @internal activity: restart the idle timer. */
  touch(): void {
    if (this.timer && this.timeoutMs > 0) this.timer.refresh();
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}
