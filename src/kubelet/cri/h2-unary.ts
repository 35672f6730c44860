// The CRI client's transport: unary gRPC calls on one HTTP/2 connection to the runtime's unix
// socket. The kubelet makes two calls a second for the PLEG relist. By default they go over the
// HTTP/2 client of our own that the etcd store uses (src/storage/etcd/h2-unary.ts): no
// node:http2 stream object per call, and no 64 KB node:http2 read buffer kept alive per answer
// (docs/kubelet-node.md, sixth pass). `MIZZEN_CRI_UNARY=node-http2` puts the calls on node:http2
// (src/machinery/grpc-unary.ts) instead, for A/B runs and as a way back. Either way: deadlines go
// to the runtime as grpc-timeout; only calls in flight keep the process alive; a call while the
// runtime is down fails at once with UNAVAILABLE.

import { GrpcChannel, GrpcCallError, GrpcCode } from '../../machinery/grpc-unary.ts';
import { H2UnaryChannel } from '../../storage/etcd/h2-unary.ts';

export { GrpcCode as Code, GrpcCallError as UnaryCallError };

export interface UnaryChannelOptions {
  maxReceiveBytes: number;
}

export class UnaryChannel {
  private readonly channel: GrpcChannel | H2UnaryChannel;
  private closed = false;

  constructor(socketPath: string, o: UnaryChannelOptions) {
    this.channel =
      process.env.MIZZEN_CRI_UNARY === 'node-http2'
        ? new GrpcChannel({ connector: { socketPath }, maxReceiveBytes: o.maxReceiveBytes, sendDeadline: true, unrefWhenIdle: true })
        : new H2UnaryChannel({ origin: 'http://localhost', socketPath, maxReceiveBytes: o.maxReceiveBytes, sendDeadline: true, unrefWhenIdle: true });
  }

  close(): void {
    this.closed = true;
    this.channel.close();
  }

  /** One call: the request message (serialized) in, the response message out. */
  call(path: string, request: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    if (this.closed) return Promise.reject(new GrpcCallError(GrpcCode.UNAVAILABLE, 'channel closed', true));
    return this.channel.unary(path, request, timeoutMs, signal);
  }
}
