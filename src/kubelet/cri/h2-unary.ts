// Unary gRPC calls over one HTTP/2 connection to a unix socket, with node:http2 alone. The CRI
// client makes only unary calls (exec/attach/port-forward go through the runtime's streaming
// server), and the kubelet makes two of them every second for the PLEG relist: without grpc-js's
// channel, resolver, load-balancer and interceptor layers a call costs about half the CPU, and the
// kubelet does not load grpc-js at all (a few MB of a small process).
//
// The wire format (gRPC over HTTP/2): POST to /package.Service/Method with content-type
// application/grpc, `te: trailers` and `grpc-timeout`; each message is framed by a compressed
// flag byte and a 4-byte big-endian length. The status is `grpc-status`/`grpc-message` in the
// trailers, or in the response headers of a trailers-only answer.
//
// The connection is dialled on the first call and again after it broke (a restarted containerd):
// a call while the runtime is down fails at once with UNAVAILABLE instead of queueing, so the
// kubelet's loops see the outage and retry on their own schedule.

import http2 from 'node:http2';
import net from 'node:net';
import { frameGrpcMessage, grpcStatusOf } from '../../machinery/grpc-wire.ts';

/** gRPC status codes used here (the full list is in errors.ts). */
export const Code = { OK: 0, CANCELLED: 1, UNKNOWN: 2, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, INTERNAL: 13, UNAVAILABLE: 14 } as const;

export class UnaryCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(details);
  }
}

export interface UnaryChannelOptions {
  maxReceiveBytes: number;
}

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_STATUS, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_TE } = http2.constants;

export class UnaryChannel {
  private session?: http2.ClientHttp2Session;
  /** Calls in flight: while there are any, the connection keeps the process alive. */
  private active = 0;
  private closed = false;

  constructor(
    private readonly socketPath: string,
    private readonly o: UnaryChannelOptions,
  ) {}

  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
  }

  private connect(): http2.ClientHttp2Session {
    const cur = this.session;
    if (cur && !cur.closed && !cur.destroyed) return cur;
    const s = http2.connect('http://localhost', { createConnection: () => net.connect(this.socketPath) });
    const forget = () => {
      if (this.session === s) this.session = undefined;
    };
    // Errors reach the calls through their streams; here only the connection is forgotten.
    s.on('error', forget);
    s.on('close', forget);
    s.on('goaway', forget);
    s.unref(); // only calls in flight keep the process alive (see call())
    this.session = s;
    return s;
  }

  /** One call: the request message (serialized) in, the response message out. */
  call(path: string, request: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (this.closed) return reject(new UnaryCallError(Code.UNAVAILABLE, 'channel closed'));
      if (signal?.aborted) return reject(new UnaryCallError(Code.CANCELLED, 'call aborted'));
      let session: http2.ClientHttp2Session;
      try {
        session = this.connect();
      } catch (e) {
        return reject(new UnaryCallError(Code.UNAVAILABLE, `No connection established. Last error: ${(e as Error).message}`));
      }
      const headers: http2.OutgoingHttpHeaders = {
        [HTTP2_HEADER_METHOD]: 'POST',
        [HTTP2_HEADER_PATH]: path,
        [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
        [HTTP2_HEADER_TE]: 'trailers',
      };
      // The server's deadline in whole milliseconds (at most 8 digits, as the protocol allows).
      if (timeoutMs > 0) headers['grpc-timeout'] = timeoutMs < 1e8 ? `${Math.ceil(timeoutMs)}m` : `${Math.min(99_999_999, Math.ceil(timeoutMs / 1000))}S`;
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request(headers);
      } catch (e) {
        this.session = undefined;
        return reject(new UnaryCallError(Code.UNAVAILABLE, `No connection established. Last error: ${(e as Error).message}`));
      }
      if (this.active++ === 0) session.ref();
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => finish(new UnaryCallError(Code.CANCELLED, 'call aborted'));
      const finish = (err: UnaryCallError | undefined, body?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (--this.active === 0 && !session.destroyed) session.unref();
        if (err) {
          if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
          reject(err);
        } else resolve(body!);
      };
      if (timeoutMs > 0) timer = setTimeout(() => finish(new UnaryCallError(Code.DEADLINE_EXCEEDED, 'Deadline exceeded')), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });

      const chunks: Buffer[] = [];
      let received = 0;
      let httpStatus = 0;
      let status: { code: number; message: string } | undefined;
      const readStatus = (h: http2.IncomingHttpHeaders) => {
        status = grpcStatusOf(h) ?? status;
      };
      stream.on('response', (h) => {
        httpStatus = Number(h[HTTP2_HEADER_STATUS]);
        readStatus(h);
      });
      stream.on('trailers', readStatus);
      stream.on('data', (d: Buffer) => {
        received += d.length;
        if (received > this.o.maxReceiveBytes + 5) finish(new UnaryCallError(Code.RESOURCE_EXHAUSTED, `Received message larger than max (${received} vs. ${this.o.maxReceiveBytes})`));
        else chunks.push(d);
      });
      stream.on('error', (e: Error) => finish(new UnaryCallError(Code.UNAVAILABLE, `No connection established. Last error: ${e.message}`)));
      stream.on('close', () => {
        if (settled) return;
        if (!status) {
          const why = httpStatus && httpStatus !== 200 ? `HTTP status ${httpStatus}` : `stream closed (code ${stream.rstCode ?? 'unknown'})`;
          return finish(new UnaryCallError(httpStatus && httpStatus !== 200 ? Code.UNKNOWN : Code.UNAVAILABLE, `Connection dropped: ${why}`));
        }
        if (status.code !== Code.OK) return finish(new UnaryCallError(status.code, status.message));
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        if (body.length < 5) return finish(new UnaryCallError(Code.INTERNAL, 'response without a message'));
        if (body[0] !== 0) return finish(new UnaryCallError(Code.INTERNAL, 'compressed response (no compression was asked for)'));
        finish(undefined, body.subarray(5, 5 + body.readUInt32BE(1)));
      });
      stream.end(frameGrpcMessage(request));
    });
  }
}
