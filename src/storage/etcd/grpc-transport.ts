// gRPC over Node's own HTTP/2, for the etcd client: unary calls and one bidirectional stream kind,
// no more. Measured against @grpc/grpc-js on the store's hot call (a Txn of a 1.2 KB pod, 32 in
// flight, this 2-core machine): about half the CPU per call (0.09-0.10 ms against 0.19-0.23),
// which is most of what the API server spends on a create beyond its SQLite path. The protocol
// part is small: each message is a 1-byte flag and a 4-byte length before its bytes; a call is a
// POST to /package.Service/Method with content-type application/grpc, and its status comes in the
// trailers (or in the headers, for a "trailers-only" answer) as grpc-status and grpc-message.

import http2 from 'node:http2';
import { EventEmitter } from 'node:events';
import type { ConnectionOptions } from 'node:tls';
import { frameGrpcMessage, grpcStatusOf } from '../../machinery/grpc-wire.ts';

/** gRPC status codes that the client looks at. */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  FAILED_PRECONDITION: 9,
  OUT_OF_RANGE: 11,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  PERMISSION_DENIED: 7,
  UNAUTHENTICATED: 16,
} as const;

export const statusName: Record<number, string> = Object.fromEntries(Object.entries(Status).map(([k, v]) => [v, k]));

export class GrpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    /** True when the request certainly never reached the server (no connection could be made). */
    readonly notSent = false,
  ) {
    super(details || statusName[code] || `gRPC status ${code}`);
  }
}

export interface TransportOptions {
  /** http://host:port or https://host:port */
  origin: string;
  /** TLS options for https (ca, cert, key, servername, checkServerIdentity). */
  tls?: ConnectionOptions;
  keepaliveMs?: number;
  keepaliveTimeoutMs?: number;
}

/** Splits a byte stream into gRPC messages. */
class Deframer {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer, out: (msg: Buffer) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 5) {
      if (this.buf[0] !== 0) throw new GrpcError(Status.INTERNAL, 'compressed gRPC messages are not supported');
      const len = this.buf.readUInt32BE(1);
      if (this.buf.length < 5 + len) break;
      out(this.buf.subarray(5, 5 + len));
      this.buf = this.buf.subarray(5 + len);
    }
  }
  get pending(): number {
    return this.buf.length;
  }
}

/** A bidirectional stream: write() messages, 'message' events, then 'end' or 'error' (once). */
export class GrpcStream extends EventEmitter {
  private done = false;
  constructor(private readonly req: http2.ClientHttp2Stream) {
    super();
  }
  write(msg: Buffer): void {
    if (!this.done) this.req.write(frameGrpcMessage(msg));
  }
  cancel(): void {
    this.done = true;
    if (this.req && !this.req.closed) this.req.close(http2.constants.NGHTTP2_CANCEL);
  }
  /** @internal */
  finish(err?: GrpcError): void {
    if (this.done) return;
    this.done = true;
    if (err) this.emit('error', err);
    else this.emit('end');
  }
}

/** One HTTP/2 connection to one server, made on first use and again after it breaks. */
export class GrpcConnection {
  private session: http2.ClientHttp2Session | undefined;
  private connected = false;
  private pinger: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: TransportOptions) {}

  private current(): http2.ClientHttp2Session {
    if (this.closed) throw new GrpcError(Status.CANCELLED, 'connection closed', true);
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const s = http2.connect(this.o.origin, {
      ...(this.o.tls ?? {}),
      // Large lists come back in one response: windows far above HTTP/2's 64 KB default.
      settings: { initialWindowSize: 16 * 1024 * 1024, enablePush: false },
      maxSessionMemory: 64,
    });
    this.session = s;
    this.connected = false;
    s.on('connect', () => {
      this.connected = true;
      try {
        s.setLocalWindowSize(64 * 1024 * 1024);
      } catch {
        // the session died as it connected; the next call makes a new one
      }
    });
    s.on('error', () => undefined);
    const drop = () => {
      if (this.session === s) {
        this.session = undefined;
        clearInterval(this.pinger);
        this.pinger = undefined;
      }
    };
    s.on('close', drop);
    s.on('goaway', () => {
      drop();
      s.close();
    });
    // Keepalive: a connection whose peer stops answering pings is dropped (a partitioned
    // member would otherwise hold requests until their deadline, and the watch forever).
    clearInterval(this.pinger);
    const every = this.o.keepaliveMs ?? 10_000;
    const timeout = this.o.keepaliveTimeoutMs ?? 5_000;
    this.pinger = setInterval(() => {
      if (s.destroyed || !this.connected) return;
      const t = setTimeout(() => s.destroy(new Error('keepalive ping timed out')), timeout);
      try {
        s.ping((err) => {
          clearTimeout(t);
          if (err) s.destroy(err);
        });
      } catch {
        clearTimeout(t);
      }
    }, every);
    this.pinger.unref?.();
    return s;
  }

  private open(path: string, metadata: Record<string, string>, endStream: boolean): { req: http2.ClientHttp2Stream; wasConnected: boolean } {
    const s = this.current();
    const wasConnected = this.connected;
    const req = s.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...metadata }, { endStream });
    return { req, wasConnected };
  }

  /** One request, one response. */
  unary(path: string, body: Buffer, timeoutMs: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      let req: http2.ClientHttp2Stream;
      let session: http2.ClientHttp2Session;
      try {
        session = this.current();
        ({ req } = this.open(path, {}, false));
      } catch (e) {
        reject(e instanceof GrpcError ? e : new GrpcError(Status.UNAVAILABLE, (e as Error).message, true));
        return;
      }
      let settled = false;
      let status: { code: number; message: string } | undefined;
      const chunks: Buffer[] = [];
      const finish = (err?: GrpcError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          if (!req.closed) req.close(http2.constants.NGHTTP2_CANCEL);
          reject(err);
          return;
        }
        const st = status ?? { code: Status.UNKNOWN, message: 'the server sent no gRPC status' };
        if (st.code !== Status.OK) {
          reject(new GrpcError(st.code, st.message));
          return;
        }
        const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        if (all.length < 5 || all[0] !== 0) {
          reject(new GrpcError(Status.INTERNAL, all.length < 5 ? 'empty gRPC response' : 'compressed gRPC messages are not supported'));
          return;
        }
        resolve(all.subarray(5, 5 + all.readUInt32BE(1)));
      };
      const timer = setTimeout(() => finish(new GrpcError(Status.DEADLINE_EXCEEDED, `no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('response', (h) => {
        status = grpcStatusOf(h) ?? status;
        const code = Number(h[':status']);
        if (code !== 200 && !status) finish(new GrpcError(Status.UNAVAILABLE, `HTTP ${code} from the server`));
      });
      req.on('trailers', (h) => {
        status = grpcStatusOf(h) ?? status;
      });
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => finish());
      req.on('close', () => {
        if (!settled) finish(status ? undefined : new GrpcError(Status.UNAVAILABLE, 'the connection closed before an answer', false));
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        // Failing before the session ever connected means nothing was sent.
        const never = !this.connected && (session.destroyed || session.closed || /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN/.test(String(e.code ?? e.message)));
        finish(new GrpcError(Status.UNAVAILABLE, `${never ? 'No connection established: ' : ''}${e.message}`, never));
      });
      req.end(frameGrpcMessage(body));
    });
  }

  /** A bidirectional stream (the Watch). */
  stream(path: string, metadata: Record<string, string> = {}): GrpcStream {
    let opened: { req: http2.ClientHttp2Stream };
    try {
      opened = this.open(path, metadata, false);
    } catch (e) {
      const s = new GrpcStream(undefined as unknown as http2.ClientHttp2Stream);
      queueMicrotask(() => s.finish(e instanceof GrpcError ? e : new GrpcError(Status.UNAVAILABLE, (e as Error).message, true)));
      return s;
    }
    const { req } = opened;
    const gs = new GrpcStream(req);
    const deframer = new Deframer();
    let status: { code: number; message: string } | undefined;
    req.on('response', (h) => {
      status = grpcStatusOf(h) ?? status;
    });
    req.on('trailers', (h) => {
      status = grpcStatusOf(h) ?? status;
    });
    req.on('data', (d: Buffer) => {
      try {
        deframer.push(d, (m) => gs.emit('message', m));
      } catch (e) {
        gs.finish(e as GrpcError);
        if (!req.closed) req.close(http2.constants.NGHTTP2_CANCEL);
      }
    });
    req.on('end', () => {
      if (status && status.code !== Status.OK) gs.finish(new GrpcError(status.code, status.message));
      else gs.finish();
    });
    req.on('close', () => gs.finish(new GrpcError(Status.UNAVAILABLE, status?.message || 'the stream closed')));
    req.on('error', (e) => gs.finish(new GrpcError(Status.UNAVAILABLE, e.message)));
    return gs;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.pinger);
    this.session?.close();
    this.session?.destroy();
    this.session = undefined;
  }
}
