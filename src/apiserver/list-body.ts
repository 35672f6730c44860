// A LIST answer written to the socket in pieces as it drains, instead of as one string. Each
// object's JSON is already cached; joining 10,000 of them into one 20 MB string, measuring it and
// encoding it to UTF-8 took three fresh 20 MB allocations per LIST (page faults and copies: about
// three quarters of the LIST's CPU). Pieces of ~64 KB are built, written and freed one by one, in
// memory the allocator reuses (below V8's large-object size, see piecewise-write.ts). Gzip (for clients that accept it) is streamed the same way, on
// libuv's thread pool, as upstream's compressing writer streams it.

import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { acceptsGzip, gzipMinBytes, gzipVary, indentJSON, sendBody, sendGzipped, syncGzipMaxBytes } from './http-util.ts';
import { prettyRequested } from './query-params.ts';
import { PIECE_BYTES, writeInPieces } from './piecewise-write.ts';

/**
 * Sends `head`, the items' JSON separated by commas, and `tail` (a list object whose items array
 * sits between head and tail). With Content-Length, or gzip-compressed (chunked) when the client
 * accepts it and the answer is big; indented whole when a person asked (?pretty).
 */
/** What a list's item gives the writer: its JSON and that JSON's UTF-8 length (a CachedObject, a Table row). */
export interface ListItem {
  readonly json: string;
  readonly jsonBytes: number;
  /**
   * Pushes `json` onto `out` as ASCII pieces and says true, or pushes nothing and says false (the
   * writer then takes `json`): a cached object's packed stored text, never joined on its own.
   */
  pushJSON?(out: string[]): boolean;
}

export function sendJSONList(res: ServerResponse, code: number, head: string, items: readonly ListItem[], tail: string, headers: Record<string, string> = {}): void {
  if (prettyRequested(res.req)) {
    const text = indentJSON(`${head}${items.map((c) => c.json).join(',')}${tail}`);
    return sendBody(res, code, text, { 'Content-Type': 'application/json', ...headers });
  }
  let bytes = Buffer.byteLength(head) + Buffer.byteLength(tail) + Math.max(0, items.length - 1);
  for (const c of items) bytes += c.jsonBytes;
  if (bytes >= gzipMinBytes && acceptsGzip(res.req)) {
    // A small one (the console's nodes' Table) joined and compressed at once: no thread pool
    // round trips (see syncGzipMaxBytes), and one string of at most a megabyte.
    if (bytes <= syncGzipMaxBytes) {
      const text = `${head}${items.map((c) => c.json).join(',')}${tail}`;
      return sendGzipped(res, code, zlib.gzipSync(text, { level: 1 }), { 'Content-Type': 'application/json', ...headers });
    }
    res.writeHead(code, { 'Content-Type': 'application/json', ...headers, Vary: gzipVary(headers), 'Content-Encoding': 'gzip' });
    const gz = zlib.createGzip({ level: 1 });
    gz.on('error', () => res.destroy());
    res.on('close', () => gz.destroy());
    gz.pipe(res);
    return pump(gz, head, items, tail);
  }
  res.writeHead(code, { 'Content-Type': 'application/json', ...headers, 'Content-Length': bytes });
  pump(res, head, items, tail);
}

/**
 * Writes head, items and tail to `sink` in pieces of at most about PIECE_BYTES of V8 string (an
 * item that is not plain ASCII may be stored two bytes a character, so it counts double), then
 * ends it. An item of half a piece or more is written as it is, never copied into a piece: a
 * joined string of PIECE_BYTES or more lands in V8's large-object space (see piecewise-write.ts).
 * A packed object's stored pieces go into the piece as they are held (ListItem.pushJSON): a page
 * of 500 pods joined each pod's pieces into its text, then the texts into 64 KB pieces, two
 * copies of the page (~2 MB) in V8's young generation; now one (`npm run bench -- page-build`).
 */
function pump(sink: Writable, head: string, items: readonly ListItem[], tail: string): void {
  const n = items.length;
  let i = 0;
  const queue: string[] = [head];
  writeInPieces(sink, () => {
    if (queue.length) return queue.shift();
    if (i > n) return undefined;
    const piece: string[] = [];
    let bytes = 0;
    for (; i < n; i++) {
      const c = items[i];
      const size0 = c.pushJSON ? c.jsonBytes : -1;
      if (size0 >= 0 && size0 < PIECE_BYTES / 2) {
        // A packed object's pieces go into this piece as they are held (ASCII, so bytes = chars).
        if (bytes + size0 + 1 > PIECE_BYTES) break;
        const at = piece.length;
        if (i > 0) piece.push(',');
        if (c.pushJSON!(piece)) {
          bytes += size0 + 1;
          continue;
        }
        piece.length = at;
      }
      // Once: a stored object's JSON is built when asked for (resourceVersion spliced in, pieces joined).
      const json = c.json;
      const size = c.jsonBytes === json.length ? json.length : 2 * json.length;
      if (size >= PIECE_BYTES / 2) {
        // Alone: the comma (if any) ends the current piece, the item follows as its own write.
        if (i > 0) piece.push(',');
        queue.push(json);
        i++;
        break;
      }
      if (bytes + size + 1 > PIECE_BYTES) break;
      if (i > 0) piece.push(',');
      piece.push(json);
      bytes += size + 1;
    }
    if (i === n) {
      // The tail after the last item (joined into this piece, or queued after a lone big item).
      if (queue.length) queue.push(tail);
      else piece.push(tail);
      i++;
    }
    return piece.length ? piece.join('') : queue.shift();
  });
}
