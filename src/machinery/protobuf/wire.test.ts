import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireReader } from './wire.ts';
import { StatusError } from '../errors.ts';
import { pb, cat } from './encode-for-tests.ts';

test('varints: 64-bit, negative int32/int64, bools', () => {
  const r = new WireReader(cat(pb.int(1, 2n ** 63n - 1n), pb.int(2, -1), pb.int(3, -5), pb.int(4, true)));
  assert.deepEqual(r.tag(), { field: 1, wire: 0 });
  assert.equal(r.varint(), 2n ** 63n - 1n);
  r.tag();
  assert.equal(r.int32(), -1);
  r.tag();
  assert.equal(r.int64(), -5);
  r.tag();
  assert.equal(r.bool(), true);
  assert.equal(r.done, true);
});

test('length-delimited, fixed and skipping', () => {
  const fixed64 = Uint8Array.from([0x09, ...new Uint8Array(new Float64Array([1.5]).buffer)]);
  const fixed32 = Uint8Array.from([0x15, 1, 2, 3, 4]);
  const r = new WireReader(cat(pb.str(1, 'héllo'), fixed64, fixed32, pb.str(3, 'x')));
  r.tag();
  assert.equal(r.string(), 'héllo');
  assert.deepEqual(r.tag(), { field: 1, wire: 1 });
  assert.equal(r.double(), 1.5);
  r.skip(r.tag().wire);
  assert.deepEqual(r.tag(), { field: 3, wire: 2 });
  assert.equal(r.sub().done, false);
  assert.equal(r.done, true);
});

test('truncation and bad tags are 400 StatusErrors', () => {
  const bad = (bytes: number[], fn: (r: WireReader) => unknown) =>
    assert.throws(() => fn(new WireReader(Uint8Array.from(bytes))), (e: unknown) => e instanceof StatusError && e.code === 400);
  bad([0x80], (r) => r.varint());
  bad([0x05, 0x61], (r) => r.bytes());
  bad([1, 2, 3], (r) => r.fixed64());
  bad([1, 2], (r) => r.fixed32());
  bad([0x00], (r) => r.tag());
  bad([0x0b], (r) => r.skip(r.tag().wire));
});
