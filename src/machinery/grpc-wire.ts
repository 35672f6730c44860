// The two pieces of gRPC's wire format over HTTP/2 that both of our hand-rolled gRPC clients (the
// etcd store's transport and the kubelet's CRI channel) need: the 5-byte message frame (a
// compressed-flag byte, then the length, big-endian) and the call's status, which comes as
// grpc-status/grpc-message in the trailers, or in the response headers of a trailers-only answer.

import type { IncomingHttpHeaders } from 'node:http2';

/** One uncompressed message, framed. */
export function frameGrpcMessage(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + msg.length);
  out[0] = 0;
  out.writeUInt32BE(msg.length, 1);
  msg.copy(out, 5);
  return out;
}

/** The call's status from a headers or trailers block, or undefined when the block carries none. */
export function grpcStatusOf(h: IncomingHttpHeaders): { code: number; message: string } | undefined {
  const s = h['grpc-status'];
  if (s === undefined) return undefined;
  const raw = String(h['grpc-message'] ?? '');
  let message = raw;
  try {
    message = decodeURIComponent(raw);
  } catch {
    // not percent-encoded after all
  }
  return { code: Number(s), message };
}
