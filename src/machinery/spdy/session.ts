// A SPDY/3.1 connection carrying many streams, as Kubernetes uses it for exec, attach and
// port-forward (Go's moby/spdystream behind k8s.io/apimachinery's httpstream/spdy). Either end may
// use it: the client opens odd-numbered streams, the server even-numbered ones.
//
// Flow control follows spdystream, the only peer this talks to: it never sends WINDOW_UPDATE and
// ignores the ones it receives, and relies on TCP instead. So does this session: no send window is
// enforced, and when a stream's reader falls behind, reading from the socket pauses until that
// stream is read again (one slow stream holds up the connection, as in spdystream, whose frame
// workers block on an unbuffered channel).

import { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import { FrameReader, FrameWriter, GoAwayStatus, RstStatus, type Frame, type OutFrame } from './frames.ts';
import type { SpdyHeaders, SpdyHeadersInit } from './header-block.ts';

export interface SpdySessionOptions {
  /** True on the end that accepted the connection: its streams and pings are even-numbered. */
  server: boolean;
  /** Bytes already read from the socket past the HTTP upgrade. */
  head?: Buffer;
  /**
   * Answer every stream the peer opens with an empty SYN_REPLY before announcing it, as
   * apimachinery's server does (default true). Without it, call stream.reply() or stream.refuse().
   */
  autoReply?: boolean;
  /** Largest DATA payload written in one frame; bigger writes are split. */
  maxDataFrame?: number;
}

/** Events: 'stream' (SpdyStream opened by the peer), 'goaway' (frame), 'close' (Error | undefined). */
export class SpdySession extends EventEmitter {
  readonly server: boolean;
  private readonly socket: Duplex;
  private readonly writer: FrameWriter;
  private readonly reader: FrameReader;
  private readonly streams = new Map<number, SpdyStream>();
  private readonly autoReply: boolean;
  private readonly maxDataFrame: number;
  private nextStreamId: number;
  private lastPeerStreamId = 0;
  private nextPingId: number;
  private readonly pings = new Map<number, { resolve: (ms: number) => void; reject: (e: Error) => void; sent: number }>();
  private drainWaiters: Array<() => void> = [];
  /** The stream whose full buffer paused reading from the socket, if any. */
  private blockedOn?: SpdyStream;
  private sentGoAway = false;
  /** The peer sent GOAWAY: it accepts no new streams. */
  peerGoneAway = false;
  closed = false;
  private closeError?: Error;

  constructor(socket: Duplex, opts: SpdySessionOptions) {
    super();
    this.server = opts.server;
    this.socket = socket;
    this.autoReply = opts.autoReply ?? true;
    this.maxDataFrame = opts.maxDataFrame ?? 64 * 1024;
    this.nextStreamId = opts.server ? 2 : 1;
    this.nextPingId = opts.server ? 2 : 1;
    this.writer = new FrameWriter((parts) => this.writeParts(parts));
    this.reader = new FrameReader(
      (f) => this.onFrame(f),
      (e) => this.protocolError(e),
    );
    if ('setNoDelay' in socket && typeof (socket as any).setNoDelay === 'function') (socket as any).setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // Frames already received may still wait for a header block: hand them over before closing.
    socket.on('end', () => this.reader.whenIdle(() => this.finish()));
    socket.on('close', () => this.reader.whenIdle(() => this.finish()));
    socket.on('error', (e) => this.finish(e));
    socket.on('drain', () => {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    });
    if (opts.head?.length) queueMicrotask(() => this.onData(opts.head!));
  }

  /** Open a stream to the peer (SYN_STREAM with these headers). Data may be written at once. */
  createStream(headers: SpdyHeadersInit, opts: { fin?: boolean; priority?: number } = {}): SpdyStream {
    if (this.closed) throw new Error('the SPDY connection is closed');
    if (this.peerGoneAway || this.sentGoAway) throw new Error('the SPDY connection is going away');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new SpdyStream(this, id, lowerCaseHeaders(headers), true);
    this.streams.set(id, stream);
    this.send({ type: 'syn_stream', streamId: id, headers, fin: opts.fin, priority: opts.priority ?? 0 });
    if (opts.fin) stream.markLocalFinished();
    return stream;
  }

  /** Round trip time of a PING, in milliseconds. */
  ping(): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the SPDY connection is closed'));
    const id = this.nextPingId;
    this.nextPingId = this.nextPingId + 2 > 0x7fffffff ? (this.server ? 2 : 1) : this.nextPingId + 2;
    return new Promise((resolve, reject) => {
      this.pings.set(id, { resolve, reject, sent: performance.now() });
      this.send({ type: 'ping', id });
    });
  }

  /** Tell the peer no new streams will be accepted. */
  goAway(status: number = GoAwayStatus.Ok): void {
    if (this.sentGoAway || this.closed) return;
    this.sentGoAway = true;
    this.send({ type: 'goaway', lastGoodStreamId: this.lastPeerStreamId, status });
  }

  /**
   * End the connection as apimachinery's Close does: reset every stream this side still writes
   * to, send GOAWAY, and close the socket once what was written has been flushed.
   */
  close(): void {
    if (this.closed) return;
    for (const s of [...this.streams.values()]) if (!s.localFinished) s.reset(RstStatus.Cancel);
    this.goAway();
    this.writer.after(() => this.socket.end());
  }

  /** Drop the connection at once. */
  destroy(err?: Error): void {
    this.socket.destroy();
    this.finish(err);
  }

  get openStreams(): number {
    return this.streams.size;
  }

  // ---- used by SpdyStream ----

  /** @internal Queue a frame (frames reach the socket in the order they were sent). */
  send(f: OutFrame, done?: (ok: boolean) => void): void {
    if (this.closed) return done?.(false);
    this.writer.write(f, done);
  }

  private writeParts(parts: Buffer[]): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return true;
    if (parts.length === 1) return this.socket.write(parts[0]);
    this.socket.cork();
    let ok = true;
    for (const p of parts) ok = this.socket.write(p);
    this.socket.uncork();
    return ok;
  }

  /** @internal DATA frames for a stream; cb runs once the socket accepts more. */
  sendData(id: number, data: Buffer, fin: boolean, cb: () => void): void {
    const last = (ok: boolean) => {
      if (ok || this.closed || this.socket.destroyed) cb();
      else this.drainWaiters.push(cb);
    };
    if (data.length === 0) return this.send({ type: 'data', streamId: id, fin, data }, last);
    for (let o = 0; o < data.length; o += this.maxDataFrame) {
      const end = Math.min(data.length, o + this.maxDataFrame);
      this.send({ type: 'data', streamId: id, fin: fin && end === data.length, data: data.subarray(o, end) }, end === data.length ? last : undefined);
    }
  }

  /** @internal */
  forget(stream: SpdyStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    if (this.blockedOn === stream) this.unblock();
  }

  /** @internal The stream's reader wants more: resume the socket if that stream paused it. */
  readMore(stream: SpdyStream): void {
    if (this.blockedOn === stream) this.unblock();
  }

  private unblock(): void {
    this.blockedOn = undefined;
    if (!this.closed) this.socket.resume();
  }

  // ---- receiving ----

  private onData(chunk: Buffer): void {
    if (!this.closed) this.reader.push(chunk);
  }

  private protocolError(e: Error): void {
    if (this.closed) return;
    if (!this.sentGoAway) {
      this.sentGoAway = true;
      this.send({ type: 'goaway', lastGoodStreamId: this.lastPeerStreamId, status: GoAwayStatus.ProtocolError });
    }
    this.writer.after(() => this.socket.end());
    this.finish(new Error(`SPDY protocol error: ${e.message}`), false);
  }

  private onFrame(f: Frame): void {
    if (this.closed) return;
    switch (f.type) {
      case 'syn_stream': {
        const peerParity = this.server ? 1 : 0;
        if (f.streamId % 2 !== peerParity || f.streamId <= this.lastPeerStreamId) {
          this.send({ type: 'rst_stream', streamId: f.streamId, status: RstStatus.ProtocolError });
          return;
        }
        this.lastPeerStreamId = f.streamId;
        if (this.sentGoAway) return;
        const stream = new SpdyStream(this, f.streamId, f.headers, false);
        this.streams.set(f.streamId, stream);
        if (this.autoReply) stream.reply();
        if (f.fin) stream.remoteFinish();
        if (f.unidirectional) stream.markLocalFinished();
        this.emit('stream', stream);
        return;
      }
      case 'syn_reply': {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        s.onReply(f.headers);
        if (f.fin) s.remoteFinish();
        return;
      }
      case 'headers': {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        s.emit('headers', f.headers);
        if (f.fin) s.remoteFinish();
        return;
      }
      case 'data': {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        if (f.data.length && !s.deliver(f.data) && !this.blockedOn) {
          this.blockedOn = s;
          this.socket.pause();
        }
        if (f.fin) s.remoteFinish();
        return;
      }
      case 'rst_stream': {
        const s = this.streams.get(f.streamId);
        if (s) s.remoteReset(f.status);
        return;
      }
      case 'ping': {
        const mine = f.id % 2 === (this.server ? 0 : 1);
        if (!mine) {
          this.send({ type: 'ping', id: f.id });
          return;
        }
        const p = this.pings.get(f.id);
        if (p) {
          this.pings.delete(f.id);
          p.resolve(performance.now() - p.sent);
        }
        return;
      }
      case 'goaway':
        this.peerGoneAway = true;
        this.emit('goaway', f);
        return;
      case 'settings':
      case 'window_update':
      case 'unknown':
        // No flow control or settings to honour (see the header comment).
        return;
    }
  }

  private finish(err?: Error, endSocket = true): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = err;
    for (const s of [...this.streams.values()]) s.connectionClosed();
    this.streams.clear();
    for (const p of this.pings.values()) p.reject(err ?? new Error('the SPDY connection closed'));
    this.pings.clear();
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
    this.reader.close();
    if (endSocket) {
      this.writer.close();
      if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.end();
    } else this.writer.after(() => this.writer.close());
    this.emit('close', err);
  }

  /** Why the connection ended, when it ended badly. */
  get error(): Error | undefined {
    return this.closeError;
  }
}

function lowerCaseHeaders(h: SpdyHeadersInit): SpdyHeaders {
  const out: SpdyHeaders = Object.create(null);
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = Array.isArray(v) ? v : [v];
  return out;
}

/**
 * One stream: a Duplex whose readable side is the peer's DATA and whose writable side sends DATA.
 * end() half-closes (DATA with FIN); reset() sends RST_STREAM. A RST from the peer, or the
 * connection closing, ends the readable side (EOF, as spdystream's readers see it) and drops
 * later writes. Events besides the Duplex ones: 'reply' (headers), 'headers', 'reset' (status).
 */
export class SpdyStream extends Duplex {
  readonly id: number;
  /** SYN_STREAM headers: ours for a stream we opened, the peer's for one it opened. */
  readonly headers: SpdyHeaders;
  /** SYN_REPLY headers once replied. */
  replyHeaders?: SpdyHeaders;
  readonly local: boolean;
  localFinished = false;
  remoteFinished = false;
  /** Reset by either side, or cut by the connection closing. */
  aborted = false;
  private replied = false;
  private readonly session: SpdySession;

  constructor(session: SpdySession, id: number, headers: SpdyHeaders, local: boolean) {
    // A generous buffer per stream: reading the connection pauses only when a reader lags this far.
    super({ allowHalfOpen: true, emitClose: true, readableHighWaterMark: 256 * 1024 });
    this.session = session;
    this.id = id;
    this.headers = headers;
    this.local = local;
  }

  /** First value of a header of the SYN_STREAM, case-insensitively. */
  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  /** Answer a stream the peer opened. */
  reply(headers: SpdyHeadersInit = {}, fin = false): void {
    if (this.local || this.replied || this.aborted) return;
    this.replied = true;
    this.session.send({ type: 'syn_reply', streamId: this.id, headers, fin });
    if (fin) this.markLocalFinished();
  }

  /** Decline a stream the peer opened. */
  refuse(): void {
    if (this.replied) return;
    this.replied = true;
    this.reset(RstStatus.RefusedStream);
  }

  /** Send extra headers (HEADERS frame). */
  sendHeaders(headers: SpdyHeadersInit, fin = false): void {
    if (this.aborted || this.localFinished) return;
    this.session.send({ type: 'headers', streamId: this.id, headers, fin });
    if (fin) this.markLocalFinished();
  }

  /** Abort the stream in both directions (RST_STREAM). */
  reset(status: number = RstStatus.Cancel): void {
    if (this.aborted) return;
    this.aborted = true;
    if (!(this.localFinished && this.remoteFinished)) this.session.send({ type: 'rst_stream', streamId: this.id, status });
    this.localFinished = true;
    this.endReadable();
    this.session.forget(this);
  }

  _read(): void {
    this.session.readMore(this);
  }

  _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.aborted || this.localFinished || this.session.closed) return cb();
    this.session.sendData(this.id, chunk, false, () => cb());
  }

  _final(cb: (err?: Error | null) => void): void {
    if (this.aborted || this.localFinished || this.session.closed) return cb();
    this.markLocalFinished();
    this.session.sendData(this.id, Buffer.alloc(0), true, () => cb());
  }

  _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.aborted && !(this.localFinished && this.remoteFinished) && !this.session.closed) this.reset(RstStatus.Cancel);
    this.session.forget(this);
    cb(err);
  }

  /** @internal */
  markLocalFinished(): void {
    this.localFinished = true;
    if (this.remoteFinished) this.session.forget(this);
  }

  /** @internal Returns false when the reader's buffer is full. */
  deliver(data: Buffer): boolean {
    if (this.remoteFinished || this.aborted || this.destroyed) return true;
    return this.push(data);
  }

  /** @internal */
  onReply(headers: SpdyHeaders): void {
    if (this.replied) return;
    this.replied = true;
    this.replyHeaders = headers;
    this.emit('reply', headers);
  }

  /** @internal The peer half-closed. */
  remoteFinish(): void {
    if (this.remoteFinished) return;
    this.endReadable();
    if (this.localFinished) this.session.forget(this);
  }

  /** @internal */
  remoteReset(status: number): void {
    if (this.aborted) return;
    this.aborted = true;
    this.localFinished = true;
    this.endReadable();
    this.session.forget(this);
    this.emit('reset', status);
  }

  /** @internal */
  connectionClosed(): void {
    if (!(this.localFinished && this.remoteFinished)) this.aborted = true;
    this.localFinished = true;
    this.endReadable();
  }

  private endReadable(): void {
    if (this.remoteFinished) return;
    this.remoteFinished = true;
    if (!this.destroyed) this.push(null);
  }
}
