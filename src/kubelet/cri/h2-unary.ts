// The CRI client's transport: unary gRPC calls on one HTTP/2 connection to the runtime's unix
// socket (src/machinery/grpc-unary.ts, shared with the etcd store). The kubelet makes two calls a
// second for the PLEG relist; without grpc-js a call costs about half the CPU, and the kubelet
// does not load grpc-js at all. Deadlines go to the runtime as grpc-timeout; only calls in flight
// keep the process alive; a call while the runtime is down fails at once with UNAVAILABLE.

import { GrpcChannel, GrpcCallError, GrpcCode } from '../../machinery/grpc-unary.ts';

export { GrpcCode as Code, GrpcCallError as UnaryCallError };

export interface UnaryChannelOptions {
  maxReceiveBytes: number;
}

export class UnaryChannel {
  private readonly channel: GrpcChannel;
  private closed = false;

  constructor(socketPath: string, o: UnaryChannelOptions) {
    this.channel = new GrpcChannel({ connector: { socketPath }, maxReceiveBytes: o.maxReceiveBytes, sendDeadline: true, unrefWhenIdle: true });
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
