// A growable buffer of protobuf's wire format for the hand-written codecs (the etcd store's
// requests, the kubelet's CRI requests, /openapi/v2 in gnostic's form; see protobuf-reader.ts for
// the other direction). Two
// levels: values (`varint`, `lengthDelimited`, a length prefix reserved before an embedded message
// and filled in after it) for a table-driven encoder, and whole fields with proto3's rule that a
// zero scalar is not written (`uint`, `bool`, `bytes`, `message`) for a hand-written one.

export class ProtoWriter {
  buf: Buffer;
  pos = 0;

  /** `size`: the bytes first allocated; the buffer doubles as needed. Or `into`: the buffer to start in. */
  constructor(size = 256, into?: Buffer) {
    this.buf = into ?? Buffer.allocUnsafe(size);
  }

  /** Makes room for `n` more bytes at `pos`. */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }

  /** An integer as a varint; a negative one as its 64-bit two's complement (10 bytes, as Go writes it). */
  varint(v: number): void {
    this.room(10);
    if (v >= 0 && v < 0x80000000) {
      while (v > 0x7f) {
        this.buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      this.buf[this.pos++] = v;
    } else if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      while (v >= 0x80) {
        this.buf[this.pos++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.buf[this.pos++] = v;
    } else this.varint64(BigInt(Math.trunc(v)));
  }

  /** A 64-bit integer as a varint (its low 64 bits, unsigned). */
  varint64(v: bigint): void {
    this.room(10);
    let u = BigInt.asUintN(64, v);
    while (u > 0x7fn) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** Length-prefixed bytes (a string as UTF-8). */
  lengthDelimited(v: Uint8Array | string): void {
    if (typeof v === 'string') this.text(v, Buffer.byteLength(v));
    else this.raw(v);
  }

  /** Reserves room for a length prefix (written by `endLength`); returns where the body starts. */
  beginLength(): number {
    this.room(5);
    this.pos += 5;
    return this.pos;
  }

  /** Writes the length of what followed `beginLength`. */
  endLength(start: number): void {
    // The prefix is written in 5 bytes (a padded varint), so the body need not move.
    let n = this.pos - start;
    let p = start - 5;
    for (let k = 0; k < 4; k++) {
      this.buf[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[p] = n & 0x7f;
  }

  // ---- whole fields ----

  /** An int64/uint64/enum/bool field; zero is written only when `always` (oneof members). */
  uint(field: number, v: number, always = false): this {
    if (v === 0 && !always) return this;
    if (v < 0 || !Number.isSafeInteger(v)) throw new RangeError(`protobuf: cannot encode ${v} as a varint`);
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  bool(field: number, v: boolean | undefined): this {
    return v ? this.uint(field, 1) : this;
  }

  /** A bytes or string field (strings as UTF-8); empty is skipped unless `always`. */
  bytes(field: number, v: Uint8Array | string | undefined, always = false): this {
    if (v === undefined) return this;
    if (typeof v === 'string') {
      const len = Buffer.byteLength(v);
      if (len === 0 && !always) return this;
      this.tag(field, 2);
      this.text(v, len);
    } else {
      if (v.length === 0 && !always) return this;
      this.tag(field, 2);
      this.raw(v);
    }
    return this;
  }

  /** An embedded message, written even when empty (a oneof member or a repeated element). */
  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish(), true);
  }

  /** What was written (a view of the buffer, not a copy). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private text(s: string, len: number): void {
    this.varint(len);
    this.room(len);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  private raw(b: Uint8Array): void {
    this.varint(b.length);
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}
