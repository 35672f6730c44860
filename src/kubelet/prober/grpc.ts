// grpc probe (upstream pkg/probe/grpc): the standard grpc.health.v1.Health/Check over plaintext
// HTTP/2 with @grpc/grpc-js; SERVING is success. The two health messages are tiny, so they are
// encoded here by hand (protobuf wire format) instead of loading a .proto file:
//   HealthCheckRequest  { string service = 1; }
//   HealthCheckResponse { ServingStatus status = 1; }  UNKNOWN=0 SERVING=1 NOT_SERVING=2 SERVICE_UNKNOWN=3

import * as grpc from '@grpc/grpc-js';
import { goDuration } from '../pods/format.ts';
import { joinHostPort, userAgent, type ProbeResult } from './probe-result.ts';

export const HEALTH_CHECK_METHOD = '/grpc.health.v1.Health/Check';
export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

function readVarint(b: Buffer, i: number): [number, number] {
  let n = 0;
  let shift = 0;
  for (;;) {
    if (i >= b.length) throw new Error('truncated varint');
    const byte = b[i++];
    n += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return [n, i];
    shift += 7;
  }
}

/** Skip unknown fields so newer servers' extra fields do not break decoding. */
function skipField(b: Buffer, i: number, wire: number): number {
  switch (wire) {
    case 0:
      return readVarint(b, i)[1];
    case 1:
      return i + 8;
    case 2: {
      const [len, j] = readVarint(b, i);
      return j + len;
    }
    case 5:
      return i + 4;
    default:
      throw new Error(`unsupported wire type ${wire}`);
  }
}

export function encodeHealthCheckRequest(req: { service: string }): Buffer {
  if (!req.service) return Buffer.alloc(0);
  const s = Buffer.from(req.service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a]), varint(s.length), s]);
}

export function decodeHealthCheckRequest(b: Buffer): { service: string } {
  let service = '';
  for (let i = 0; i < b.length; ) {
    const [key, j] = readVarint(b, i);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 2) {
      const [len, k] = readVarint(b, j);
      service = b.subarray(k, k + len).toString('utf8');
      i = k + len;
    } else i = skipField(b, j, wire);
  }
  return { service };
}

export function encodeHealthCheckResponse(res: { status: number }): Buffer {
  return res.status ? Buffer.concat([Buffer.from([0x08]), varint(res.status)]) : Buffer.alloc(0);
}

export function decodeHealthCheckResponse(b: Buffer): { status: number } {
  let status = 0;
  for (let i = 0; i < b.length; ) {
    const [key, j] = readVarint(b, i);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 0) [status, i] = readVarint(b, j);
    else i = skipField(b, j, wire);
  }
  return { status };
}

/** Go's names for gRPC status codes, as `rpc error: code = X desc = ...` prints them. */
const GO_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

export function probeGRPC(host: string, service: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const addr = joinHostPort(host, port);
  const timeout = goDuration(timeoutMs / 1000);
  const deadline = Date.now() + timeoutMs;
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), {
    'grpc.primary_user_agent': userAgent('probe'),
    // One attempt's worth of reconnect backoff: a probe that cannot connect should fail fast.
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': Math.max(100, timeoutMs),
  });
  return new Promise<ProbeResult>((resolve) => {
    const done = (r: ProbeResult) => {
      client.close();
      resolve(r);
    };
    client.waitForReady(deadline, (err) => {
      if (err) return done({ result: 'failure', output: `timeout: failed to connect service "${addr}" within ${timeout}: context deadline exceeded` });
      client.makeUnaryRequest(
        HEALTH_CHECK_METHOD,
        encodeHealthCheckRequest,
        decodeHealthCheckResponse,
        { service },
        new grpc.Metadata(),
        { deadline },
        (e, res) => {
          if (e) {
            const code = (e as grpc.ServiceError).code;
            const details = (e as grpc.ServiceError).details ?? e.message;
            if (code === grpc.status.UNIMPLEMENTED) {
              return done({ result: 'failure', output: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${details}` });
            }
            if (code === grpc.status.DEADLINE_EXCEEDED) return done({ result: 'failure', output: `timeout: health rpc did not complete within ${timeout}` });
            return done({ result: 'failure', output: `error: health rpc probe failed: rpc error: code = ${GO_CODE_NAMES[code] ?? code} desc = ${details}` });
          }
          const status = res?.status ?? 0;
          if (status !== 1) return done({ result: 'failure', output: `service unhealthy (responded with "${SERVING_STATUS[status] ?? status}")` });
          done({ result: 'success', output: 'service is serving' });
        },
      );
    });
  });
}
