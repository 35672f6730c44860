// A minimal protobuf wire-format reader. Every read is bounds-checked: malformed or truncated input
// becomes a 400 StatusError, never an exception of another kind or an endless loop.

import { errors } from '../errors.ts';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

export interface Tag {
  field: number;
  wire: number;
}

function malformed(what: string): never {
  throw errors.badRequest(`unable to decode protobuf body: ${what}`);
}

export class WireReader {
  private pos: number;
  private readonly end: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a varint of up to 10 bytes as an unsigned 64-bit BigInt. */
  varint(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) malformed('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    return malformed('varint longer than 10 bytes');
  }

  /** A varint that must fit comfortably in a JS number (tags and lengths). */
  smallVarint(): number {
    const v = this.varint();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) malformed('varint out of range');
    return Number(v);
  }

  tag(): Tag {
    const v = this.smallVarint();
    const field = Math.floor(v / 8);
    const wire = v % 8;
    if (field === 0) malformed('field number 0');
    return { field, wire };
  }

  int32(): number {
    return Number(BigInt.asIntN(32, this.varint()));
  }

  int64(): number {
    return Number(BigInt.asIntN(64, this.varint()));
  }

  bool(): boolean {
    return this.varint() !== 0n;
  }

  bytes(): Uint8Array {
    const len = this.smallVarint();
    if (len > this.end - this.pos) malformed(`length ${len} runs past the end of the data`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return new TextDecoder('utf-8').decode(this.bytes());
  }

  /** A reader over the next length-delimited field (an embedded message). */
  sub(): WireReader {
    const b = this.bytes();
    return new WireReader(b);
  }

  fixed64(): DataView {
    return this.fixed(8);
  }

  fixed32(): DataView {
    return this.fixed(4);
  }

  double(): number {
    return this.fixed64().getFloat64(0, true);
  }

  private fixed(n: number): DataView {
    if (this.end - this.pos < n) malformed(`truncated fixed${n * 8} value`);
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return view;
  }

  /** Skips one field's value; used for fields this server does not know (newer clients). */
  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.fixed(8);
        return;
      case WIRE_BYTES:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.fixed(4);
        return;
      default:
        // Groups are proto1-era and never produced by Kubernetes; refuse rather than guess.
        malformed(`unsupported wire type ${wire}`);
    }
  }
}
