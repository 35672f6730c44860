// The shared protobuf writer: proto3's omitted zeros, a reserved length prefix filled in after the
// body, and refusal of what a varint field cannot hold.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoReader } from './protobuf-reader.ts';
import { ProtoWriter } from './protobuf-writer.ts';

test('zero scalars and empty bytes are left out unless asked for', () => {
  const w = new ProtoWriter().uint(1, 0).bool(2, false).bool(3, undefined).bytes(4, '').bytes(5, undefined);
  assert.equal(w.finish().length, 0);
  w.uint(1, 0, true).bytes(4, Buffer.alloc(0), true);
  assert.deepEqual([...w.finish()], [0x08, 0, 0x22, 0]);
});

test('an embedded message: copied from its own writer, or written in place behind a padded length', () => {
  const inner = new ProtoWriter().bytes(1, 'x');
  assert.deepEqual([...new ProtoWriter().message(2, inner).finish()], [0x12, 3, 0x0a, 1, 0x78]);

  const w = new ProtoWriter(2);
  w.tag(2, 2);
  const start = w.beginLength();
  w.lengthDelimited('y'.repeat(200));
  w.endLength(start);
  const r = new ProtoReader(w.finish());
  assert.equal(r.varint(), 0x12);
  const [a, b] = r.span();
  assert.equal(b - a, 202);
  const body = new ProtoReader(r.buf, a, b);
  assert.equal(body.string(), 'y'.repeat(200));
});

test('uint refuses what is not a non-negative safe integer', () => {
  assert.throws(() => new ProtoWriter().uint(1, -1), RangeError);
  assert.throws(() => new ProtoWriter().uint(1, 2 ** 53), RangeError);
  assert.throws(() => new ProtoWriter().uint(1, 1.5), RangeError);
});
