// Writes a big answer to a stream piece by piece as it drains, instead of handing it one huge
// string: Node encodes a string write into one fresh buffer of its whole size, and for a 20 MB
// answer that allocation (page faults) and copy cost more than everything else the write does.

import type { Writable } from 'node:stream';

/** Writing goes on while the stream holds less than this unsent; then it waits for 'drain'. */
const BUFFERED_BYTES = 1024 * 1024;

/**
 * The most a piece joined from small strings may take in V8's memory (a character is one byte,
 * or two if the string holds any beyond Latin-1). A string of 128 KB or more is allocated in V8's
 * large-object space, fresh pages each time: joining 21 MB into 128 KB pieces took 176 ms of CPU
 * against 6 ms in 64 KB ones, and 512 KB pieces raised a 10,000-pod LIST's server CPU from
 * 39-51 ms to 157-160 (`npm run bench -- list-wall`, 2026-12-07). So pieces stay at 64 KB.
 */
export const PIECE_BYTES = 64 * 1024;

/** How many UTF-16 units of a big string go into one write (slices of it share its memory). */
export const PIECE_CHARS = 64 * 1024;

/** Writes `next()`'s pieces until it returns undefined, then ends the stream; stops if it is destroyed. */
export function writeInPieces(sink: Writable, next: () => string | undefined): void {
  const write = (): void => {
    for (;;) {
      if (sink.destroyed) return;
      const piece = next();
      if (piece === undefined) break;
      sink.write(piece);
      if (sink.writableLength >= BUFFERED_BYTES && sink.writableNeedDrain) {
        sink.once('drain', write);
        return;
      }
    }
    sink.end();
  };
  write();
}

/** A string's pieces of about PIECE_CHARS, never splitting a surrogate pair (each piece is encoded alone). */
export function slices(text: string): () => string | undefined {
  let at = 0;
  return () => {
    if (at >= text.length) return undefined;
    let end = Math.min(text.length, at + PIECE_CHARS);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    const piece = text.slice(at, end);
    at = end;
    return piece;
  };
}
