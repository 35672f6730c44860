// gRPC for the etcd client: unary calls on our own HTTP/2 (h2-unary.ts; node:http2 through
// src/machinery/grpc-unary.ts, as the kubelet's CRI channel uses, with MIZZEN_ETCD_UNARY=node-http2)
// and one bidirectional stream kind (the Watch) on node:http2, no more. Measured against @grpc/grpc-js on the store's hot call (a Txn of a 1.2 KB pod, 32 in
// flight, this 2-core machine): about half the CPU per call (0.09-0.10 ms against 0.19-0.23),
// which is most of what the API server spends on a create beyond its SQLite path. The protocol
// part is small: each message is a 1-byte flag and a 4-byte length before its bytes; a call is a
// POST to /package.Service/Method with content-type application/grpc, and its status comes in the
// trailers (or in the headers, for a "trailers-only" answer) as grpc-status and grpc-message.

import http2 from 'node:http2';
import { EventEmitter } from 'node:events';
import type { ConnectionOptions } from 'node:tls';
import { frameGrpcMessage, grpcStatusOf } from '../../machinery/grpc-wire.ts';
import { GrpcCallError as GrpcError, GrpcChannel, GrpcCode as Status, grpcCodeName as statusName } from '../../machinery/grpc-unary.ts';
import { H2UnaryChannel } from './h2-unary.ts';

/** Which HTTP/2 unary calls use: ours (default) or node:http2 (for A/B benchmarks, and a way back). */
export type UnaryTransport = 'own' | 'node-http2';
let defaultUnary: UnaryTransport = process.env.MIZZEN_ETCD_UNARY === 'node-http2' ? 'node-http2' : 'own';

/** For bench/store-cpu.ts --ab-transport: the transport of connections made from now on. */
export function setUnaryTransport(t: UnaryTransport): void {
  defaultUnary = t;
}

export { Status, statusName, GrpcError };

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

/**
 * The connections to one etcd member, each made on first use and again after it breaks: unary
 * calls on one (h2-unary.ts), the Watch stream on another (node:http2, src/machinery/grpc-unary.ts).
 */
export class GrpcConnection {
  private readonly channel: GrpcChannel;
  private readonly unaryChannel: { unary(path: string, body: Buffer, timeoutMs: number): Promise<Buffer>; unaryFramed?(path: string, framed: Buffer, timeoutMs: number): Promise<Buffer>; close(): void };

  constructor(o: TransportOptions) {
    const keepaliveMs = o.keepaliveMs ?? 10_000;
    const keepaliveTimeoutMs = o.keepaliveTimeoutMs ?? 5_000;
    this.channel = new GrpcChannel({ connector: { origin: o.origin, tls: o.tls }, keepaliveMs, keepaliveTimeoutMs });
    this.unaryChannel = defaultUnary === 'own' ? new H2UnaryChannel({ origin: o.origin, tls: o.tls, keepaliveMs, keepaliveTimeoutMs }) : this.channel;
  }

  /** One request, one response. */
  unary(path: string, body: Buffer, timeoutMs: number): Promise<Buffer> {
    return this.unaryChannel.unary(path, body, timeoutMs);
  }

  /** The same with the request framed already (a 5-byte gRPC prefix, then the message). */
  unaryFramed(path: string, framed: Buffer, timeoutMs: number): Promise<Buffer> {
    const ch = this.unaryChannel;
    return ch.unaryFramed ? ch.unaryFramed(path, framed, timeoutMs) : ch.unary(path, framed.subarray(5), timeoutMs);
  }

  /** A bidirectional stream (the Watch). */
  stream(path: string, metadata: Record<string, string> = {}): GrpcStream {
    let req: http2.ClientHttp2Stream;
    try {
      req = this.channel.request(path, metadata);
    } catch (e) {
      const s = new GrpcStream(undefined as unknown as http2.ClientHttp2Stream);
      queueMicrotask(() => s.finish(e instanceof GrpcError ? e : new GrpcError(Status.UNAVAILABLE, (e as Error).message, true)));
      return s;
    }
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
    this.unaryChannel.close();
    this.channel.close();
  }
}
