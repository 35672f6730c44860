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
 * the whole pooled slab under it). `acks` (client to server only): pairs of a stream id and how many
 * of its bytes the client has read, so the server knows what a stream has waiting (see ACK_BYTES).
 */
interface Batch {
  ids: number[];
  lengths: number[];
  bytes: Uint8Array;
  acks?: number[];
}

/**
 * The client tells the server once it has read this many bytes of a stream: the server counts a
 * stream's unread bytes as it counts a socket's unsent ones, so a watcher whose thread falls behind
 * is closed at the same limit as on a socket instead of filling the port's queue without bound.
 */
export const ACK_BYTES = 256 * 1024;

/** The end of a port that batches what its streams write and routes what arrives to them. */
class PortEnd {
  private ids: number[] = [];
  private lengths: number[] = [];
  private parts: Uint8Array[] = [];
  private acks: number[] = [];
  private size = 0;
  private flushing = false;

  constructor(
    protected readonly port: MessagePort,
    onFrame: (id: number, data: Buffer | null) => void,
    onAck?: (id: number, bytes: number) => void,
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
      if (b.acks && onAck) for (let i = 0; i < b.acks.length; i += 2) onAck(b.acks[i]!, b.acks[i + 1]!);
    });
  }

  /** One frame of a stream: its bytes in one or more parts (a corked stream's writes), or null to close it. */
  send(id: number, data: Uint8Array | readonly Uint8Array[] | null): void {
    this.ids.push(id);
    if (!data) this.lengths.push(-1);
    else if (data instanceof Uint8Array) {
      this.parts.push(data);
      this.lengths.push(data.byteLength);
      this.size += data.byteLength;
    } else {
      let n = 0;
      for (const d of data) {
        this.parts.push(d);
        n += d.byteLength;
      }
      this.lengths.push(n);
      this.size += n;
    }
    this.schedule();
  }

  /** Tell the other end that `bytes` more of stream `id` were read. */
  ack(id: number, bytes: number): void {
    this.acks.push(id, bytes);
    this.schedule();
  }

  private schedule(): void {
    if (this.flushing) return;
    this.flushing = true;
    // After this turn's I/O callbacks: everything the turn wrote goes in one message.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushing = false;
    // One copy of each part (a watch event's frame is shared by its watchers and cannot move).
    const bytes = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.parts) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    const batch: Batch = { ids: this.ids, lengths: this.lengths, bytes };
    if (this.acks.length) batch.acks = this.acks;
    this.ids = [];
    this.lengths = [];
    this.parts = [];
    this.acks = [];
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
      if (!data) return s.closedByPeer();
      s.emit('data', data);
      // Read (the 'data' listeners ran): past ACK_BYTES, the server hears of it.
      s.unacked += data.byteLength;
      if (s.unacked >= ACK_BYTES && !s.isClosed) {
        this.ack(id, s.unacked);
        s.unacked = 0;
      }
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
  /** Bytes read and not yet acknowledged to the server. */
  unacked = 0;

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

  get isClosed(): boolean {
    return this.closed;
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
  const end: PortEnd = new PortEnd(
    port,
    (id, data) => {
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
    },
    (id, bytes) => streams.get(id)?.acked(bytes),
  );
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

  /** Bytes sent that the client has not said it read (see ACK_BYTES). */
  unread = 0;

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.touch();
    this.unread += chunk.byteLength;
    this.portEnd.send(this.id, chunk);
    cb();
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (e?: Error | null) => void): void {
    this.touch();
    // A corked watch's frames: one frame of several parts, copied once into the turn's message.
    const parts = chunks.map((c) => c.chunk);
    for (const p of parts) this.unread += p.byteLength;
    this.portEnd.send(this.id, parts);
    cb();
  }

  /** @internal the client read `bytes` more. */
  acked(bytes: number): void {
    this.unread = Math.max(0, this.unread - bytes);
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

// What a writer sees as buffered: its own queue and what the client has not read yet, as a
// socket's writableLength plus the kernel's buffer (the watch handler closes a watcher past a limit).
const duplexWritableLength = Object.getOwnPropertyDescriptor(Duplex.prototype, 'writableLength')!.get!;
Object.defineProperty(ServerPortStream.prototype, 'writableLength', {
  get(this: ServerPortStream) {
    return (duplexWritableLength.call(this) as number) + this.unread;
  },
});
