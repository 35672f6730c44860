// Unary gRPC calls to etcd on an HTTP/2 connection of our own (RFC 9113), one net/tls socket per
// member: what the store's reads and writes go through. node:http2 spends about 0.17 ms of the
// main thread per call on its stream object (an AsyncResource, a Duplex, header objects, four
// events), which was most of what an etcd create cost the API server beyond a SQLite one
// (docs/design.md, "Creates on etcd"). A unary call needs much less of HTTP/2: a HEADERS frame
// built once per method (hpack.ts), DATA frames within the peer's flow-control windows, and the
// answer's HEADERS, DATA and trailers. The Watch stream stays on node:http2 (grpc-transport.ts):
// one long-lived stream costs nothing per call.
//
// What is handled: SETTINGS (initial window, frame size, concurrent streams), flow control both
// ways, PING (answered; sent as a keepalive while calls wait), GOAWAY (calls the server did not
// take fail as never sent, the others finish; new calls go to a new connection), RST_STREAM,
// CONTINUATION, padding, and deadlines (RST_STREAM CANCEL). Frames are written once per event-loop
// turn, many calls in one socket write, as node:http2 does.
//
// The kubelet's CRI client uses it too (src/kubelet/cri/h2-unary.ts), to containerd's unix socket:
// hence `socketPath`, the grpc-timeout header (`sendDeadline`), `unrefWhenIdle`, `maxReceiveBytes`
// and aborts. Beside node:http2's per-call objects, its reads do not keep node:http2's 64 KB read
// buffers alive (a session's DATA chunks are views into one 64 KB ArrayBuffer per socket read;
// a net socket's read buffer is cut to what was read).

import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import { GrpcCallError, GrpcCode, grpcTimeout } from '../../machinery/grpc-unary.ts';
import { encodeHeaderBlock, HpackDecoder, type HeaderList } from './hpack.ts';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const enum T {
  DATA = 0,
  HEADERS = 1,
  RST_STREAM = 3,
  SETTINGS = 4,
  PUSH_PROMISE = 5,
  PING = 6,
  GOAWAY = 7,
  WINDOW_UPDATE = 8,
  CONTINUATION = 9,
}
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;
const REFUSED_STREAM = 0x7;
const CANCEL = 0x8;

/** What we let etcd send before it must wait for a WINDOW_UPDATE: a stream (one answer) and the connection. */
const STREAM_WINDOW = 16 * 1024 * 1024;
const CONN_WINDOW = 1024 * 1024 * 1024;
const MAX_STREAM_ID = 2 ** 31 - 1;

export interface H2UnaryOptions {
  /** http://host:port or https://host:port (with socketPath: only the :authority sent, e.g. http://localhost) */
  origin: string;
  tls?: ConnectionOptions;
  /** Connect to this unix socket instead of origin's host and port (no TLS). */
  socketPath?: string;
  /** Tell the server each call's deadline (grpc-timeout), so it stops working on a call given up. */
  sendDeadline?: boolean;
  /** Only calls in flight keep the process alive. */
  unrefWhenIdle?: boolean;
  /** An answer larger than this fails with RESOURCE_EXHAUSTED (default: no limit). */
  maxReceiveBytes?: number;
  /** While calls wait, ping when nothing has been read for this long; drop the connection when the ping is not answered within keepaliveTimeoutMs. */
  keepaliveMs?: number;
  keepaliveTimeoutMs?: number;
}

interface Call {
  id: number;
  /** The request's HPACK header block (one per method). */
  block: Buffer;
  /** The framed gRPC message and how much of it has been sent. */
  payload: Buffer;
  sent: number;
  sendWindow: number;
  /** The flush (Session.flushes) that carries the call's HEADERS: once past it, etcd may have it. */
  flushNo: number;
  timer: NodeJS.Timeout | undefined;
  resolve: (b: Buffer) => void;
  reject: (e: GrpcCallError) => void;
  chunks: Buffer[];
  received: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  unackedBytes: number;
  gotHeaders: boolean;
  httpStatus: number;
  status: { code: number; message: string } | undefined;
}

function frameHeader(length: number, type: number, flags: number, id: number): Buffer {
  const h = Buffer.allocUnsafe(9);
  h.writeUIntBE(length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(id, 5);
  return h;
}

function u32Frame(type: number, flags: number, id: number, v: number): Buffer {
  const f = frameHeader(4, type, flags, id);
  return Buffer.concat([f, Buffer.from([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255])]);
}

function statusOf(h: HeaderList): { code: number; message: string } | undefined {
  let code: string | undefined;
  let raw = '';
  for (const [n, v] of h) {
    if (n === 'grpc-status') code = v;
    else if (n === 'grpc-message') raw = v;
  }
  if (code === undefined) return undefined;
  let message = raw;
  try {
    message = decodeURIComponent(raw);
  } catch {
    // not percent-encoded after all
  }
  return { code: Number(code), message };
}

/** One connection. Once it fails or the server sends GOAWAY, it takes no new calls (the channel makes another). */
class Session {
  private readonly socket: net.Socket;
  private readonly decoder = new HpackDecoder();
  private readonly calls = new Map<number, Call>();
  /** Calls waiting for the server's concurrent-stream limit. */
  private readonly waiting: Call[] = [];
  /** Calls with DATA left to send (flow control). */
  private readonly sending: Call[] = [];
  private out: Buffer[] = [];
  private flushScheduled = false;
  private flushes = 0;
  private rbuf: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private connected = false;
  private failed: Error | undefined;
  private draining = false;
  private connSendWindow = 65_535;
  private peerInitialWindow = 65_535;
  private peerMaxFrame = 16_384;
  private peerMaxStreams = Infinity;
  private connRecvUnacked = 0;
  /** A header block split over CONTINUATION frames. */
  private cont: { id: number; parts: Buffer[]; endStream: boolean } | undefined;
  private lastRead = Date.now();
  private pinger: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;

  constructor(
    o: H2UnaryOptions,
    host: string,
    port: number,
    private readonly onGone: (s: Session) => void,
    private readonly maxReceiveBytes = Infinity,
    private readonly unrefWhenIdle = false,
  ) {
    const secure = !o.socketPath && o.origin.startsWith('https:');
    this.socket = o.socketPath ? net.connect(o.socketPath) : secure ? tls.connect({ ...(o.tls ?? {}), host, port, ALPNProtocols: ['h2'] }) : net.connect({ host, port });
    if (!o.socketPath) this.socket.setNoDelay(true);
    if (o.unrefWhenIdle) this.socket.unref();
    this.socket.on(secure ? 'secureConnect' : 'connect', () => {
      if (secure && (this.socket as tls.TLSSocket).alpnProtocol !== 'h2') return this.destroy(new Error('the server did not agree to HTTP/2 (ALPN)'));
      this.connected = true;
    });
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (e) => this.destroy(e));
    this.socket.on('close', () => this.destroy(new Error('the connection closed')));
    // Preface, our settings (no push; each answer may be STREAM_WINDOW bytes) and the connection window.
    const settings = Buffer.alloc(12);
    settings.writeUInt16BE(0x2, 0);
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(0x4, 6);
    settings.writeUInt32BE(STREAM_WINDOW, 8);
    this.queue(PREFACE, frameHeader(12, T.SETTINGS, 0, 0), settings, u32Frame(T.WINDOW_UPDATE, 0, 0, CONN_WINDOW - 65_535));
    const every = o.keepaliveMs ?? 0;
    if (every > 0) {
      this.pinger = setInterval(() => this.keepalive(every, o.keepaliveTimeoutMs ?? 5_000), Math.max(100, every / 2));
      this.pinger.unref();
    }
  }

  get usable(): boolean {
    return !this.failed && !this.draining && this.nextId < MAX_STREAM_ID;
  }

  call(block: Buffer, payload: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (signal?.aborted) return reject(new GrpcCallError(GrpcCode.CANCELLED, 'call aborted', true));
      const c: Call = {
        id: 0,
        block,
        payload,
        sent: 0,
        sendWindow: 0,
        flushNo: -1,
        timer: undefined,
        resolve,
        reject,
        chunks: [],
        received: 0,
        signal,
        onAbort: undefined,
        unackedBytes: 0,
        gotHeaders: false,
        httpStatus: 0,
        status: undefined,
      };
      if (timeoutMs > 0) c.timer = setTimeout(() => this.timedOut(c, timeoutMs), timeoutMs);
      if (signal) {
        c.onAbort = () => this.end(c, new GrpcCallError(GrpcCode.CANCELLED, 'call aborted', c.flushNo < 0 || c.flushNo >= this.flushes), undefined, true);
        signal.addEventListener('abort', c.onAbort, { once: true });
      }
      if (this.unrefWhenIdle && this.calls.size === 0 && this.waiting.length === 0) this.socket.ref();
      if (this.calls.size >= this.peerMaxStreams) this.waiting.push(c);
      else this.start(c);
    });
  }

  private start(c: Call): void {
    const id = this.nextId;
    this.nextId += 2;
    c.id = id;
    c.sendWindow = this.peerInitialWindow;
    c.flushNo = this.flushes;
    this.calls.set(id, c);
    this.queue(frameHeader(c.block.length, T.HEADERS, END_HEADERS, id), c.block);
    this.sending.push(c);
    this.pump();
  }

  /** Send DATA within the windows, calls in the order they came. */
  private pump(): void {
    for (let i = 0; i < this.sending.length; ) {
      const c = this.sending[i];
      while (c.sent < c.payload.length && this.connSendWindow > 0 && c.sendWindow > 0) {
        const n = Math.min(c.payload.length - c.sent, this.connSendWindow, c.sendWindow, this.peerMaxFrame);
        const last = c.sent + n === c.payload.length;
        this.queue(frameHeader(n, T.DATA, last ? END_STREAM : 0, c.id), c.payload.subarray(c.sent, c.sent + n));
        c.sent += n;
        c.sendWindow -= n;
        this.connSendWindow -= n;
      }
      if (c.sent === c.payload.length) this.sending.splice(i, 1);
      else if (this.connSendWindow <= 0) return;
      else i++;
    }
  }

  private queue(...bufs: Buffer[]): void {
    for (const b of bufs) this.out.push(b);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    this.flushes++;
    if (this.failed || this.out.length === 0) return;
    const out = this.out;
    this.out = [];
    this.socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
  }

  // ---- reading ----

  private onData(d: Buffer): void {
    this.lastRead = Date.now();
    let buf = this.rbuf.length ? Buffer.concat([this.rbuf, d]) : d;
    try {
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        this.onFrame(buf[3], buf[4], buf.readUInt32BE(5) & 0x7fffffff, buf.subarray(9, 9 + len));
        if (this.failed) return;
        buf = buf.subarray(9 + len);
      }
    } catch (e) {
      return this.destroy(e as Error);
    }
    this.rbuf = buf;
  }

  private onFrame(type: number, flags: number, id: number, p: Buffer): void {
    if (this.cont && type !== T.CONTINUATION) throw new Error('HTTP/2 protocol error: expected CONTINUATION');
    switch (type) {
      case T.DATA:
        return this.onDataFrame(flags, id, p);
      case T.HEADERS: {
        let from = 0;
        let to = p.length;
        if (flags & PADDED) {
          from = 1;
          to -= p[0];
        }
        if (flags & PRIORITY) from += 5;
        if (from > to) throw new Error('HTTP/2 protocol error: bad HEADERS padding');
        const block = p.subarray(from, to);
        if (flags & END_HEADERS) return this.onHeaders(id, block, (flags & END_STREAM) !== 0);
        this.cont = { id, parts: [Buffer.from(block)], endStream: (flags & END_STREAM) !== 0 };
        return;
      }
      case T.CONTINUATION: {
        const c = this.cont;
        if (!c || c.id !== id) throw new Error('HTTP/2 protocol error: unexpected CONTINUATION');
        c.parts.push(Buffer.from(p));
        if (flags & END_HEADERS) {
          this.cont = undefined;
          this.onHeaders(id, Buffer.concat(c.parts), c.endStream);
        }
        return;
      }
      case T.RST_STREAM: {
        const c = this.calls.get(id);
        if (!c) return;
        const code = p.readUInt32BE(0);
        // REFUSED_STREAM: the server did not act on it (RFC 9113 8.7), so it may be sent again.
        this.end(c, new GrpcCallError(GrpcCode.UNAVAILABLE, `Connection dropped: stream closed before an answer (code ${code})`, code === REFUSED_STREAM));
        return;
      }
      case T.SETTINGS:
        if (flags & ACK) return;
        for (let i = 0; i + 6 <= p.length; i += 6) {
          const k = p.readUInt16BE(i);
          const v = p.readUInt32BE(i + 2);
          if (k === 0x3) this.peerMaxStreams = v;
          else if (k === 0x4) {
            const delta = v - this.peerInitialWindow;
            this.peerInitialWindow = v;
            for (const c of this.calls.values()) c.sendWindow += delta;
          } else if (k === 0x5) this.peerMaxFrame = v;
        }
        this.queue(frameHeader(0, T.SETTINGS, ACK, 0));
        this.startWaiting();
        this.pump();
        return;
      case T.PING:
        if (flags & ACK) {
          clearTimeout(this.pingTimer);
          this.pingTimer = undefined;
        } else this.queue(frameHeader(8, T.PING, ACK, 0), Buffer.from(p));
        return;
      case T.GOAWAY: {
        const last = p.readUInt32BE(0) & 0x7fffffff;
        const code = p.readUInt32BE(4);
        const why = `the server is going away (GOAWAY code ${code}${p.length > 8 ? `: ${p.subarray(8).toString('latin1')}` : ''})`;
        this.draining = true;
        this.onGone(this);
        // Streams above `last` were not processed: they may be sent again.
        for (const c of [...this.calls.values()]) if (c.id > last) this.end(c, new GrpcCallError(GrpcCode.UNAVAILABLE, `Connection dropped: ${why}`, true));
        for (const c of this.waiting.splice(0)) this.end(c, new GrpcCallError(GrpcCode.UNAVAILABLE, `Connection dropped: ${why}`, true));
        if (this.calls.size === 0) this.socket.end();
        return;
      }
      case T.WINDOW_UPDATE: {
        const inc = p.readUInt32BE(0) & 0x7fffffff;
        if (id === 0) this.connSendWindow += inc;
        else {
          const c = this.calls.get(id);
          if (c) c.sendWindow += inc;
        }
        this.pump();
        return;
      }
      case T.PUSH_PROMISE:
        throw new Error('HTTP/2 protocol error: PUSH_PROMISE after push was disabled');
      default:
        // PRIORITY and unknown frame types are ignored (RFC 9113 4.1, 5.5).
        return;
    }
  }

  private onDataFrame(flags: number, id: number, p: Buffer): void {
    // Flow control counts the whole payload, padding included, for streams we forgot too.
    this.connRecvUnacked += p.length;
    if (this.connRecvUnacked >= CONN_WINDOW / 2) {
      this.queue(u32Frame(T.WINDOW_UPDATE, 0, 0, this.connRecvUnacked));
      this.connRecvUnacked = 0;
    }
    const c = this.calls.get(id);
    if (!c) return;
    let data = p;
    if (flags & PADDED) data = p.subarray(1, p.length - p[0]);
    c.received += data.length;
    if (c.received > this.maxReceiveBytes + 5) {
      return this.end(c, new GrpcCallError(GrpcCode.RESOURCE_EXHAUSTED, `Received message larger than max (${c.received} vs. ${this.maxReceiveBytes})`), undefined, true);
    }
    c.chunks.push(data);
    if (!(flags & END_STREAM)) {
      c.unackedBytes += p.length;
      if (c.unackedBytes >= STREAM_WINDOW / 2) {
        this.queue(u32Frame(T.WINDOW_UPDATE, 0, id, c.unackedBytes));
        c.unackedBytes = 0;
      }
      return;
    }
    this.complete(c);
  }

  private onHeaders(id: number, block: Buffer, endStream: boolean): void {
    // Decoded even for a stream we gave up on: the dynamic table must follow every block.
    const h = this.decoder.decode(block);
    const c = this.calls.get(id);
    if (!c) return;
    if (!c.gotHeaders) {
      c.gotHeaders = true;
      for (const [n, v] of h) if (n === ':status') c.httpStatus = Number(v);
    }
    c.status = statusOf(h) ?? c.status;
    if (endStream) this.complete(c);
  }

  /** The server ended the stream: the call's answer. */
  private complete(c: Call): void {
    const st = c.status;
    if (!st) {
      const failed = c.httpStatus !== 0 && c.httpStatus !== 200;
      return this.end(c, new GrpcCallError(failed ? GrpcCode.UNKNOWN : GrpcCode.UNAVAILABLE, `Connection dropped: ${failed ? `HTTP status ${c.httpStatus}` : 'stream closed before an answer'}`));
    }
    if (st.code !== GrpcCode.OK) return this.end(c, new GrpcCallError(st.code, st.message));
    const all = c.chunks.length === 1 ? c.chunks[0] : Buffer.concat(c.chunks);
    if (all.length < 5) return this.end(c, new GrpcCallError(GrpcCode.INTERNAL, 'response without a message'));
    if (all[0] !== 0) return this.end(c, new GrpcCallError(GrpcCode.INTERNAL, 'compressed response (no compression was asked for)'));
    this.end(c, undefined, all.subarray(5, 5 + all.readUInt32BE(1)));
  }

  /** Settle a call and forget it; a stream the server has not ended is reset. */
  private end(c: Call, err: GrpcCallError | undefined, answer?: Buffer, reset = false): void {
    clearTimeout(c.timer);
    if (c.onAbort) c.signal!.removeEventListener('abort', c.onAbort);
    if (c.id) {
      if (!this.calls.delete(c.id)) return;
      if (c.sent < c.payload.length) {
        const i = this.sending.indexOf(c);
        if (i >= 0) this.sending.splice(i, 1);
        reset = true;
      }
      if (reset && !this.failed) this.queue(u32Frame(T.RST_STREAM, 0, c.id, CANCEL));
    } else {
      const i = this.waiting.indexOf(c);
      if (i < 0) return;
      this.waiting.splice(i, 1);
    }
    if (err) c.reject(err);
    else c.resolve(answer!);
    this.startWaiting();
    if (this.unrefWhenIdle && this.calls.size === 0 && this.waiting.length === 0) this.socket.unref();
    if (this.draining && this.calls.size === 0 && !this.failed) this.socket.end();
  }

  private startWaiting(): void {
    while (this.waiting.length && this.calls.size < this.peerMaxStreams && !this.failed && !this.draining) this.start(this.waiting.shift()!);
  }

  private timedOut(c: Call, ms: number): void {
    // Before the connection was made nothing can have reached the server.
    this.end(c, new GrpcCallError(GrpcCode.DEADLINE_EXCEEDED, `Deadline exceeded: no answer within ${ms} ms`, !this.connected), undefined, true);
  }

  private keepalive(every: number, timeout: number): void {
    if (this.failed || !this.connected || this.pingTimer || this.calls.size === 0 || Date.now() - this.lastRead < every) return;
    this.queue(frameHeader(8, T.PING, 0, 0), Buffer.alloc(8));
    this.pingTimer = setTimeout(() => this.destroy(new Error('keepalive ping timed out')), timeout);
    this.pingTimer.unref();
  }

  /** The connection is gone: every call fails, as never sent when it certainly was not. */
  destroy(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    clearInterval(this.pinger);
    clearTimeout(this.pingTimer);
    this.onGone(this);
    this.socket.destroy();
    const never = !this.connected;
    for (const c of [...this.waiting]) this.end(c, new GrpcCallError(GrpcCode.UNAVAILABLE, `No connection established. Last error: ${e.message}`, true));
    for (const c of [...this.calls.values()]) {
      const unsent = never || c.flushNo >= this.flushes;
      this.end(c, new GrpcCallError(GrpcCode.UNAVAILABLE, `${unsent ? 'No connection established. Last error: ' : 'Connection dropped: '}${e.message}`, unsent));
    }
  }
}

/** Unary calls to one server, on one connection made on first use and again after it fails. */
export class H2UnaryChannel {
  private session: Session | undefined;
  private closed = false;
  private readonly host: string;
  private readonly port: number;
  private readonly blocks = new Map<string, Buffer>();
  private readonly scheme: string;
  private readonly authority: string;

  constructor(private readonly o: H2UnaryOptions) {
    const u = new URL(o.origin);
    this.host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    this.scheme = u.protocol === 'https:' ? 'https' : 'http';
    this.authority = u.host;
  }

  /** One call: the request message (serialized) in, the response message out. */
  unary(path: string, body: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    const payload = Buffer.allocUnsafe(5 + body.length);
    payload[0] = 0;
    payload.writeUInt32BE(body.length, 1);
    body.copy(payload, 5);
    return this.unaryFramed(path, payload, timeoutMs, signal);
  }

  /** The same with the message framed already (its 5-byte gRPC prefix, then the message). */
  unaryFramed(path: string, payload: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    if (this.closed) return Promise.reject(new GrpcCallError(GrpcCode.CANCELLED, 'connection closed', true));
    const deadline = this.o.sendDeadline && timeoutMs > 0 ? grpcTimeout(timeoutMs) : '';
    const key = deadline ? `${path} ${deadline}` : path;
    let block = this.blocks.get(key);
    if (!block) {
      const headers: HeaderList = [
        [':method', 'POST'],
        [':scheme', this.scheme],
        [':path', path],
        [':authority', this.authority],
        ['content-type', 'application/grpc'],
        ['te', 'trailers'],
      ];
      if (deadline) headers.push(['grpc-timeout', deadline]);
      block = encodeHeaderBlock(headers);
      // Blocks are kept per method and deadline; a caller with ever-changing deadlines must not grow this for good.
      if (this.blocks.size >= 256) this.blocks.clear();
      this.blocks.set(key, block);
    }
    let s = this.session;
    if (!s || !s.usable) {
      s = this.session = new Session(
        this.o,
        this.host,
        this.port,
        (gone) => {
          if (this.session === gone) this.session = undefined;
        },
        this.o.maxReceiveBytes,
        this.o.unrefWhenIdle,
      );
    }
    return s.call(block, payload, timeoutMs, signal);
  }

  close(): void {
    this.closed = true;
    this.session?.destroy(new Error('connection closed'));
    this.session = undefined;
  }
}
