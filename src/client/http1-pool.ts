// A lean HTTP/1.1 client for the API server's private Unix socket: keep-alive connections, one
// request at a time on each, requests beyond `maxSockets` queued. The in-process components
// (scheduler, controllers, simulated nodes) make thousands of small requests a second; node:http's
// ClientRequest/IncomingMessage machinery cost them more CPU per request than the API server spends
// answering. Watches do not come here (ApiClient streams them through node:http, or over a port
// stream with watch-stream.ts).

import net from 'node:net';
import type { EventEmitter } from 'node:events';

/** What a connection needs of its socket: a net.Socket, or a stream of src/client/port-link.ts. */
export interface PoolSocket extends EventEmitter {
  write(data: string | Uint8Array, encoding?: BufferEncoding): boolean;
  destroy(): void;
  setNoDelay(noDelay?: boolean): unknown;
  ref(): unknown;
  unref(): unknown;
}

/** Where connections go: a Unix socket's path, or a function that opens a stream. */
export type PoolTarget = string | (() => PoolSocket);

export interface PoolResponse {
  code: number;
  text: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
}

interface Pending {
  head: string;
  body?: Buffer;
  timeoutMs: number;
  resolve: (r: PoolResponse) => void;
  reject: (e: Error) => void;
  /** Sent once already on a kept-alive socket that turned out to be closed. */
  retried?: boolean;
}

/** Idle sockets are closed after this long (the server keeps them for 120 s). */
const IDLE_MS = 60_000;

class Conn {
  readonly socket: PoolSocket;
  private buf: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** Bytes needed before parsing again (known once the head says Content-Length). */
  private need = 0;
  private current?: Pending;
  private gotBytes = false;
  private timer?: NodeJS.Timeout;
  dead = false;
  /** Has answered at least one request, so the server may have closed it while idle. */
  reused = false;

  constructor(
    target: PoolTarget,
    private readonly pool: Http1Pool,
  ) {
    this.socket = typeof target === 'string' ? net.connect(target) : target();
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => this.fail(new Error('socket hang up')));
  }

  send(p: Pending): void {
    this.current = p;
    this.gotBytes = false;
    this.timer = setTimeout(() => {
      // A busy event loop runs due timers before it reads the sockets: an answer that arrived
      // while this thread was busy is read first (setImmediate runs after that read), and only a
      // request still unanswered then has timed out.
      setImmediate(() => {
        if (this.current !== p) return;
        this.fail(new Error(`request timed out after ${p.timeoutMs}ms`));
        this.socket.destroy();
      });
    }, p.timeoutMs);
    if (p.body) this.socket.write(Buffer.concat([Buffer.from(p.head, 'latin1'), p.body]));
    else this.socket.write(p.head, 'latin1');
  }

  private onData(d: Buffer): void {
    this.gotBytes = true;
    // A big answer (a LIST) comes in many reads: keep them apart until the whole body is there.
    this.parts.push(d);
    this.partsLength += d.length;
    if (this.partsLength < this.need) return;
    this.buf = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.partsLength);
    let res: ReturnType<typeof parseResponse>;
    try {
      res = parseResponse(this.buf);
    } catch (e) {
      // Not HTTP we understand: this connection is unusable, the request fails.
      this.fail(e as Error);
      return;
    }
    if (!res) {
      this.parts = [this.buf];
      this.need = expectedLength(this.buf);
      return;
    }
    this.buf = this.buf.subarray(res.consumed);
    this.parts = this.buf.length ? [this.buf] : [];
    this.partsLength = this.buf.length;
    this.need = 0;
    const p = this.current;
    this.current = undefined;
    clearTimeout(this.timer);
    this.reused = true;
    const close = res.response.headers.connection?.toLowerCase() === 'close';
    if (close) this.retire();
    p?.resolve(res.response);
    if (!close) this.pool.release(this);
  }

  /** The connection is over: whatever was in flight fails (or is retried once, see below). */
  private fail(e: Error): void {
    clearTimeout(this.timer);
    this.retire();
    const p = this.current;
    this.current = undefined;
    if (!p) return;
    // A kept-alive socket the server closed just as we wrote: nothing was processed, send again.
    if (this.reused && !this.gotBytes && !p.retried && /hang up|ECONNRESET|EPIPE/.test(String((e as NodeJS.ErrnoException).code ?? e.message))) {
      p.retried = true;
      this.pool.enqueue(p);
      return;
    }
    p.reject(e);
  }

  private retire(): void {
    if (this.dead) return;
    this.dead = true;
    this.socket.destroy();
    this.pool.forget(this);
  }

  idle(): void {
    // An idle pool must not keep the process alive: neither the socket nor its expiry timer.
    this.socket.unref();
    this.timer = setTimeout(() => this.retire(), IDLE_MS);
    this.timer.unref();
  }

  busy(): void {
    clearTimeout(this.timer);
    this.socket.ref();
  }
}

/** An HTTP/1.1 request's head: `headers` must not contain CR or LF; Host (and Content-Length, when given) added. */
export function requestHead(method: string, path: string, host: string, headers: Record<string, string | number>, contentLength?: number): string {
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const k in headers) head += `${k}: ${headers[k]}\r\n`;
  if (contentLength !== undefined) head += `Content-Length: ${contentLength}\r\n`;
  return head + '\r\n';
}

export class Http1Pool {
  private readonly idleConns: Conn[] = [];
  private readonly all = new Set<Conn>();
  private readonly waiting: Pending[] = [];
  private closed = false;

  constructor(
    private readonly socketPath: PoolTarget,
    private readonly maxSockets: number,
    /** The Host header (node:http sends the server URL's host name, which the API server ignores). */
    private readonly host = 'localhost',
  ) {}

  /** `headers` must not contain CR or LF; Host and Content-Length are added (see requestHead). */
  request(method: string, path: string, headers: Record<string, string | number>, body: string | Buffer | undefined, timeoutMs: number): Promise<PoolResponse> {
    if (this.closed) return Promise.reject(new Error('client is closed'));
    const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    const head = requestHead(method, path, this.host, headers, payload?.length);
    return new Promise((resolve, reject) => this.enqueue({ head, body: payload, timeoutMs, resolve, reject }));
  }

  enqueue(p: Pending): void {
    if (this.closed) return p.reject(new Error('client is closed'));
    const conn = this.idleConns.pop() ?? (this.all.size < this.maxSockets ? this.open() : undefined);
    if (!conn) return void this.waiting.push(p);
    conn.busy();
    conn.send(p);
  }

  release(conn: Conn): void {
    if (conn.dead) return;
    const next = this.waiting.shift();
    if (next) return conn.send(next);
    conn.idle();
    this.idleConns.push(conn);
  }

  forget(conn: Conn): void {
    this.all.delete(conn);
    const i = this.idleConns.indexOf(conn);
    if (i >= 0) this.idleConns.splice(i, 1);
    // A slot is free: a queued request may open a new connection.
    const next = this.waiting.shift();
    if (next) this.enqueue(next);
  }

  close(): void {
    this.closed = true;
    for (const p of this.waiting.splice(0)) p.reject(new Error('client is closed'));
    for (const c of [...this.all]) c.socket.destroy();
  }

  private open(): Conn {
    const c = new Conn(this.socketPath, this);
    this.all.add(c);
    return c;
  }
}

const CRLF2 = Buffer.from('\r\n\r\n');

/** Total length of the response that starts buf, if its head is complete and gives Content-Length. */
function expectedLength(buf: Buffer): number {
  const end = buf.indexOf(CRLF2);
  if (end < 0) return 0;
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(buf.toString('latin1', 0, end));
  return m ? end + 4 + Number(m[1]) : 0;
}

/** One complete response at the start of buf, or undefined if more bytes are needed. */
export function parseResponse(buf: Buffer): { response: PoolResponse; consumed: number } | undefined {
  const end = buf.indexOf(CRLF2);
  if (end < 0) return undefined;
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const code = Number(lines[0].slice(9, 12));
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    if (colon <= 0) continue;
    const k = lines[i].slice(0, colon).trim().toLowerCase();
    const v = lines[i].slice(colon + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  const start = end + 4;
  if (code === 204 || code === 304 || (code >= 100 && code < 200)) return { response: { code, text: '', headers }, consumed: start };
  if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
    const parts: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at, 'latin1');
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
      if (!Number.isFinite(size)) throw new Error('malformed chunked response');
      if (size === 0) {
        // Trailers (none expected) end with an empty line.
        const trailerEnd = buf.indexOf('\r\n', lineEnd + 2, 'latin1');
        if (trailerEnd < 0) return undefined;
        if (trailerEnd !== lineEnd + 2) {
          const t = buf.indexOf(CRLF2, lineEnd, 'latin1');
          if (t < 0) return undefined;
          return { response: { code, text: Buffer.concat(parts).toString('utf8'), headers }, consumed: t + 4 };
        }
        return { response: { code, text: Buffer.concat(parts).toString('utf8'), headers }, consumed: trailerEnd + 2 };
      }
      if (buf.length < lineEnd + 2 + size + 2) return undefined;
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const len = Number(headers['content-length'] ?? 0);
  if (buf.length < start + len) return undefined;
  return { response: { code, text: buf.toString('utf8', start, start + len), headers }, consumed: start + len };
}
