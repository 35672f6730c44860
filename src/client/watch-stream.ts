// A watch over one byte stream of src/client/port-link.ts (or any PoolSocket): the same HTTP/1.1
// request and chunked answer as a watch over the API server's private socket, read here instead of
// by node:http. Over a MessagePort each event then costs the server one copy into the turn's message
// and this thread one slice of it to parse: no socket write and read per batch of events, no
// IncomingMessage stream (docs/scale.md, "Watches over the MessagePort").

import type { PoolSocket } from './http1-pool.ts';
import { parseResponse } from './http1-pool.ts';

export interface StreamWatchCallbacks {
  /** One line of the body: a JSON-encoded watch event, without its newline. */
  onLine(line: string): void;
  /** A non-2xx answer: its code and body. */
  onFailure(code: number, body: string): void;
  /** The stream is over: no error when the server ended the body (its timeout, an ERROR event sent). */
  onEnd(err?: Error): void;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const NL = 0x0a;

/**
 * Send `head` (a complete GET request head) on `socket` and read the watch it answers. Returns
 * a function that stops reading and closes the stream. Callbacks stop once onEnd has run.
 */
export function streamWatch(socket: PoolSocket, head: string, cb: StreamWatchCallbacks): () => void {
  let ended = false;
  /** Bytes not consumed yet: the answer's head until it is complete, then a partial chunk-size line. */
  let pending: Buffer | undefined;
  let state: 'head' | 'failure' | 'size' | 'data' | 'data-crlf' | 'trailer' | 'identity' = 'head';
  let failureCode = 0;
  /** Bytes of the current chunk still to come. */
  let chunkLeft = 0;
  /** The start of a line that continues in the next chunk or message (copied: it must not pin the message). */
  let partial: Buffer[] = [];

  const end = (err?: Error) => {
    if (ended) return;
    ended = true;
    socket.destroy();
    cb.onEnd(err);
  };

  /** Body bytes: complete lines go to onLine, a trailing partial line waits. */
  const body = (b: Buffer, from: number, to: number) => {
    let start = from;
    while (start < to && !ended) {
      const nl = b.indexOf(NL, start);
      if (nl < 0 || nl >= to) {
        partial.push(Buffer.from(b.subarray(start, to)));
        return;
      }
      let line: string;
      if (partial.length) {
        partial.push(b.subarray(start, nl));
        line = Buffer.concat(partial).toString('utf8');
        partial = [];
      } else line = b.toString('utf8', start, nl);
      start = nl + 1;
      // Lines are JSON objects; blank ones (keep-alive newlines) are skipped.
      if (line.charCodeAt(0) === 123 || line.trim() !== '') cb.onLine(line);
    }
  };

  const finishBody = () => {
    // A final event may lack its newline.
    if (partial.length) {
      const line = Buffer.concat(partial).toString('utf8').trim();
      partial = [];
      if (line) cb.onLine(line);
    }
    end();
  };

  const onData = (d: Buffer) => {
    if (ended) return;
    let b = pending ? Buffer.concat([pending, d]) : d;
    pending = undefined;
    let at = 0;
    while (at < b.length && !ended) {
      switch (state) {
        case 'head': {
          const e = b.indexOf(CRLF2, at);
          if (e < 0) {
            pending = Buffer.from(b.subarray(at));
            return;
          }
          const lines = b.toString('latin1', at, e).split('\r\n');
          const code = Number(lines[0]!.slice(9, 12));
          let chunked = false;
          for (let i = 1; i < lines.length; i++) {
            const l = lines[i]!;
            const c = l.indexOf(':');
            if (c > 0 && l.slice(0, c).trim().toLowerCase() === 'transfer-encoding' && /chunked/i.test(l.slice(c + 1))) chunked = true;
          }
          if (code < 200 || code >= 300) {
            // An error answer is short: read it whole as the request pool does.
            state = 'failure';
            failureCode = code;
            pending = Buffer.from(b.subarray(at));
            return tryFailure();
          }
          at = e + 4;
          state = chunked ? 'size' : 'identity';
          break;
        }
        case 'failure':
          return;
        case 'size': {
          const e = b.indexOf('\r\n', at, 'latin1');
          if (e < 0) {
            pending = Buffer.from(b.subarray(at));
            return;
          }
          // Chunk extensions (none expected) follow a ';'.
          const text = b.toString('latin1', at, e);
          const semi = text.indexOf(';');
          const size = parseInt(semi < 0 ? text : text.slice(0, semi), 16);
          if (!Number.isFinite(size) || size < 0) return end(new Error('malformed watch stream: bad chunk size'));
          at = e + 2;
          if (size === 0) {
            state = 'trailer';
            break;
          }
          chunkLeft = size;
          state = 'data';
          break;
        }
        case 'data': {
          const n = Math.min(chunkLeft, b.length - at);
          body(b, at, at + n);
          at += n;
          chunkLeft -= n;
          if (chunkLeft === 0) state = 'data-crlf';
          break;
        }
        case 'data-crlf': {
          // The CRLF after a chunk's data; it may come split over two reads.
          if (b.length - at < 2) {
            pending = Buffer.from(b.subarray(at));
            return;
          }
          if (b[at] !== 0x0d || b[at + 1] !== NL) return end(new Error('malformed watch stream: chunk not followed by CRLF'));
          at += 2;
          state = 'size';
          break;
        }
        case 'trailer':
          // The body is complete (trailers, if any, do not matter here).
          return finishBody();
        case 'identity':
          body(b, at, b.length);
          at = b.length;
          break;
      }
    }
    if (state === 'trailer') finishBody();
  };

  const tryFailure = () => {
    let res: ReturnType<typeof parseResponse>;
    try {
      res = parseResponse(pending!);
    } catch (e) {
      return end(e as Error);
    }
    if (!res) return;
    ended = true;
    socket.destroy();
    cb.onFailure(failureCode, res.response.text);
  };

  socket.on('data', (d: Buffer) => {
    if (state === 'failure') {
      pending = Buffer.concat([pending!, d]);
      return tryFailure();
    }
    onData(d);
  });
  socket.on('error', (e: Error) => end(e));
  socket.on('close', () => {
    if (ended) return;
    if (state === 'identity') return finishBody();
    end(new Error('watch connection closed'));
  });
  socket.write(head, 'latin1');
  return () => {
    if (ended) return;
    ended = true;
    socket.destroy();
  };
}
