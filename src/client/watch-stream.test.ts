// The watch reader of port streams (watch-stream.ts) on hand-made answers cut at every byte: chunk
// sizes, CRLFs and multi-byte characters split between reads, lines spanning chunks, error answers,
// the end of the body and a stream closed early.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { streamWatch } from './watch-stream.ts';

/** A stream end as PortSocket is: what the reader wrote is kept, what it reads is emitted by the test. */
class Pipe extends EventEmitter {
  written = '';
  destroyed = false;
  write(d: string | Uint8Array): boolean {
    this.written += typeof d === 'string' ? d : Buffer.from(d).toString('latin1');
    return true;
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
  setNoDelay(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

function chunk(s: string): string {
  return `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
}

function run(wire: Buffer, cut: (b: Buffer) => Buffer[]): { lines: string[]; failure?: [number, string]; end?: { err?: Error } ; pipe: Pipe } {
  const pipe = new Pipe();
  const out: ReturnType<typeof run> = { lines: [], pipe };
  streamWatch(pipe, 'GET /w HTTP/1.1\r\n\r\n', {
    onLine: (l) => out.lines.push(l),
    onFailure: (code, body) => (out.failure = [code, body]),
    onEnd: (err) => (out.end = { err }),
  });
  for (const piece of cut(wire)) pipe.emit('data', piece);
  return out;
}

const byByte = (b: Buffer) => Array.from(b, (_, i) => b.subarray(i, i + 1));
const whole = (b: Buffer) => [b];

const ev1 = '{"type":"ADDED","object":{"metadata":{"name":"a","annotations":{"note":"é ✓ 𝄞"}}}}\n';
const ev2 = '{"type":"MODIFIED","object":{"metadata":{"name":"a"}}}\n';
const head = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';

test('events whole or cut at every byte, one per chunk or split over chunks, then the end of the body', () => {
  // The second event spans two chunks; an empty line (keep-alive) is skipped.
  const body = chunk(ev1) + chunk(ev2.slice(0, 10)) + chunk(ev2.slice(10) + '\n') + '0\r\n\r\n';
  for (const cut of [whole, byByte]) {
    const r = run(Buffer.from(head + body), cut);
    assert.deepEqual(r.lines, [ev1.trimEnd(), ev2.trimEnd()]);
    assert.equal(JSON.parse(r.lines[0]!).object.metadata.annotations.note, 'é ✓ 𝄞');
    assert.deepEqual(r.end, { err: undefined });
    assert.ok(r.pipe.destroyed, 'the stream is closed once the body ended');
    assert.match(r.pipe.written, /^GET \/w HTTP\/1\.1\r\n/);
  }
});

test('a last event without its newline still counts', () => {
  const r = run(Buffer.from(head + chunk(ev1) + chunk(ev2.trimEnd()) + '0\r\n\r\n'), byByte);
  assert.deepEqual(r.lines, [ev1.trimEnd(), ev2.trimEnd()]);
});

test('an error answer (Content-Length or chunked) is handed over whole', () => {
  const status = '{"kind":"Status","apiVersion":"v1","status":"Failure","code":403,"reason":"Forbidden","message":"no ✓"}';
  for (const wire of [
    `HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(status)}\r\n\r\n${status}`,
    `HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(status)}0\r\n\r\n`,
  ]) {
    for (const cut of [whole, byByte]) {
      const r = run(Buffer.from(wire), cut);
      assert.deepEqual(r.failure, [403, status]);
      assert.equal(r.end, undefined);
      assert.deepEqual(r.lines, []);
    }
  }
});

test('a stream closed before the body ended is an error; a broken chunk too', () => {
  const pipe = new Pipe();
  let end: { err?: Error } | undefined;
  const lines: string[] = [];
  streamWatch(pipe, 'GET /w HTTP/1.1\r\n\r\n', { onLine: (l) => lines.push(l), onFailure: () => assert.fail(), onEnd: (err) => (end = { err }) });
  pipe.emit('data', Buffer.from(head + chunk(ev1) + '5\r\n{"ty'));
  pipe.emit('close');
  assert.deepEqual(lines, [ev1.trimEnd()]);
  assert.match(end!.err!.message, /watch connection closed/);

  const bad = run(Buffer.from(head + 'zz\r\n'), whole);
  assert.match(bad.end!.err!.message, /malformed watch stream/);
  const noCrlf = run(Buffer.from(head + `${(3).toString(16)}\r\nabcXY`), whole);
  assert.match(noCrlf.end!.err!.message, /malformed watch stream/);
});

test('stopping it closes the stream and nothing more is reported', () => {
  const pipe = new Pipe();
  const lines: string[] = [];
  let ended = false;
  const stop = streamWatch(pipe, 'GET /w HTTP/1.1\r\n\r\n', { onLine: (l) => lines.push(l), onFailure: () => assert.fail(), onEnd: () => (ended = true) });
  pipe.emit('data', Buffer.from(head + chunk(ev1)));
  stop();
  pipe.emit('data', Buffer.from(chunk(ev2)));
  assert.ok(pipe.destroyed);
  assert.deepEqual(lines, [ev1.trimEnd()]);
  assert.equal(ended, false);
});
