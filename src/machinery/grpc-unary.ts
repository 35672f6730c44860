// One HTTP/2 connection for gRPC calls, with node:http2 alone: what the etcd store's transport and
// the kubelet's CRI channel share. A unary call is a POST to /package.Service/Method with
// content-type application/grpc and `te: trailers`, one framed message each way (grpc-wire.ts),
// and its status in the trailers (or the headers of a trailers-only answer). Without grpc-js's
// channel, resolver, load-balancer and interceptor layers a call costs about half the CPU.
//
// The connection goes to a TCP origin (http:// or https:// with TLS options: etcd) or to a unix
// socket (containerd). It is dialled on the first call and again after it broke: a call while the
// server is down fails at once with UNAVAILABLE instead of queueing, so callers see the outage and
// retry on their own schedule. Streams (etcd's Watch) are opened on the same connection.

import http2 from 'node:http2';
import net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { frameGrpcMessage, grpcStatusOf } from './grpc-wire.ts';
import { installFastAsyncResourceBind } from './async-resource-bind.ts';

// Every call is a ClientHttp2Session.request(), which binds an AsyncResource: see that module.
installFastAsyncResourceBind();

/** gRPC status codes that the callers look at. */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  OUT_OF_RANGE: 11,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export const grpcCodeName: Record<number, string> = Object.fromEntries(Object.entries(GrpcCode).map(([k, v]) => [v, k]));

export class GrpcCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    /** True when the request certainly never reached the server (no connection could be made). */
    readonly notSent = false,
  ) {
    super(details || grpcCodeName[code] || `gRPC status ${code}`);
  }
}

/** Where the connection goes: a TCP origin (http://host:port, or https:// with TLS options) or a unix socket. */
export type GrpcConnector = { origin: string; tls?: ConnectionOptions } | { socketPath: string };

export interface GrpcChannelOptions {
  connector: GrpcConnector;
  /** Answers larger than this fail with RESOURCE_EXHAUSTED (default: no limit). */
  maxReceiveBytes?: number;
  /** Tell the server each call's deadline (grpc-timeout), so it stops working on a call given up. */
  sendDeadline?: boolean;
  /** Ping every this many ms and drop a connection whose peer does not answer within keepaliveTimeoutMs (default: no pings). */
  keepaliveMs?: number;
  keepaliveTimeoutMs?: number;
  /** Only calls in flight keep the process alive (a kubelet's runtime connection); streams do not count. */
  unrefWhenIdle?: boolean;
}

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_STATUS, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_TE, NGHTTP2_CANCEL } = http2.constants;

/** Errors that mean the connection was never made. */
const NEVER_CONNECTED = /ECONNREFUSED|ENOENT|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN/;

export class GrpcChannel {
  private session: http2.ClientHttp2Session | undefined;
  private connected = false;
  private pinger: NodeJS.Timeout | undefined;
  private closed = false;
  /** Unary calls in flight (with unrefWhenIdle, they keep the connection referenced). */
  private active = 0;

  constructor(private readonly o: GrpcChannelOptions) {}

  /** Whether the current connection has completed its handshake. */
  get isConnected(): boolean {
    return this.connected;
  }

  /** The connection, dialled if there is none; throws GrpcCallError(CANCELLED) once closed. */
  current(): http2.ClientHttp2Session {
    if (this.closed) throw new GrpcCallError(GrpcCode.CANCELLED, 'connection closed', true);
    const cur = this.session;
    if (cur && !cur.closed && !cur.destroyed) return cur;
    const c = this.o.connector;
    const settings = {
      // Large answers (a list of every pod, a runtime's container list) come in one response:
      // windows far above HTTP/2's 64 KB default.
      settings: { initialWindowSize: 16 * 1024 * 1024, enablePush: false },
      maxSessionMemory: 64,
    };
    const s =
      'socketPath' in c
        ? http2.connect('http://localhost', { ...settings, createConnection: () => net.connect(c.socketPath) })
        : http2.connect(c.origin, { ...(c.tls ?? {}), ...settings });
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
    // Errors reach the calls through their streams; here only the connection is forgotten.
    s.on('error', () => undefined);
    const drop = () => {
      if (this.session !== s) return;
      this.session = undefined;
      clearInterval(this.pinger);
      this.pinger = undefined;
    };
    s.on('close', drop);
    s.on('goaway', () => {
      drop();
      s.close();
    });
    if (this.o.unrefWhenIdle && this.active === 0) s.unref();
    clearInterval(this.pinger);
    this.pinger = undefined;
    if (this.o.keepaliveMs) this.keepalive(s, this.o.keepaliveMs, this.o.keepaliveTimeoutMs ?? 5_000);
    return s;
  }

  /** A connection whose peer stops answering pings is dropped (a partitioned server would otherwise hold calls until their deadline, and streams for ever). */
  private keepalive(s: http2.ClientHttp2Session, every: number, timeout: number): void {
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
  }

  /** A request stream on the connection (a streaming call: the caller writes and reads frames). */
  request(path: string, metadata: Record<string, string> = {}): http2.ClientHttp2Stream {
    const s = this.current();
    return s.request({ [HTTP2_HEADER_METHOD]: 'POST', [HTTP2_HEADER_PATH]: path, [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc', [HTTP2_HEADER_TE]: 'trailers', ...metadata });
  }

  /** One call: the request message (serialized) in, the response message out. */
  unary(path: string, body: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (signal?.aborted) return reject(new GrpcCallError(GrpcCode.CANCELLED, 'call aborted', true));
      let session: http2.ClientHttp2Session;
      let req: http2.ClientHttp2Stream;
      try {
        session = this.current();
        const headers: http2.OutgoingHttpHeaders = { [HTTP2_HEADER_METHOD]: 'POST', [HTTP2_HEADER_PATH]: path, [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc', [HTTP2_HEADER_TE]: 'trailers' };
        // The server's deadline in whole milliseconds (at most 8 digits, as the protocol allows).
        if (this.o.sendDeadline && timeoutMs > 0) headers['grpc-timeout'] = grpcTimeout(timeoutMs);
        req = session.request(headers);
      } catch (e) {
        if (e instanceof GrpcCallError) return reject(e);
        this.session = undefined;
        return reject(new GrpcCallError(GrpcCode.UNAVAILABLE, `No connection established. Last error: ${(e as Error).message}`, true));
      }
      if (this.o.unrefWhenIdle && this.active === 0) session.ref();
      this.active++;
      let settled = false;
      let httpStatus = 0;
      let status: { code: number; message: string } | undefined;
      const chunks: Buffer[] = [];
      let received = 0;
      const onAbort = () => finish(new GrpcCallError(GrpcCode.CANCELLED, 'call aborted'));
      const finish = (err: GrpcCallError | undefined, answer?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (--this.active === 0 && this.o.unrefWhenIdle && !session.destroyed) session.unref();
        if (err) {
          if (!req.closed) req.close(NGHTTP2_CANCEL);
          reject(err);
        } else resolve(answer!);
      };
      const timer = timeoutMs > 0 ? setTimeout(() => finish(new GrpcCallError(GrpcCode.DEADLINE_EXCEEDED, `Deadline exceeded: no answer within ${timeoutMs} ms`)), timeoutMs) : undefined;
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('response', (h) => {
        httpStatus = Number(h[HTTP2_HEADER_STATUS]);
        status = grpcStatusOf(h) ?? status;
      });
      req.on('trailers', (h) => {
        status = grpcStatusOf(h) ?? status;
      });
      req.on('data', (d: Buffer) => {
        received += d.length;
        if (this.o.maxReceiveBytes !== undefined && received > this.o.maxReceiveBytes + 5)
          finish(new GrpcCallError(GrpcCode.RESOURCE_EXHAUSTED, `Received message larger than max (${received} vs. ${this.o.maxReceiveBytes})`));
        else chunks.push(d);
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        // Failing before the connection was ever made means nothing was sent.
        const never = !this.connected && (session.destroyed || session.closed || NEVER_CONNECTED.test(String(e.code ?? e.message)));
        finish(new GrpcCallError(GrpcCode.UNAVAILABLE, `${never ? 'No connection established. Last error: ' : 'Connection dropped: '}${e.message}`, never));
      });
      req.on('close', () => {
        if (settled) return;
        if (!status) {
          const failed = httpStatus !== 0 && httpStatus !== 200;
          return finish(new GrpcCallError(failed ? GrpcCode.UNKNOWN : GrpcCode.UNAVAILABLE, `Connection dropped: ${failed ? `HTTP status ${httpStatus}` : `stream closed before an answer (code ${req.rstCode ?? 'unknown'})`}`));
        }
        if (status.code !== GrpcCode.OK) return finish(new GrpcCallError(status.code, status.message));
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        if (all.length < 5) return finish(new GrpcCallError(GrpcCode.INTERNAL, 'response without a message'));
        if (all[0] !== 0) return finish(new GrpcCallError(GrpcCode.INTERNAL, 'compressed response (no compression was asked for)'));
        finish(undefined, all.subarray(5, 5 + all.readUInt32BE(1)));
      });
      req.end(frameGrpcMessage(body));
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.pinger);
    this.pinger = undefined;
    this.session?.close();
    this.session?.destroy();
    this.session = undefined;
  }
}

/** A deadline as gRPC's grpc-timeout header: whole milliseconds, or seconds past 8 digits (the protocol's limit). */
export function grpcTimeout(timeoutMs: number): string {
  return timeoutMs < 1e8 ? `${Math.ceil(timeoutMs)}m` : `${Math.min(99_999_999, Math.ceil(timeoutMs / 1000))}S`;
}
