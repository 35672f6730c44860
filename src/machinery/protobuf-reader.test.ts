// The shared protobuf cursor: varints at the edges of its 32-bit halves, 64-bit and zigzag values,
// and malformed input refused with a ProtobufError instead of a read past the end.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtobufError, ProtoReader } from './protobuf-reader.ts';
import { ProtoWriter } from './protobuf-writer.ts';

const bytes = (...b: number[]) => Buffer.from(b);
const written = (fn: (w: ProtoWriter) => void) => {
  const w = new ProtoWriter(1); // grows from one byte, so growth is exercised too
  fn(w);
  return new ProtoReader(w.finish());
};

test('varints across the 7-bit, 32-bit and 2^53 edges', () => {
  for (const v of [0, 1, 127, 128, 300, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 45 + 3, Number.MAX_SAFE_INTEGER]) {
    assert.equal(written((w) => w.varint(v)).varint(), v, `varint ${v}`);
    assert.equal(written((w) => w.varint(v)).int64(), v, `int64 ${v}`);
    assert.equal(written((w) => w.varint(v)).uint64String(), String(v), `uint64String ${v}`);
  }
});

test('negative int64 and int32 take 10 bytes and read back signed', () => {
  for (const v of [-1, -2, -(2 ** 31), -(2 ** 40) - 7]) {
    const r = written((w) => w.varint(v));
    assert.equal(r.buf.length, 10);
    assert.equal(r.int64(), v);
  }
  assert.equal(written((w) => w.varint(-5)).int32(), -5);
  // All 64 bits, exactly, where only a string can hold them.
  assert.equal(written((w) => w.varint64(2n ** 64n - 1n)).uint64String(), '18446744073709551615');
  assert.equal(written((w) => w.varint64(2n ** 64n - 1n)).varint(), 2 ** 64);
});

test('zigzag', () => {
  for (const [v, z] of [[0, 0n], [-1, 1n], [1, 2n], [-2, 3n], [-(2 ** 40), 2n ** 41n - 1n]] as const) {
    assert.equal(written((w) => w.varint64(z)).sint64(), v);
  }
});

test('strings, spans and skipped fields of every wire type', () => {
  const w = new ProtoWriter();
  w.bytes(1, 'héllo').uint(2, 7).bytes(3, bytes(1, 2, 3));
  w.tag(4, 1);
  w.room(8);
  w.pos += 8; // a fixed64's bytes
  w.tag(5, 5);
  w.room(4);
  w.pos += 4;
  w.uint(6, 9);
  const r = new ProtoReader(w.finish());
  assert.equal(r.varint(), (1 << 3) | 2);
  assert.equal(r.string(), 'héllo');
  const seen: number[] = [];
  while (r.more) {
    const tag = r.varint();
    if (tag >>> 3 === 6) seen.push(r.varint());
    else r.skip(tag & 7);
  }
  assert.deepEqual(seen, [9]);
  const s = new ProtoReader(bytes(0x1a, 3, 1, 2, 3), 1);
  assert.deepEqual(s.span(), [2, 5]);
  assert.equal(s.more, false);
});

test('embedded messages and doubles', () => {
  const w = new ProtoWriter();
  w.bytes(1, bytes(0x08, 0x05, 0x12, 0x01, 0x78)).tag(2, 1);
  w.room(8);
  w.buf.writeDoubleLE(1.5, w.pos);
  w.pos += 8;
  const r = new ProtoReader(w.finish());
  assert.equal(r.varint(), (1 << 3) | 2);
  const m = r.sub();
  assert.deepEqual([m.varint(), m.varint(), m.varint(), m.string(), m.more], [0x08, 5, 0x12, 'x', false]);
  assert.equal(r.varint(), (2 << 3) | 1);
  assert.equal(r.double(), 1.5);
  assert.equal(r.more, false);
  assert.throws(() => new ProtoReader(bytes(1, 2, 3)).double(), /beyond the message/);
  // A sub-reader is bounded by its field, not by the buffer.
  const bounded = new ProtoReader(bytes(0x02, 0x08, 0x96, 0x01)).sub();
  assert.equal(bounded.varint(), 8);
  assert.throws(() => bounded.varint(), /truncated varint/);
});

test('malformed input: truncated, too long, past the end, unknown wire types', () => {
  const cases: [Buffer, (r: ProtoReader) => unknown, RegExp][] = [
    [bytes(0x80), (r) => r.varint(), /truncated varint/],
    [bytes(...Array(10).fill(0xff), 1), (r) => r.varint(), /longer than 10 bytes/],
    [bytes(5, 0x61), (r) => r.string(), /beyond the message/],
    [bytes(5, 0x61), (r) => r.skip(2), /beyond the message/],
    [bytes(1, 2, 3), (r) => r.skip(1), /beyond the message/],
    [bytes(1), (r) => r.skip(5), /beyond the message/],
    [bytes(0), (r) => r.skip(3), /unsupported wire type 3/],
  ];
  for (const [buf, read, message] of cases) {
    assert.throws(() => read(new ProtoReader(buf)), (e: unknown) => e instanceof ProtobufError && message.test(e.message));
  }
  // `end` bounds the reader even where the buffer goes on.
  assert.throws(() => new ProtoReader(bytes(3, 0x61, 0x62, 0x63), 0, 2).string(), ProtobufError);
});
