// SPDY/3 name/value header blocks: a count, then length-prefixed lower-case names and values (several
// values of one name joined by NUL), all 32-bit big-endian. Each direction of a connection compresses
// its blocks with one zlib stream (the SPDY dictionary preset), flushed with Z_SYNC_FLUSH after every
// block, so both ends must run one compressor and one decompressor for the connection's whole life.

import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.ts';

/** Header names are lower-case; a name may carry several values. */
export type SpdyHeaders = Record<string, string[]>;

/** What callers may pass: one value or several per name (names are lower-cased when written). */
export type SpdyHeadersInit = Record<string, string | string[]>;

/** Limits on what a peer may make us inflate and hold (spdystream's framer has similar ones). */
export const MAX_HEADER_BLOCK_BYTES = 1 << 20;
export const MAX_HEADER_COUNT = 1000;

export class HeaderBlockError extends Error {}

/** First value of a header, looked up case-insensitively. */
export function headerValue(h: SpdyHeaders, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return v?.[0];
}

export function encodeHeaderBlock(headers: SpdyHeadersInit): Buffer {
  const entries = Object.entries(headers).map(([k, v]) => [Buffer.from(k.toLowerCase(), 'utf8'), Buffer.from((Array.isArray(v) ? v : [v]).join('\0'), 'utf8')] as const);
  let size = 4;
  for (const [k, v] of entries) size += 8 + k.length + v.length;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32BE(entries.length, 0);
  let o = 4;
  for (const [k, v] of entries) {
    out.writeUInt32BE(k.length, o);
    k.copy(out, o + 4);
    o += 4 + k.length;
    out.writeUInt32BE(v.length, o);
    v.copy(out, o + 4);
    o += 4 + v.length;
  }
  return out;
}

export function decodeHeaderBlock(b: Buffer): SpdyHeaders {
  const fail = (why: string): never => {
    throw new HeaderBlockError(`malformed header block: ${why}`);
  };
  if (b.length < 4) fail('too short');
  const n = b.readUInt32BE(0);
  if (n > MAX_HEADER_COUNT) fail(`${n} headers`);
  const entries: Array<[string, string[]]> = [];
  const seen = new Set<string>();
  let o = 4;
  const field = (): string => {
    if (o + 4 > b.length) fail('truncated length');
    const len = b.readUInt32BE(o);
    if (o + 4 + len > b.length) fail('truncated field');
    const s = b.toString('utf8', o + 4, o + 4 + len);
    o += 4 + len;
    return s;
  };
  for (let i = 0; i < n; i++) {
    const name = field();
    const value = field();
    if (name === '') fail('empty header name');
    if (name !== name.toLowerCase()) fail(`header name ${JSON.stringify(name)} is not lower-case`);
    if (seen.has(name)) fail(`duplicate header ${JSON.stringify(name)}`);
    seen.add(name);
    entries.push([name, value.split('\0')]);
  }
  if (o !== b.length) fail('trailing bytes');
  // fromEntries defines own properties, so even a header named __proto__ is plain data.
  return Object.fromEntries(entries);
}

/**
 * One zlib stream (deflate or inflate) fed a block at a time, each followed by Z_SYNC_FLUSH, giving
 * back exactly that block's output. Node's zlib streams are asynchronous; blocks are run one after
 * another so that every output is attributed to its own input and the order never changes.
 */
class FlushingZlib {
  private out: Buffer[] = [];
  private outBytes = 0;
  private failure?: Error;
  private tail: Promise<unknown> = Promise.resolve();
  /** Rejects the block in progress: after an error zlib never calls the flush callback. */
  private abort?: (e: Error) => void;

  constructor(
    private readonly z: zlib.Deflate | zlib.Inflate,
    private readonly maxOutput: number,
  ) {
    z.on('data', (b: Buffer) => {
      this.out.push(b);
      this.outBytes += b.length;
      if (this.outBytes > this.maxOutput) this.fail(new Error(`more than ${this.maxOutput} bytes`));
    });
    z.on('error', (e) => this.fail(e));
  }

  run(input: Buffer): Promise<Buffer> {
    const next = this.tail.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.failure) return reject(this.failure);
          this.abort = reject;
          this.z.write(input);
          this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            this.abort = undefined;
            const out = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out);
            this.out = [];
            this.outBytes = 0;
            if (this.failure) reject(this.failure);
            else resolve(out);
          });
        }),
    );
    this.tail = next.catch(() => {});
    return next;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.z.destroy();
    this.abort?.(this.failure);
    this.abort = undefined;
  }

  close(): void {
    this.fail(new Error('closed'));
  }
}

/** The sending side's compression context. */
export class HeaderCompressor {
  private z = new FlushingZlib(zlib.createDeflate({ dictionary: SPDY3_DICTIONARY, level: zlib.constants.Z_BEST_COMPRESSION }), Infinity);

  compress(headers: SpdyHeadersInit): Promise<Buffer> {
    return this.z.run(encodeHeaderBlock(headers));
  }

  close(): void {
    this.z.close();
  }
}

/** The receiving side's decompression context. */
export class HeaderDecompressor {
  private z = new FlushingZlib(zlib.createInflate({ dictionary: SPDY3_DICTIONARY }), MAX_HEADER_BLOCK_BYTES);

  async decompress(block: Buffer): Promise<SpdyHeaders> {
    let raw: Buffer;
    try {
      raw = await this.z.run(block);
    } catch (e) {
      throw new HeaderBlockError(`cannot decompress header block: ${(e as Error).message}`);
    }
    return decodeHeaderBlock(raw);
  }

  close(): void {
    this.z.close();
  }
}
