// HTTP/1.1 connection upgrades (WebSocket, SPDY/3.1) as a client and as a proxy: dial a URL asking
// for an upgrade, relay an upgrade request to another server and then pipe the two connections
// byte for byte (what upstream's UpgradeAwareHandler does for exec, attach and port-forward), and
// write plain HTTP answers on a socket that has left Node's HTTP server.

import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { Writable, type Duplex } from 'node:stream';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

export interface UpgradeDialOptions {
  method?: string;
  headers: OutgoingHttpHeaders;
  /** For https URLs: trust, client certificate, and how to check the server's name. */
  tls?: {
    ca?: string;
    cert?: string;
    key?: string;
    rejectUnauthorized?: boolean;
    checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
  };
  /** Connect to this address instead of the URL's host (the URL still names the server). */
  connectHost?: string;
  /** Give up when connecting and answering take longer than this (default 30 s). */
  timeoutMs?: number;
}

/** The server answered without switching protocols. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly headers: http.IncomingHttpHeaders,
    readonly body: Buffer,
  ) {
    super(`the server answered ${status} instead of switching protocols: ${body.toString('utf8', 0, Math.min(body.length, 512)).trim()}`);
  }
}

/** Largest error body kept from a server that refused an upgrade. */
const MAX_REFUSAL_BODY = 1 << 20;

export interface UpgradedConnection {
  socket: Duplex;
  /** Bytes the server sent right after its 101 answer. */
  head: Buffer;
  response: IncomingMessage;
}

export function dialUpgrade(url: string, opts: UpgradeDialOptions): Promise<UpgradedConnection> {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  if (!secure && u.protocol !== 'http:') return Promise.reject(new Error(`unsupported URL scheme in ${url}`));
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const reqOpts: https.RequestOptions = {
    method: opts.method ?? 'GET',
    host: opts.connectHost ?? host,
    port: u.port || (secure ? 443 : 80),
    path: `${u.pathname}${u.search}`,
    headers: { Host: u.host, ...opts.headers },
    agent: false,
  };
  if (secure) {
    Object.assign(reqOpts, {
      ca: opts.tls?.ca,
      cert: opts.tls?.cert,
      key: opts.tls?.key,
      rejectUnauthorized: opts.tls?.rejectUnauthorized ?? true,
      // The name checked is the URL's, even when connecting elsewhere.
      checkServerIdentity: (_h: string, cert: PeerCertificate) => (opts.tls?.checkServerIdentity ?? checkServerIdentity)(host, cert),
      servername: /^[\d.]+$|:/.test(host) ? undefined : host,
    });
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const req = (secure ? https : http).request(reqOpts);
    const timer = setTimeout(() => {
      finish(() => reject(new Error(`timed out after ${Math.round((opts.timeoutMs ?? 30_000) / 1000)}s waiting for ${u.host}`)));
      req.destroy();
    }, opts.timeoutMs ?? 30_000);
    req.on('upgrade', (response, socket, head) => {
      socket.setTimeout?.(0);
      finish(() => resolve({ socket, head, response }));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_REFUSAL_BODY) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => finish(() => reject(new UpgradeRefused(res.statusCode ?? 500, res.headers, Buffer.concat(chunks)))));
      res.on('error', (e) => finish(() => reject(e)));
    });
    req.on('error', (e) => finish(() => reject(e)));
    req.end();
  });
}

/** Request headers an upgrade needs passed on; everything else (credentials included) stays here. */
const FORWARDED = new Set(['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions', 'x-stream-protocol-version', 'user-agent', 'origin']);

export function upgradeHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    const value = req.rawHeaders[i + 1];
    const lower = name.toLowerCase();
    if (!FORWARDED.has(lower)) continue;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  return out;
}

/** True when a request asks to switch to WebSocket. */
export function isWebSocketRequest(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket' && /(^|,)\s*upgrade\s*(,|$)/i.test(req.headers.connection ?? '');
}

const REASONS: Record<number, string> = http.STATUS_CODES as Record<number, string>;

/** Write a whole HTTP answer on a raw socket and close it. */
export function writeRawResponse(socket: Duplex, status: number, headers: Record<string, string | number | string[]>, body: Buffer | string = ''): void {
  if (socket.destroyed) return;
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? 'Unknown'}\r\n`;
  for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) head += `${k}: ${one}\r\n`;
  head += `Content-Length: ${b.length}\r\nConnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), b]));
}

/** Write the server's 101 answer, as it was, to the client. */
export function writeSwitchingProtocols(socket: Duplex, response: IncomingMessage): void {
  let head = `HTTP/1.1 101 ${response.statusMessage || 'Switching Protocols'}\r\n`;
  for (let i = 0; i < response.rawHeaders.length; i += 2) head += `${response.rawHeaders[i]}: ${response.rawHeaders[i + 1]}\r\n`;
  socket.write(head + '\r\n', 'latin1');
}

/**
 * Writes a server's WebSocket byte stream to the client one whole frame at a time, each write
 * waiting for the one before. Over TLS each frame then travels in its own record, as it left the
 * origin server: clients that wait for the next frame with poll() on the raw socket (the Python
 * client's ws_client) would otherwise leave frames that shared a record unread in their TLS buffer
 * until more bytes arrive. (Writes queued behind a pending one are merged into one record.)
 */
export class WebSocketFrameWriter extends Writable {
  private buf: Buffer = Buffer.alloc(0);
  private passthrough = false;

  constructor(private readonly target: Duplex) {
    super({ highWaterMark: 64 * 1024 });
  }

  _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.passthrough) return void this.target.write(chunk, () => cb());
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Buffer[] = [];
    for (;;) {
      const n = frameLength(this.buf);
      if (n === undefined || n > this.buf.length) break;
      if (n < 0) {
        // Not WebSocket framing after all: relay the bytes as they come.
        this.passthrough = true;
        frames.push(this.buf);
        this.buf = Buffer.alloc(0);
        break;
      }
      frames.push(this.buf.subarray(0, n));
      this.buf = this.buf.subarray(n);
    }
    const next = (i: number): void => {
      if (i >= frames.length || this.target.destroyed) return cb();
      this.target.write(frames[i], () => next(i + 1));
    };
    next(0);
  }

  _final(cb: () => void): void {
    if (this.buf.length && !this.target.destroyed) this.target.write(this.buf);
    if (!this.target.destroyed) closeSoon(this.target);
    cb();
  }
}

/** Length of the WebSocket frame at the start of `b`: undefined until its header is complete, -1 if absurd. */
function frameLength(b: Buffer): number | undefined {
  if (b.length < 2) return undefined;
  const masked = (b[1] & 0x80) !== 0;
  let len = b[1] & 0x7f;
  let at = 2;
  if (len === 126) {
    if (b.length < 4) return undefined;
    len = b.readUInt16BE(2);
    at = 4;
  } else if (len === 127) {
    if (b.length < 10) return undefined;
    const big = b.readBigUInt64BE(2);
    if (big > BigInt(1 << 30)) return -1;
    len = Number(big);
    at = 10;
  }
  return at + (masked ? 4 : 0) + len;
}

/** End a connection once what was written to it has been flushed. */
function closeSoon(s: Duplex): void {
  const sock = s as Duplex & { destroySoon?: () => void };
  if (typeof sock.destroySoon === 'function') sock.destroySoon();
  else s.end();
}

/**
 * Pipe two connections both ways. When one side is done, the other is ended once its pending writes
 * are flushed (never cut: the last frames of an exec carry its exit status); an error cuts both.
 * `toA`, when given, is what writes b's bytes to a (and ends a itself).
 */
export function splice(a: Duplex, b: Duplex, toA?: Writable): void {
  a.pipe(b);
  b.pipe(toA ?? a);
  const cut = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', cut);
  b.on('error', cut);
  a.on('close', () => {
    if (!b.destroyed) closeSoon(b);
  });
  b.on('close', () => {
    const w = toA ?? a;
    if (toA && !toA.writableEnded) toA.end();
    else if (!toA && !w.destroyed) closeSoon(a);
  });
}

/**
 * Relay an upgrade request to `url` and, once the server switches protocols, pipe the client's
 * connection to it. A server that refuses gets its answer passed back to the client unchanged.
 * Rejects (with the client socket untouched) when the server cannot be reached.
 */
export async function proxyUpgrade(req: IncomingMessage, clientSocket: Duplex, head: Buffer, url: string, opts: Omit<UpgradeDialOptions, 'headers' | 'method'> & { headers?: OutgoingHttpHeaders }): Promise<void> {
  let up: UpgradedConnection;
  try {
    up = await dialUpgrade(url, { ...opts, method: req.method, headers: { ...upgradeHeaders(req), ...(opts.headers ?? {}) } });
  } catch (e) {
    if (e instanceof UpgradeRefused) {
      const headers: Record<string, string> = {};
      const ct = e.headers['content-type'];
      if (ct) headers['Content-Type'] = ct;
      writeRawResponse(clientSocket, e.status, headers, e.body);
      return;
    }
    throw e;
  }
  if (clientSocket.destroyed) {
    up.socket.destroy();
    return;
  }
  writeSwitchingProtocols(clientSocket, up.response);
  const websocket = (up.response.headers.upgrade ?? '').toLowerCase() === 'websocket';
  const toClient = websocket ? new WebSocketFrameWriter(clientSocket) : undefined;
  if (up.head.length) (toClient ?? clientSocket).write(up.head);
  if (head.length) up.socket.write(head);
  splice(clientSocket, up.socket, toClient);
}
