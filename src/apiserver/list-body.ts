// A LIST answer written to the socket in pieces as it drains, instead of as one string. Each
// object's JSON is already cached; joining 10,000 of them into one 20 MB string, measuring it and
// encoding it to UTF-8 took three fresh 20 MB allocations per LIST (page faults and copies: about
// three quarters of the LIST's CPU). Pieces of ~64 KB are built, written and freed one by one, in
// memory the allocator reuses. Gzip (for clients that accept it) is streamed the same way, on
// libuv's thread pool, as upstream's compressing writer streams it.

import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { acceptsGzip, gzipMinBytes, indentJSON, sendBody } from './http-util.ts';
import { prettyRequested } from './query-params.ts';
import { PIECE_CHARS, writeInPieces } from './piecewise-write.ts';
import type { CachedObject } from './registry/cached-object.ts';

/**
 * Sends `head`, the items' JSON separated by commas, and `tail` (a list object whose items array
 * sits between head and tail). With Content-Length, or gzip-compressed (chunked) when the client
 * accepts it and the answer is big; indented whole when a person asked (?pretty).
 */
export function sendJSONList(res: ServerResponse, code: number, head: string, items: readonly CachedObject[], tail: string, headers: Record<string, string> = {}): void {
  if (prettyRequested(res.req)) {
    const text = indentJSON(`${head}${items.map((c) => c.json).join(',')}${tail}`);
    return sendBody(res, code, text, { 'Content-Type': 'application/json', ...headers });
  }
  let bytes = Buffer.byteLength(head) + Buffer.byteLength(tail) + Math.max(0, items.length - 1);
  for (const c of items) bytes += c.jsonBytes;
  if (bytes >= gzipMinBytes && acceptsGzip(res.req)) {
    const vary = headers.Vary ? `${headers.Vary}, Accept-Encoding` : 'Accept-Encoding';
    res.writeHead(code, { 'Content-Type': 'application/json', ...headers, Vary: vary, 'Content-Encoding': 'gzip' });
    const gz = zlib.createGzip({ level: 1 });
    gz.on('error', () => res.destroy());
    res.on('close', () => gz.destroy());
    gz.pipe(res);
    return pump(gz, head, items, tail);
  }
  res.writeHead(code, { 'Content-Type': 'application/json', ...headers, 'Content-Length': bytes });
  pump(res, head, items, tail);
}

/** Writes head, items and tail to `sink` in pieces of about PIECE_CHARS, then ends it. */
function pump(sink: Writable, head: string, items: readonly CachedObject[], tail: string): void {
  const n = items.length;
  let i = -1; // -1: the head is still to be written; n + 1: everything is.
  writeInPieces(sink, () => {
    if (i > n) return undefined;
    const piece: string[] = [];
    let chars = 0;
    if (i < 0) {
      piece.push(head);
      chars += head.length;
      i = 0;
    }
    for (; i < n && chars < PIECE_CHARS; i++) {
      const json = items[i].json;
      if (i > 0) piece.push(',');
      piece.push(json);
      chars += json.length + 1;
    }
    if (i === n) {
      piece.push(tail);
      i++;
    }
    return piece.join('');
  });
}
