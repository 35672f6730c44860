import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { FrameReader, FrameWriter, FrameError, RstStatus, GoAwayStatus, type Frame, type OutFrame } from './frames.ts';
import { HeaderCompressor, HeaderDecompressor, decodeHeaderBlock, encodeHeaderBlock, HeaderBlockError, headerValue } from './header-block.ts';
import { SPDY3_DICTIONARY } from './dictionary.ts';

/** The bytes of frames written in order through one writer. */
async function wire(...frames: OutFrame[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const w = new FrameWriter((parts) => {
    out.push(...parts);
    return true;
  });
  for (const f of frames) w.write(f);
  await new Promise<void>((r) => w.after(r));
  return Buffer.concat(out);
}

/** Frames read from bytes fed `step` bytes at a time. */
async function read(bytes: Buffer, step = bytes.length, maxPayload?: number): Promise<Frame[]> {
  const got: Frame[] = [];
  let error: Error | undefined;
  const r = new FrameReader((f) => got.push(f), (e) => (error = e), maxPayload);
  for (let o = 0; o < bytes.length; o += step) r.push(bytes.subarray(o, o + step));
  for (let i = 0; i < 2000 && !error && r.queued > 0; i++) await new Promise((res) => setTimeout(res, 1));
  if (error) throw error;
  assert.equal(r.buffered, 0);
  return got;
}

test('the dictionary is the 1423 bytes of the SPDY/3 draft', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.equal(SPDY3_DICTIONARY.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
  assert.ok(SPDY3_DICTIONARY.toString('latin1').endsWith('charset=iso-8859-1,utf-,*,enq=0.'));
});

test('header blocks round-trip names, several values and empty values', () => {
  const block = encodeHeaderBlock({ StreamType: 'stdin', port: ['80', '81'], empty: '' });
  const h = decodeHeaderBlock(block);
  assert.deepEqual(h.streamtype, ['stdin']);
  assert.deepEqual(h.port, ['80', '81']);
  assert.deepEqual(h.empty, ['']);
  assert.equal(headerValue(h, 'streamType'), 'stdin');
});

test('header blocks that are malformed are refused', () => {
  const upper = Buffer.from(encodeHeaderBlock({ x: 'y' }));
  upper[8] = 'X'.charCodeAt(0);
  assert.throws(() => decodeHeaderBlock(upper), HeaderBlockError);
  assert.throws(() => decodeHeaderBlock(encodeHeaderBlock({ a: 'b' }).subarray(0, 10)), /truncated/);
  const dup = Buffer.concat([Buffer.from([0, 0, 0, 2]), encodeHeaderBlock({ a: 'b' }).subarray(4), encodeHeaderBlock({ a: 'c' }).subarray(4)]);
  assert.throws(() => decodeHeaderBlock(dup), /duplicate/);
  const many = Buffer.from([0, 1, 0, 0]);
  assert.throws(() => decodeHeaderBlock(many), /headers/);
});

test('one compression context spans the blocks of a connection, with the SPDY dictionary', async () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor();
  const blocks = await Promise.all([c.compress({ streamtype: 'error' }), c.compress({ streamtype: 'stdout' }), c.compress({ streamtype: 'stdout' })]);
  // zlib header: FDICT set, dictionary id = Adler-32 of the dictionary.
  assert.equal(blocks[0][1] & 0x20, 0x20);
  assert.ok(blocks[2].length < blocks[0].length, 'a repeated block compresses against the earlier ones');
  const got = await Promise.all(blocks.map((b) => d.decompress(b)));
  assert.deepEqual(got.map((h) => h.streamtype), [['error'], ['stdout'], ['stdout']]);
  // A later block alone is not decodable: contexts must stay in step.
  await assert.rejects(new HeaderDecompressor().decompress(blocks[1]), HeaderBlockError);
});

test('a peer using a different dictionary is detected', async () => {
  const other = zlib.deflateSync(encodeHeaderBlock({ a: 'b' }), { dictionary: Buffer.from('not the spdy dictionary') });
  await assert.rejects(new HeaderDecompressor().decompress(other), /decompress/);
});

test('header blocks inflating past the limit are refused', async () => {
  const huge = await new HeaderCompressor().compress({ big: 'x'.repeat(2 << 20) });
  await assert.rejects(new HeaderDecompressor().decompress(huge), HeaderBlockError);
});

const samples: OutFrame[] = [
  { type: 'syn_stream', streamId: 1, priority: 3, fin: false, headers: { streamtype: 'error' } },
  { type: 'syn_stream', streamId: 3, unidirectional: true, fin: true, headers: { streamtype: 'data', port: '8080', requestid: '0' } },
  { type: 'syn_reply', streamId: 1, headers: {} },
  { type: 'headers', streamId: 1, fin: true, headers: { a: ['1', '2'] } },
  { type: 'data', streamId: 5, data: Buffer.from('hello') },
  { type: 'data', streamId: 5, fin: true, data: Buffer.alloc(0) },
  { type: 'rst_stream', streamId: 7, status: RstStatus.Cancel },
  { type: 'settings', clear: true, entries: [{ flags: 1, id: 7, value: 65536 }, { id: 4, value: 100 }] },
  { type: 'ping', id: 0xfffffffe },
  { type: 'goaway', lastGoodStreamId: 9, status: GoAwayStatus.ProtocolError },
  { type: 'window_update', streamId: 1, delta: 1000 },
];

test('every frame type round-trips in order, even fed one byte at a time', async () => {
  const bytes = await wire(...samples);
  for (const step of [bytes.length, 1, 7]) {
    const got = await read(bytes, step);
    assert.equal(got.length, samples.length);
    assert.deepEqual(got[0], { type: 'syn_stream', streamId: 1, associatedId: 0, priority: 3, slot: 0, fin: false, unidirectional: false, headers: { streamtype: ['error'] } });
    assert.deepEqual(got[1], { type: 'syn_stream', streamId: 3, associatedId: 0, priority: 0, slot: 0, fin: true, unidirectional: true, headers: { streamtype: ['data'], port: ['8080'], requestid: ['0'] } });
    assert.deepEqual(got[2], { type: 'syn_reply', streamId: 1, fin: false, headers: {} });
    assert.deepEqual(got[3], { type: 'headers', streamId: 1, fin: true, headers: { a: ['1', '2'] } });
    assert.deepEqual(got[4], { type: 'data', streamId: 5, fin: false, data: Buffer.from('hello') });
    assert.deepEqual(got[5], { type: 'data', streamId: 5, fin: true, data: Buffer.alloc(0) });
    assert.deepEqual(got[6], { type: 'rst_stream', streamId: 7, status: 5 });
    assert.deepEqual(got[7], { type: 'settings', clear: true, entries: [{ flags: 1, id: 7, value: 65536 }, { flags: 0, id: 4, value: 100 }] });
    assert.deepEqual(got[8], { type: 'ping', id: 0xfffffffe });
    assert.deepEqual(got[9], { type: 'goaway', lastGoodStreamId: 9, status: 1 });
    assert.deepEqual(got[10], { type: 'window_update', streamId: 1, delta: 1000 });
  }
});

test('frames are laid out as SPDY/3 specifies', async () => {
  assert.equal((await wire({ type: 'ping', id: 1 })).toString('hex'), '80030006' + '00000004' + '00000001');
  assert.equal((await wire({ type: 'rst_stream', streamId: 3, status: 5 })).toString('hex'), '80030003' + '00000008' + '00000003' + '00000005');
  assert.equal((await wire({ type: 'data', streamId: 5, fin: true, data: Buffer.from('hi') })).toString('hex'), '00000005' + '01000002' + '6869');
  const syn = await wire({ type: 'syn_stream', streamId: 1, priority: 7, fin: true, headers: {} });
  assert.equal(syn.subarray(0, 5).toString('hex'), '8003000101');
  assert.equal(syn.readUInt32BE(4) & 0xffffff, syn.length - 8);
  assert.equal(syn[16], 7 << 5);
});

test('malformed frames are protocol errors', async () => {
  const bad = (hex: string) => read(Buffer.from(hex, 'hex'));
  await assert.rejects(bad('80020006' + '00000004' + '00000001'), /version 2/);
  await assert.rejects(bad('00000000' + '00000001' + '00'), /stream 0/);
  await assert.rejects(bad('80030003' + '00000008' + '00000003' + '00000000'), /status 0/);
  await assert.rejects(bad('80030006' + '00000002' + '0000'), FrameError);
  await assert.rejects(bad('80030004' + '00000004' + '00000009'), /entries/);
  await assert.rejects(bad('80030001' + '0000000e' + '00000001' + '00000000' + '0000' + 'deadbeef'), /decompress/);
  await assert.rejects(read(Buffer.from('00000001' + '00000fff', 'hex'), undefined, 100), /exceeds/);
  // Unknown control types are skipped, not errors.
  assert.deepEqual(await read(Buffer.from('8003000a' + '00000002' + 'abcd', 'hex')), [{ type: 'unknown', frameType: 10 }]);
});

test('frames after a header block wait for it: order is kept', async () => {
  const bytes = await wire(
    { type: 'syn_stream', streamId: 1, headers: { streamtype: 'stdin' } },
    { type: 'data', streamId: 1, data: Buffer.from('a') },
    { type: 'syn_stream', streamId: 3, headers: { streamtype: 'stdout' } },
    { type: 'data', streamId: 1, fin: true, data: Buffer.from('b') },
  );
  const got = await read(bytes);
  assert.deepEqual(got.map((f) => f.type + ('streamId' in f ? f.streamId : '')), ['syn_stream1', 'data1', 'syn_stream3', 'data1']);
});
