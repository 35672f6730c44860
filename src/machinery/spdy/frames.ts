// SPDY/3 framing: control frames (SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS,
// WINDOW_UPDATE) and DATA frames, encoded to bytes and parsed incrementally from a byte stream.
//
// Control frame: 1 | version(15) | type(16) | flags(8) | length(24) | payload
// Data frame:    0 | stream-id(31)          | flags(8) | length(24) | payload

import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders, type SpdyHeadersInit } from './header-block.ts';

export const SPDY_VERSION = 3;
/** The largest payload a frame's 24-bit length can carry. */
export const MAX_FRAME_PAYLOAD = (1 << 24) - 1;

export const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
export const FLAG_SETTINGS_CLEAR = 0x01;

/** RST_STREAM status codes. */
export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  UnsupportedVersion: 4,
  Cancel: 5,
  InternalError: 6,
  FlowControlError: 7,
  StreamInUse: 8,
  StreamAlreadyClosed: 9,
  FrameTooLarge: 11,
} as const;

/** GOAWAY status codes. */
export const GoAwayStatus = { Ok: 0, ProtocolError: 1, InternalError: 2 } as const;

export type Frame =
  | { type: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { type: 'syn_stream'; streamId: number; associatedId: number; priority: number; slot: number; fin: boolean; unidirectional: boolean; headers: SpdyHeaders }
  | { type: 'syn_reply'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; clear: boolean; entries: Array<{ flags: number; id: number; value: number }> }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'headers'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'window_update'; streamId: number; delta: number }
  /** A control frame of a type SPDY/3 peers must ignore (CREDENTIAL, later additions). */
  | { type: 'unknown'; frameType: number };

/** A frame to send; header blocks are given uncompressed. */
export type OutFrame =
  | { type: 'data'; streamId: number; fin?: boolean; data: Buffer }
  | { type: 'syn_stream'; streamId: number; associatedId?: number; priority?: number; fin?: boolean; unidirectional?: boolean; headers: SpdyHeadersInit }
  | { type: 'syn_reply'; streamId: number; fin?: boolean; headers: SpdyHeadersInit }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; clear?: boolean; entries: Array<{ flags?: number; id: number; value: number }> }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'headers'; streamId: number; fin?: boolean; headers: SpdyHeadersInit }
  | { type: 'window_update'; streamId: number; delta: number };

export class FrameError extends Error {
  /** The stream the error is about (0 = the whole connection). */
  readonly streamId: number;
  constructor(message: string, streamId = 0) {
    super(message);
    this.streamId = streamId;
  }
}

function controlHeader(type: number, flags: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE((0x8000 | SPDY_VERSION) * 0x10000 + type, 0);
  b.writeUInt32BE(flags * 0x1000000 + length, 4);
  return b;
}

function u31(n: number): number {
  return n & 0x7fffffff;
}

/**
 * Writes frames for one direction of a connection, which owns that direction's header compressor.
 * Header blocks are compressed asynchronously (see header-block.ts), so frames queue behind a
 * frame whose headers are being compressed: the peer sees them in the order they were written.
 */
export class FrameWriter {
  private compressor = new HeaderCompressor();
  private queue: Array<{ parts?: Buffer[]; done?: (ok: boolean) => void }> = [];
  private failed = false;

  /** `sink` takes a frame's bytes and says whether it can take more now (a socket's write()). */
  constructor(private readonly sink: (parts: Buffer[]) => boolean) {}

  /** Queue a frame; `done(ok)` runs once its bytes went to the sink, with the sink's answer. */
  write(f: OutFrame, done?: (ok: boolean) => void): void {
    if (this.failed) return done?.(false);
    const headers = 'headers' in f ? f.headers : undefined;
    if (headers === undefined) {
      const parts = encodePlain(f as PlainOutFrame);
      if (this.queue.length === 0) {
        const ok = this.sink(parts);
        done?.(ok);
      } else this.queue.push({ parts, done });
      return;
    }
    const item: { parts?: Buffer[]; done?: (ok: boolean) => void } = { done };
    this.queue.push(item);
    this.compressor.compress(headers).then(
      (block) => {
        item.parts = encodeWithHeaders(f as HeaderOutFrame, block);
        this.pump();
      },
      () => {
        this.failed = true;
        for (const q of this.queue.splice(0)) q.done?.(false);
      },
    );
  }

  /** Run `fn` once everything written so far has gone to the sink. */
  after(fn: () => void): void {
    if (this.queue.length === 0) fn();
    else this.queue.push({ parts: [], done: () => fn() });
  }

  private pump(): void {
    while (this.queue.length && this.queue[0].parts) {
      const item = this.queue.shift()!;
      const ok = item.parts!.length ? this.sink(item.parts!) : true;
      item.done?.(ok);
    }
  }

  close(): void {
    this.compressor.close();
  }
}

type HeaderOutFrame = Extract<OutFrame, { headers: SpdyHeadersInit }>;
type PlainOutFrame = Exclude<OutFrame, HeaderOutFrame>;

function encodeWithHeaders(f: HeaderOutFrame, block: Buffer): Buffer[] {
  if (f.type === 'syn_stream') {
    const p = Buffer.allocUnsafe(10);
    p.writeUInt32BE(u31(f.streamId), 0);
    p.writeUInt32BE(u31(f.associatedId ?? 0), 4);
    p[8] = ((f.priority ?? 0) & 7) << 5;
    p[9] = 0;
    const flags = (f.fin ? FLAG_FIN : 0) | (f.unidirectional ? FLAG_UNIDIRECTIONAL : 0);
    return [controlHeader(FrameType.SynStream, flags, 10 + block.length), p, block];
  }
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(u31(f.streamId), 0);
  return [controlHeader(f.type === 'syn_reply' ? FrameType.SynReply : FrameType.Headers, f.fin ? FLAG_FIN : 0, 4 + block.length), p, block];
}

/** The bytes of a frame without a header block (header + payload, so data is never copied). */
export function encodePlain(f: PlainOutFrame): Buffer[] {
  switch (f.type) {
    case 'data': {
      if (f.data.length > MAX_FRAME_PAYLOAD) throw new FrameError(`data frame of ${f.data.length} bytes is too large`, f.streamId);
      const h = Buffer.allocUnsafe(8);
      h.writeUInt32BE(u31(f.streamId), 0);
      h.writeUInt32BE((f.fin ? FLAG_FIN : 0) * 0x1000000 + f.data.length, 4);
      return f.data.length ? [h, f.data] : [h];
    }
    case 'rst_stream':
      return [controlHeader(FrameType.RstStream, 0, 8), pair(u31(f.streamId), f.status)];
    case 'settings': {
      const p = Buffer.allocUnsafe(4 + 8 * f.entries.length);
      p.writeUInt32BE(f.entries.length, 0);
      f.entries.forEach((e, i) => {
        p.writeUInt32BE((e.flags ?? 0) * 0x1000000 + (e.id & 0xffffff), 4 + 8 * i);
        p.writeUInt32BE(e.value >>> 0, 8 + 8 * i);
      });
      return [controlHeader(FrameType.Settings, f.clear ? FLAG_SETTINGS_CLEAR : 0, p.length), p];
    }
    case 'ping': {
      const p = Buffer.allocUnsafe(4);
      p.writeUInt32BE(f.id >>> 0, 0);
      return [controlHeader(FrameType.Ping, 0, 4), p];
    }
    case 'goaway':
      return [controlHeader(FrameType.GoAway, 0, 8), pair(u31(f.lastGoodStreamId), f.status)];
    case 'window_update':
      return [controlHeader(FrameType.WindowUpdate, 0, 8), pair(u31(f.streamId), u31(f.delta))];
  }
}

function pair(a: number, b: number): Buffer {
  const p = Buffer.allocUnsafe(8);
  p.writeUInt32BE(a >>> 0, 0);
  p.writeUInt32BE(b >>> 0, 4);
  return p;
}

/**
 * Reads frames out of a byte stream as it arrives and hands them to `onFrame` in order. Header
 * blocks are decompressed asynchronously, so frames after a SYN_STREAM, SYN_REPLY or HEADERS wait
 * for its headers. A malformed frame goes to `onError` and stops the reader: the connection
 * cannot continue (the decompression context may be out of step).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private decompressor = new HeaderDecompressor();
  private pending: Array<{ frame?: Frame; wait?: Promise<Frame> }> = [];
  private waiting = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly onFrame: (f: Frame) => void,
    private readonly onError: (e: Error) => void,
    private readonly maxFramePayload = MAX_FRAME_PAYLOAD,
  ) {}

  push(chunk: Buffer): void {
    if (this.stopped) return;
    if (chunk.length) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    try {
      for (;;) {
        if (this.size < 8) break;
        const head = this.peek(8);
        const length = head.readUInt32BE(4) & 0xffffff;
        if (length > this.maxFramePayload) throw new FrameError(`frame of ${length} bytes exceeds the limit of ${this.maxFramePayload}`);
        if (this.size < 8 + length) break;
        this.pending.push(this.parse(this.take(8 + length)));
      }
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    this.deliver();
  }

  /** Bytes received but not yet part of a whole frame. */
  get buffered(): number {
    return this.size;
  }

  /** Whole frames not yet handed over (waiting for a header block). */
  get queued(): number {
    return this.pending.length;
  }

  close(): void {
    this.stopped = true;
    this.decompressor.close();
    this.idle();
  }

  /** Run `fn` once every whole frame received so far has been handed over (or the reader stopped). */
  whenIdle(fn: () => void): void {
    if (this.stopped || this.pending.length === 0) fn();
    else this.idleWaiters.push(fn);
  }

  private idle(): void {
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w();
  }

  private deliver(): void {
    while (!this.stopped && !this.waiting && this.pending.length) {
      const next = this.pending[0];
      if (next.wait) {
        this.waiting = true;
        next.wait.then(
          (f) => {
            next.wait = undefined;
            next.frame = f;
            this.waiting = false;
            this.deliver();
          },
          (e) => this.fail(e),
        );
        return;
      }
      this.pending.shift();
      this.onFrame(next.frame!);
    }
    if (this.pending.length === 0 || this.stopped) this.idle();
  }

  private fail(e: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.pending = [];
    this.decompressor.close();
    this.onError(e);
    this.idle();
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private take(n: number): Buffer {
    const first = this.peek(n);
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.size -= n;
    return out;
  }

  private parse(b: Buffer): { frame?: Frame; wait?: Promise<Frame> } {
    const w0 = b.readUInt32BE(0);
    const flags = b[4];
    const payload = b.subarray(8);
    if ((w0 & 0x80000000) === 0) {
      const streamId = w0 & 0x7fffffff;
      if (streamId === 0) throw new FrameError('data frame on stream 0');
      // Copy: the payload may be a view into a larger socket read that would otherwise stay alive.
      return { frame: { type: 'data', streamId, fin: (flags & FLAG_FIN) !== 0, data: Buffer.from(payload) } };
    }
    const version = (w0 >>> 16) & 0x7fff;
    const type = w0 & 0xffff;
    if (version !== SPDY_VERSION) throw new FrameError(`unsupported SPDY version ${version}`);
    const need = (n: number) => {
      if (payload.length < n) throw new FrameError(`control frame type ${type} is too short (${payload.length} bytes)`);
    };
    const streamOf = (at: number) => {
      const id = payload.readUInt32BE(at) & 0x7fffffff;
      if (id === 0) throw new FrameError(`control frame type ${type} names stream 0`);
      return id;
    };
    switch (type) {
      case FrameType.SynStream: {
        need(10);
        const streamId = streamOf(0);
        const rest = { associatedId: payload.readUInt32BE(4) & 0x7fffffff, priority: payload[8] >> 5, slot: payload[9] };
        const fin = (flags & FLAG_FIN) !== 0;
        const unidirectional = (flags & FLAG_UNIDIRECTIONAL) !== 0;
        // Always decompressed, even for a stream that will be refused: the context must stay in step.
        return { wait: this.decompressor.decompress(payload.subarray(10)).then((headers) => ({ type: 'syn_stream', streamId, ...rest, fin, unidirectional, headers })) };
      }
      case FrameType.SynReply:
      case FrameType.Headers: {
        need(4);
        const streamId = streamOf(0);
        const fin = (flags & FLAG_FIN) !== 0;
        const t = type === FrameType.SynReply ? 'syn_reply' : 'headers';
        return { wait: this.decompressor.decompress(payload.subarray(4)).then((headers) => ({ type: t, streamId, fin, headers })) };
      }
      case FrameType.RstStream: {
        need(8);
        const status = payload.readUInt32BE(4);
        if (status === 0) throw new FrameError('RST_STREAM with status 0');
        return { frame: { type: 'rst_stream', streamId: streamOf(0), status } };
      }
      case FrameType.Settings: {
        need(4);
        const n = payload.readUInt32BE(0);
        if (n > (payload.length - 4) / 8) throw new FrameError(`SETTINGS frame claims ${n} entries in ${payload.length} bytes`);
        const entries = [];
        for (let i = 0; i < n; i++) {
          const idw = payload.readUInt32BE(4 + 8 * i);
          entries.push({ flags: idw >>> 24, id: idw & 0xffffff, value: payload.readUInt32BE(8 + 8 * i) });
        }
        return { frame: { type: 'settings', clear: (flags & FLAG_SETTINGS_CLEAR) !== 0, entries } };
      }
      case FrameType.Ping:
        need(4);
        return { frame: { type: 'ping', id: payload.readUInt32BE(0) } };
      case FrameType.GoAway:
        need(8);
        return { frame: { type: 'goaway', lastGoodStreamId: payload.readUInt32BE(0) & 0x7fffffff, status: payload.readUInt32BE(4) } };
      case FrameType.WindowUpdate:
        need(8);
        return { frame: { type: 'window_update', streamId: payload.readUInt32BE(0) & 0x7fffffff, delta: payload.readUInt32BE(4) & 0x7fffffff } };
      default:
        return { frame: { type: 'unknown', frameType: type } };
    }
  }
}
