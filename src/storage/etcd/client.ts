// A thin etcd v3 client: unary KV/Maintenance/Cluster calls (on our own HTTP/2, h2-unary.ts) and a
// raw Watch stream (node:http2), through grpc-transport.ts, with the hand-written codec (codec.ts).
// One connection for calls per endpoint;
// calls go to the current endpoint, and a call that finds it unreachable moves the client on to
// the next one (the caller decides whether to retry). Requests are pipelined on the connection:
// many Txns in flight at once, which etcd batches into its raft proposals and backend commits.

import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import { GrpcConnection, GrpcError, Status, statusName, type GrpcStream } from './grpc-transport.ts';
import {
  decodeHeaderOnly,
  decodeMemberListResponse,
  decodeRangeResponse,
  decodeStatusResponse,
  decodeTxnResponse,
  encodeCompactionRequest,
  encodeRangeRequest,
  encodeTxnRequest,
  EMPTY,
  type Member,
  type RangeRequest,
  type RangeResponse,
  type StatusResponse,
  type TxnRequest,
  type TxnResponse,
} from './codec.ts';

export interface EtcdTLS {
  /** PEM: the CA that signed etcd's serving certificates. */
  ca?: string | Buffer;
  /** PEM: this client's certificate and key (etcd's --client-cert-auth). */
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface EtcdClientOptions {
  /** `https://host:2379`, `http://host:2379` or `host:2379` (TLS when `tls` is given). */
  endpoints: string[];
  tls?: EtcdTLS;
}

/** An etcd call that failed: the gRPC status code and etcd's message. */
export class EtcdError extends Error {
  constructor(
    readonly grpcCode: number,
    readonly details: string,
    readonly endpoint: string,
    /** The request certainly never reached etcd (no connection): safe to send again. */
    readonly notSent = false,
  ) {
    super(`etcd ${endpoint}: ${details || statusName[grpcCode] || `gRPC status ${grpcCode}`}`);
  }

  /** The revision asked for has been compacted away. */
  get compacted(): boolean {
    return this.grpcCode === Status.OUT_OF_RANGE && /compacted/.test(this.details);
  }

  /** The request was refused before anything happened: retrying it cannot help (too large, bad request). */
  get permanent(): boolean {
    return this.grpcCode === Status.INVALID_ARGUMENT || this.grpcCode === Status.FAILED_PRECONDITION || this.grpcCode === Status.OUT_OF_RANGE || this.grpcCode === Status.PERMISSION_DENIED || this.grpcCode === Status.UNAUTHENTICATED;
  }

  get tooLarge(): boolean {
    return /request is too large|message larger than max/.test(this.details);
  }
}

export interface Endpoint {
  /** host:port as gRPC dials it. */
  target: string;
  secure: boolean;
}

/** Parse `--datastore-endpoint`-style URLs. Throws on anything else. */
export function parseEndpoints(urls: string[], tlsGiven: boolean): Endpoint[] {
  if (urls.length === 0) throw new Error('no etcd endpoints given');
  return urls.map((raw) => {
    const u = raw.trim();
    let secure = tlsGiven;
    let rest = u;
    const m = /^([a-z0-9+.-]+):\/\/(.*)$/i.exec(u);
    if (m) {
      const scheme = m[1].toLowerCase();
      if (scheme === 'https' || scheme === 'unixs') secure = true;
      else if (scheme === 'http' || scheme === 'unix') secure = false;
      else throw new Error(`etcd endpoint ${JSON.stringify(raw)}: unsupported scheme ${scheme} (use https:// or http://)`);
      rest = m[2];
    }
    rest = rest.replace(/\/+$/, '');
    if (rest.includes('/')) throw new Error(`etcd endpoint ${JSON.stringify(raw)}: expected scheme://host:port`);
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):\d{1,5}$/.test(rest)) throw new Error(`etcd endpoint ${JSON.stringify(raw)}: expected host:port`);
    return { target: rest, secure };
  });
}


export class EtcdClient {
  readonly endpoints: Endpoint[];
  private readonly secure: boolean;
  private readonly tls?: EtcdTLS;
  private readonly clients: (GrpcConnection | undefined)[];
  private current = 0;
  private closed = false;

  constructor(opts: EtcdClientOptions) {
    const tls = opts.tls;
    const tlsGiven = !!(tls && (tls.ca || tls.cert || tls.key));
    this.endpoints = parseEndpoints(opts.endpoints, tlsGiven);
    const secure = this.endpoints.filter((e) => e.secure).length;
    if (secure !== 0 && secure !== this.endpoints.length) throw new Error('etcd endpoints mix https:// and http://');
    if ((tls?.cert && !tls.key) || (tls?.key && !tls.cert)) throw new Error('an etcd client certificate needs both the certificate and its key');
    this.secure = secure > 0;
    this.tls = tls;
    this.clients = this.endpoints.map(() => undefined);
  }

  /** The endpoint calls go to now. */
  get currentEndpoint(): string {
    return this.endpoints[this.current].target;
  }

  private client(i: number): GrpcConnection {
    if (this.closed) throw new EtcdError(Status.CANCELLED, 'client closed', this.endpoints[i].target, true);
    let c = this.clients[i];
    if (!c) c = this.clients[i] = this.connect(this.endpoints[i]);
    return c;
  }

  private connect(ep: Endpoint): GrpcConnection {
    if (!this.secure) return new GrpcConnection({ origin: `http://${ep.target}` });
    const tls = this.tls;
    const host = ep.target.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    const opts: ConnectionOptions = { ca: tls?.ca, cert: tls?.cert, key: tls?.key, ALPNProtocols: ['h2'] };
    // No server name (SNI) for an IP address (RFC 6066; Node warns); the certificate is still
    // checked against the address.
    if (isIP(host)) {
      opts.servername = '';
      opts.checkServerIdentity = (_name, cert) => checkServerIdentity(host, cert);
    }
    return new GrpcConnection({ origin: `https://${ep.target}`, tls: opts });
  }

  /** After a failure that says "this member is unreachable or unusable", use the next one. */
  private failover(i: number): void {
    if (this.current === i && this.endpoints.length > 1) this.current = (i + 1) % this.endpoints.length;
  }

  /** `framed`: body is a framed gRPC message (codec.ts's encodeTxn). */
  private async unary<T>(method: string, body: Buffer, decode: (b: Buffer) => T, timeoutMs: number, endpoint?: number, framed = false): Promise<T> {
    const i = endpoint ?? this.current;
    const target = this.endpoints[i].target;
    let res: Buffer;
    try {
      res = await (framed ? this.client(i).unaryFramed(method, body, timeoutMs) : this.client(i).unary(method, body, timeoutMs));
    } catch (err) {
      if (err instanceof EtcdError) throw err;
      const g = err instanceof GrpcError ? err : new GrpcError(Status.UNKNOWN, (err as Error).message);
      const e = new EtcdError(g.code, g.details, target, g.notSent);
      if (shouldFailover(e)) this.failover(i);
      throw e;
    }
    try {
      return decode(res);
    } catch (de) {
      throw new EtcdError(Status.INTERNAL, `cannot decode the response: ${(de as Error).message}`, target);
    }
  }

  range(req: RangeRequest, timeoutMs: number): Promise<RangeResponse> {
    return this.unary('/etcdserverpb.KV/Range', encodeRangeRequest(req), decodeRangeResponse, timeoutMs);
  }

  /** A Txn, or one encoded already: its body, or `{ framed }` (both from codec.ts's encodeTxn). */
  txn(req: TxnRequest | Buffer | { framed: Buffer }, timeoutMs: number): Promise<TxnResponse> {
    if (!Buffer.isBuffer(req) && 'framed' in req) return this.unary('/etcdserverpb.KV/Txn', req.framed, decodeTxnResponse, timeoutMs, undefined, true);
    return this.unary('/etcdserverpb.KV/Txn', Buffer.isBuffer(req) ? req : encodeTxnRequest(req), decodeTxnResponse, timeoutMs);
  }

  compact(revision: number, timeoutMs: number): Promise<{ revision: number }> {
    return this.unary('/etcdserverpb.KV/Compact', encodeCompactionRequest(revision), decodeHeaderOnly, timeoutMs).then((r) => ({ revision: r.header.revision }));
  }

  /** One member's status (default: the current endpoint's). */
  status(timeoutMs: number, endpoint?: number): Promise<StatusResponse> {
    return this.unary('/etcdserverpb.Maintenance/Status', EMPTY, decodeStatusResponse, timeoutMs, endpoint);
  }

  memberList(timeoutMs: number): Promise<Member[]> {
    return this.unary('/etcdserverpb.Cluster/MemberList', EMPTY, decodeMemberListResponse, timeoutMs).then((r) => r.members);
  }

  /**
   * A raw Watch stream on the current endpoint: requests and responses are encoded bytes (see
   * codec.ts). The caller reconnects (calling this again) when it ends. The stream requires a
   * leader: etcd ends it when its member loses the leader, instead of leaving it silent.
   */
  watchStream(): { stream: GrpcStream; endpoint: string; failover(): void } {
    const i = this.current;
    const stream = this.client(i).stream('/etcdserverpb.Watch/Watch', { hasleader: 'true' });
    return { stream, endpoint: this.endpoints[i].target, failover: () => this.failover(i) };
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients) c?.close();
  }
}

/** Errors after which another member may do better. */
function shouldFailover(e: EtcdError): boolean {
  if (e.grpcCode === Status.UNAVAILABLE || e.grpcCode === Status.DEADLINE_EXCEEDED) return true;
  // A member cut off from the others answers with these while it is not part of a quorum.
  return /no leader|not capable|leader changed|stopped|learner/.test(e.details);
}
