// A cursor over protobuf's wire format for the hand-written codecs: the etcd store's messages (one
// WatchResponse per event), the kubelet's CRI messages (a relist every second), and the API
// server's Kubernetes-protobuf request bodies (protobuf/decode.ts, which answers a ProtobufError
// with a 400 Status).
// Numbers come out as JS numbers: a varint is read as two 32-bit halves, never through BigInt
// (BigInt was the relist's hottest item, and nanosecond timestamps above 2^53 are common), so
// 64-bit values are exact below 2^53 and rounded once above it. Malformed or truncated input
// throws a ProtobufError; a read never runs past `end`.

export class ProtobufError extends Error {
  constructor(readonly what: string) {
    super(`protobuf: ${what}`);
  }
}

export class ProtoReader {
  pos: number;
  /** The halves of the last `varint64()`: bits 0-31 and 32-63, unsigned. */
  lo = 0;
  hi = 0;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get more(): boolean {
    return this.pos < this.end;
  }

  /** A varint (tags, lengths, bool, uint32, uint64) as a non-negative number. */
  varint(): number {
    const b = this.oneByte();
    if (b >= 0) return b;
    this.varint64();
    return this.hi ? this.lo + this.hi * 2 ** 32 : this.lo;
  }

  /** A varint of one byte (most tags, lengths and flags) read on the fast path; -1 when it is longer. */
  private oneByte(): number {
    const pos = this.pos;
    if (pos < this.end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    return -1;
  }

  /** Reads a varint into `lo` and `hi`. */
  varint64(): void {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b = 0;
    let i = 0;
    for (; i < 10; i++) {
      if (pos >= end) throw new ProtobufError('truncated varint');
      b = buf[pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (!(b & 0x80)) break;
    }
    if (i === 10) throw new ProtobufError('varint longer than 10 bytes');
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** A varint's low 32 bits as a signed number (int32 and enums; negative ones take 10 bytes). */
  int32(): number {
    this.varint64();
    return this.lo | 0;
  }

  /** int64 as a number (negative ones too; rounded as Number(BigInt) would: one rounding of an exact sum). */
  int64(): number {
    const b = this.oneByte();
    if (b >= 0) return b;
    this.varint64();
    return (this.hi | 0) * 2 ** 32 + this.lo;
  }

  /** uint64 as a number. */
  uint64(): number {
    this.varint64();
    return this.hi * 2 ** 32 + this.lo;
  }

  /** A uint64 exactly, as a decimal string (etcd's member and cluster IDs use all 64 bits). */
  uint64String(): string {
    this.varint64();
    return this.hi ? ((BigInt(this.hi) << 32n) | BigInt(this.lo)).toString() : String(this.lo);
  }

  /** sint32/sint64 (zigzag) as a number. */
  sint64(): number {
    this.varint64();
    const neg = this.lo & 1;
    let lo = ((this.lo >>> 1) | (this.hi << 31)) >>> 0;
    let hi = this.hi >>> 1;
    if (neg) {
      lo = ~lo >>> 0;
      hi = ~hi;
    }
    return (hi | 0) * 2 ** 32 + lo;
  }

  /** A length-delimited field's length, checked against the end of the message. */
  length(): number {
    const n = this.varint();
    if (n > this.end - this.pos) throw new ProtobufError('length runs beyond the message');
    return n;
  }

  /** Start and end of a length-delimited field's bytes, which are then skipped. */
  span(): [number, number] {
    const n = this.length();
    const start = this.pos;
    this.pos = start + n;
    return [start, this.pos];
  }

  /** A reader over the next length-delimited field (an embedded message), sharing the buffer. */
  sub(): ProtoReader {
    const [start, end] = this.span();
    return new ProtoReader(this.buf, start, end);
  }

  /** A fixed64 field as a little-endian double. */
  double(): number {
    if (this.end - this.pos < 8) throw new ProtobufError('field runs beyond the message');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A length-delimited field as UTF-8 text. */
  string(): string {
    const n = this.length();
    const start = this.pos;
    this.pos = start + n;
    return this.buf.toString('utf8', start, this.pos);
  }

  /** Skips one field's value (a field this codec does not read). */
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const n = this.length(); // before reading pos: length() moves it past the prefix
        this.pos += n;
        return;
      }
      case 5:
        this.pos += 4;
        break;
      default:
        // Groups (3, 4) are proto2-era and not produced by either peer: refuse rather than guess.
        throw new ProtobufError(`unsupported wire type ${wire}`);
    }
    if (this.pos > this.end) throw new ProtobufError('field runs beyond the message');
  }
}
