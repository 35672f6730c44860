// A small Kubernetes REST client over node:https (or http for tests and for the API server's
// private Unix socket), in the spirit of client-go's REST client: resource paths, JSON bodies,
// Status errors, and streaming watches.

import http from 'node:http';
import https from 'node:https';
import type { Status, StatusDetails } from '../machinery/errors.ts';
import type { KObject } from '../api/types.ts';
import type { ClientConfig } from './kubeconfig.ts';
import { Http1Pool, requestHead, type PoolSocket } from './http1-pool.ts';
import { streamWatch } from './watch-stream.ts';

/** Where a request goes: /api/v1/... for the core group, /apis/<group>/<version>/... otherwise. */
export interface ResourceRef {
  group?: string;
  version: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /** For server-side apply. */
  force?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const patchContentTypes: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T = KObject> {
  type: WatchEventType;
  /** For ERROR events this is a Status. */
  object: T;
}

export interface WatchHandle {
  /** Stop the watch; onClose is then called with no error. */
  abort(): void;
  /** Resolves after onClose ran. */
  readonly closed: Promise<void>;
}

/** A non-2xx answer, carrying the server's Status (or one synthesised from the HTTP code). */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details?: StatusDetails;
  readonly status: Status;
  constructor(status: Status) {
    super(status.message ?? `${status.code} ${status.reason ?? ''}`.trim());
    this.name = 'ApiError';
    this.status = status;
    this.code = status.code;
    this.reason = status.reason ?? '';
    this.details = status.details;
  }
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.code === 404;
}
export function isConflict(e: unknown): boolean {
  return e instanceof ApiError && e.code === 409 && e.reason === 'Conflict';
}
export function isAlreadyExists(e: unknown): boolean {
  return e instanceof ApiError && e.reason === 'AlreadyExists';
}
/** 504 "Too large resource version": the server has not reached it; list again (client-go does). */
export function isTooLargeResourceVersion(e: unknown): boolean {
  return e instanceof ApiError && e.code === 504 && !!e.details?.causes?.some((c) => c.reason === 'ResourceVersionTooLarge');
}
/** 410 Gone / Expired: the requested resourceVersion is too old. */
export function isResourceExpired(e: unknown): boolean {
  return e instanceof ApiError && (e.code === 410 || e.reason === 'Expired' || e.reason === 'Gone');
}

export interface ApiClientOptions extends Partial<ClientConfig> {
  /** e.g. https://127.0.0.1:6443; with socketPath it may be left out (default http://localhost). */
  server?: string;
  /**
   * Connect to this Unix socket instead of server's host and port, speaking plain HTTP (the API
   * server's private socket for in-process components). server then only names the Host header.
   */
  socketPath?: string;
  /**
   * With socketPath: open the connections of requests and watches with this instead of
   * connecting to the socket, e.g. a PortConnector's streams to the server's thread.
   */
  connect?: () => PoolSocket;
  /** Keep-alive sockets per host (default 64). */
  maxSockets?: number;
  userAgent?: string;
  /** Retries of a 429 answer that carries Retry-After (default 3). */
  maxRetries?: number;
  /** Per-request timeout in ms for non-watch requests (default 60 s). */
  requestTimeoutMs?: number;
  /**
   * Headers sent with every request: an identity on the API server's private socket
   * (`X-Remote-User`/`X-Remote-Group`), or impersonation (`Impersonate-User`/`Impersonate-Group`).
   */
  headers?: Record<string, string>;
  /** Where the bearer token comes from when it changes over time (a refreshed ServiceAccount token); wins over `token`. */
  tokenSource?: () => string | undefined;
}

/** Map HTTP codes to reasons for answers whose body is not a Status (as client-go does). */
function reasonForCode(code: number): string {
  switch (code) {
    case 400: return 'BadRequest';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'NotFound';
    case 405: return 'MethodNotAllowed';
    case 406: return 'NotAcceptable';
    case 409: return 'Conflict';
    case 410: return 'Gone';
    case 413: return 'RequestEntityTooLarge';
    case 415: return 'UnsupportedMediaType';
    case 422: return 'Invalid';
    case 429: return 'TooManyRequests';
    case 500: return 'InternalError';
    case 503: return 'ServiceUnavailable';
    case 504: return 'Timeout';
    default: return 'Unknown';
  }
}

function statusFromBody(code: number, text: string): Status {
  try {
    const parsed = JSON.parse(text);
    if (parsed && parsed.kind === 'Status') return { ...parsed, code: parsed.code || code };
  } catch {
    // not JSON: fall through
  }
  const reason = reasonForCode(code);
  const message =
    code === 404 ? 'the server could not find the requested resource' : text.trim() || `the server responded with status ${code}`;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason, message };
}

/** Build the URL path of a resource. */
export function resourcePath(ref: ResourceRef): string {
  const base = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  let p = base;
  if (ref.namespace) p += `/namespaces/${encodeURIComponent(ref.namespace)}`;
  p += `/${ref.resource}`;
  if (ref.name !== undefined) p += `/${encodeURIComponent(ref.name)}`;
  if (ref.subresource) p += `/${ref.subresource}`;
  return p;
}

function queryString(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '' || v === false) continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

function listParams(o: ListOptions = {}): Record<string, string | number | boolean | undefined> {
  return {
    labelSelector: o.labelSelector,
    fieldSelector: o.fieldSelector,
    limit: o.limit,
    continue: o.continue,
    resourceVersion: o.resourceVersion,
    resourceVersionMatch: o.resourceVersionMatch,
    timeoutSeconds: o.timeoutSeconds,
    allowWatchBookmarks: o.allowWatchBookmarks,
  };
}

function writeParams(o: WriteOptions = {}): Record<string, string | boolean | undefined> {
  return { dryRun: o.dryRun ? 'All' : undefined, fieldManager: o.fieldManager, force: o.force };
}

// Timestamps for the objects clients write (defined in machinery, shared with the API server).
export { microTime, rfc3339 } from '../machinery/time.ts';

export class ApiClient {
  readonly server: URL;
  readonly namespace: string;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  /** Requests (not watches) over the private socket go through this lean pool (see http1-pool.ts). */
  private readonly pool?: Http1Pool;
  /** Opens a stream for each watch (a port's, see `connect`); without it watches go through node:http. */
  private readonly connectWatch?: () => PoolSocket;
  /** Where requests connect: the Unix socket, or the server URL's host and port. */
  private readonly target: http.RequestOptions;
  private readonly token?: string;
  private tokenSource?: () => string | undefined;
  private extraHeaders: Record<string, string>;
  private closeShared = true;
  private readonly userAgent: string;
  private readonly maxRetries: number;
  private readonly requestTimeoutMs: number;

  constructor(opts: ApiClientOptions) {
    if (!opts.server && !opts.socketPath) throw new Error('ApiClient needs a server URL or a socket path');
    this.server = new URL(opts.server ?? 'http://localhost');
    this.target = opts.socketPath
      ? { protocol: 'http:', hostname: this.server.hostname, socketPath: opts.socketPath }
      : { protocol: this.server.protocol, hostname: this.server.hostname, port: this.server.port };
    this.namespace = opts.namespace ?? 'default';
    this.token = opts.token;
    this.tokenSource = opts.tokenSource;
    this.extraHeaders = { ...(opts.headers ?? {}) };
    this.userAgent = opts.userAgent ?? 'mizzen-client/0.1';
    this.maxRetries = opts.maxRetries ?? 3;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;
    const maxSockets = opts.maxSockets ?? 64;
    if (this.server.protocol === 'https:' && !opts.socketPath) {
      this.transport = https;
      this.agent = new https.Agent({
        keepAlive: true,
        maxSockets,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        rejectUnauthorized: !opts.insecureSkipTLSVerify,
        servername: opts.tlsServerName,
      });
    } else {
      this.transport = http;
      this.agent = new http.Agent({ keepAlive: true, maxSockets });
    }
    if (opts.socketPath) this.pool = new Http1Pool(opts.connect ?? opts.socketPath, maxSockets, this.server.hostname);
    if (opts.socketPath && opts.connect) this.connectWatch = opts.connect;
  }

  /** True when this client talks to the API server's private Unix socket (identity by headers there). */
  get overPrivateSocket(): boolean {
    return this.target.socketPath !== undefined;
  }

  /** Release pooled sockets (a client made by `withIdentity` leaves them to the one it came from). */
  close(): void {
    if (!this.closeShared) return;
    this.agent.destroy();
    this.pool?.close();
  }

  /**
   * A client sharing this one's connections that sends other credentials: extra headers (an
   * identity on the private socket, or impersonation) and/or its own bearer token source.
   */
  withIdentity(o: { headers?: Record<string, string>; tokenSource?: () => string | undefined }): ApiClient {
    const d = Object.create(this) as ApiClient;
    d.extraHeaders = { ...this.extraHeaders, ...(o.headers ?? {}) };
    if (o.tokenSource) d.tokenSource = o.tokenSource;
    d.closeShared = false;
    return d;
  }

  // ---- generic request ----

  /** Send one request and parse the JSON answer; non-2xx throws ApiError. */
  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(method, path, body, headers);
      if (res.code >= 200 && res.code < 300) {
        if (!res.text) return undefined as T;
        try {
          return JSON.parse(res.text) as T;
        } catch {
          return res.text as T;
        }
      }
      // 429 with Retry-After means the request was not processed: safe to retry for any verb.
      const retryAfter = Number(res.headers['retry-after']);
      if (res.code === 429 && Number.isFinite(retryAfter) && attempt < this.maxRetries) {
        await sleep(Math.min(retryAfter, 10) * 1000);
        continue;
      }
      throw new ApiError(statusFromBody(res.code, res.text));
    }
  }

  private send(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<{ code: number; text: string; headers: http.IncomingHttpHeaders }> {
    const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    if (this.pool) {
      const hdrs: Record<string, string | number> = { Accept: 'application/json', 'User-Agent': this.userAgent, ...this.authHeader() };
      if (payload !== undefined) hdrs['Content-Type'] = 'application/json';
      Object.assign(hdrs, headers);
      return this.pool.request(method, path, hdrs, payload, this.requestTimeoutMs).catch((e: Error) => {
        e.message = `${e.message}: ${method} ${path}`;
        throw e;
      });
    }
    return new Promise((resolve, reject) => {
      const hdrs: Record<string, string | number> = { Accept: 'application/json', 'User-Agent': this.userAgent, ...this.authHeader() };
      if (payload !== undefined) {
        hdrs['Content-Type'] = 'application/json';
        hdrs['Content-Length'] = Buffer.byteLength(payload);
      }
      Object.assign(hdrs, headers);
      const req = this.transport.request(
        { ...this.target, path, method, headers: hdrs, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
          res.on('error', reject);
        },
      );
      req.setTimeout(this.requestTimeoutMs, () => req.destroy(new Error(`request timed out after ${this.requestTimeoutMs}ms: ${method} ${path}`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  private authHeader(): Record<string, string> {
    const token = this.tokenSource?.() ?? this.token;
    return token ? { ...this.extraHeaders, Authorization: `Bearer ${token}` } : this.extraHeaders;
  }

  // ---- typed verbs ----

  get<T = KObject>(ref: ResourceRef & { name: string }, opts: { resourceVersion?: string } = {}): Promise<T> {
    return this.request<T>('GET', resourcePath(ref) + queryString({ resourceVersion: opts.resourceVersion }));
  }

  list<T = KObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>('GET', resourcePath({ ...ref, name: undefined }) + queryString(listParams(opts)));
  }

  /**
   * List every page (following `continue`); the result carries the first page's resourceVersion.
   * A continue token the server no longer honours (410: the collection changed more since the first
   * page than the server keeps) is followed by one list without paging, as client-go's pager does
   * (FullListIfExpired): otherwise a collection that changes faster than its pages are read could
   * never be listed, and an informer relisting it would act on its old cache for good.
   *
   * With `retry`, a page that fails for a reason that may pass (a timeout, a dropped connection, a
   * 5xx or 429 answer) is asked for again, up to `retry.attempts` times per page with `retry.wait`
   * between, from the same continue token: under load a long list makes progress instead of
   * starting over from its first page after every failure.
   */
  async listAll<T = KObject>(ref: ResourceRef, opts: ListOptions = {}, retry?: PageRetry): Promise<ObjectList<T>> {
    const page = (o: ListOptions) => (retry ? withRetries(() => this.list<T>(ref, o), retry) : this.list<T>(ref, o));
    const first = await page(opts);
    let cont = first.metadata.continue;
    while (cont) {
      let next: ObjectList<T>;
      try {
        next = await page({ ...opts, continue: cont, resourceVersion: undefined, resourceVersionMatch: undefined });
      } catch (e) {
        if (!isResourceExpired(e)) throw e;
        return page({ ...opts, limit: undefined, continue: undefined });
      }
      first.items.push(...next.items);
      cont = next.metadata.continue;
    }
    first.metadata.continue = undefined;
    return first;
  }

  create<T = KObject>(ref: ResourceRef, obj: unknown, opts: WriteOptions = {}): Promise<T> {
    return this.request<T>('POST', resourcePath({ ...ref, name: undefined }) + queryString(writeParams(opts)), obj);
  }

  update<T = KObject>(ref: ResourceRef & { name: string }, obj: unknown, opts: WriteOptions = {}): Promise<T> {
    return this.request<T>('PUT', resourcePath(ref) + queryString(writeParams(opts)), obj);
  }

  updateStatus<T = KObject>(ref: ResourceRef & { name: string }, obj: unknown, opts: WriteOptions = {}): Promise<T> {
    return this.update<T>({ ...ref, subresource: 'status' }, obj, opts);
  }

  patch<T = KObject>(ref: ResourceRef & { name: string }, type: PatchType, patch: unknown, opts: WriteOptions = {}): Promise<T> {
    const body = typeof patch === 'string' ? patch : JSON.stringify(patch);
    return this.request<T>('PATCH', resourcePath(ref) + queryString(writeParams(opts)), body, { 'Content-Type': patchContentTypes[type] });
  }

  /** Delete; resolves with whatever the server returns (the object, or a Success Status). */
  delete<T = KObject | Status>(ref: ResourceRef & { name: string }, opts: DeleteOptions = {}): Promise<T> {
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.preconditions) body.preconditions = opts.preconditions;
    if (opts.dryRun) body.dryRun = ['All'];
    return this.request<T>('DELETE', resourcePath(ref), body);
  }

  /** Bind a pod to a node (what the scheduler does): POST a v1 Binding to pods/<name>/binding. */
  bind(namespace: string, pod: string, node: string, podUid?: string): Promise<Status> {
    const metadata: Record<string, string> = { name: pod, namespace };
    if (podUid) metadata.uid = podUid;
    return this.request<Status>(
      'POST',
      resourcePath({ version: 'v1', resource: 'pods', namespace, name: pod, subresource: 'binding' }),
      { apiVersion: 'v1', kind: 'Binding', metadata, target: { apiVersion: 'v1', kind: 'Node', name: node } },
    );
  }

  createEvent<T = KObject>(namespace: string, event: unknown): Promise<T> {
    return this.create<T>({ version: 'v1', resource: 'events', namespace }, event);
  }

  /**
   * Stream watch events. onEvent gets every decoded event (including BOOKMARK and ERROR);
   * onClose is called exactly once: with no argument when the server ended the stream or abort()
   * was called, with an ApiError for a non-2xx answer, or with the transport error.
   */
  watch<T = KObject>(
    ref: ResourceRef,
    opts: ListOptions,
    onEvent: (ev: WatchEvent<T>) => void,
    onClose: (err?: Error) => void,
  ): WatchHandle {
    const path = resourcePath({ ...ref, name: undefined }) + queryString({ ...listParams(opts), watch: true });
    let finished = false;
    let aborted = false;
    let resolveClosed!: () => void;
    const closed = new Promise<void>((r) => (resolveClosed = r));
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      try {
        onClose(aborted ? undefined : err);
      } finally {
        resolveClosed();
      }
    };
    if (this.connectWatch) {
      // Over a port stream: the same request, read by watch-stream.ts (see there).
      const head = requestHead('GET', path, this.server.hostname, { Accept: 'application/json', 'User-Agent': this.userAgent, ...this.authHeader() });
      const stop = streamWatch(this.connectWatch(), head, {
        onLine: (line) => {
          let ev: WatchEvent<T>;
          try {
            ev = JSON.parse(line) as WatchEvent<T>;
          } catch (e) {
            stop();
            return finish(new Error(`malformed watch event: ${(e as Error).message}`));
          }
          if (!finished) onEvent(ev);
        },
        onFailure: (code, text) => finish(new ApiError(statusFromBody(code, text))),
        onEnd: (err) => finish(err),
      });
      return {
        abort: () => {
          aborted = true;
          stop();
          finish();
        },
        closed,
      };
    }
    const req = this.transport.request(
      {
        ...this.target,
        path,
        method: 'GET',
        headers: { Accept: 'application/json', 'User-Agent': this.userAgent, ...this.authHeader() },
        agent: this.agent,
      },
      (res) => {
        const code = res.statusCode ?? 0;
        if (code < 200 || code >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => finish(new ApiError(statusFromBody(code, Buffer.concat(chunks).toString('utf8')))));
          res.on('error', (e) => finish(e));
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          // Walk the lines with an offset and cut the buffer once per chunk, not once per line.
          let start = 0;
          let nl: number;
          while ((nl = buf.indexOf('\n', start)) >= 0) {
            const line = buf.slice(start, nl);
            start = nl + 1;
            if (finished || line.trim() === '') continue;
            let ev: WatchEvent<T>;
            try {
              ev = JSON.parse(line) as WatchEvent<T>;
            } catch (e) {
              req.destroy();
              finish(new Error(`malformed watch event: ${(e as Error).message}`));
              return;
            }
            onEvent(ev);
          }
          buf = start === 0 ? buf : buf.slice(start);
        });
        res.on('end', () => {
          // A final event may lack its newline.
          const line = buf.trim();
          if (line && !finished) {
            try {
              onEvent(JSON.parse(line) as WatchEvent<T>);
            } catch {
              // truncated by a dropped connection; the caller re-watches from its last resourceVersion
            }
          }
          finish();
        });
        res.on('error', (e) => finish(e));
        res.on('close', () => finish(res.complete ? undefined : new Error('watch connection closed')));
      },
    );
    req.on('error', (e) => finish(e));
    req.end();
    return {
      abort: () => {
        aborted = true;
        req.destroy();
        finish();
      },
      closed,
    };
  }
}

/** How listAll retries a page (see there). */
export interface PageRetry {
  /** Retries per page after its first failure. */
  attempts: number;
  /** Waits before retry `attempt` (1-based); throwing gives up (e.g. the informer was stopped). */
  wait(attempt: number, err: Error): Promise<void>;
}

/**
 * A failure a later attempt may not have: no answer (timeout, dropped connection), a 5xx or a 429.
 * Not "too large resource version" (504) or any other 4xx: asking again gets the same answer.
 */
export function isRetryableListError(e: unknown): boolean {
  if (!(e instanceof ApiError)) return e instanceof Error;
  if (isTooLargeResourceVersion(e)) return false;
  return e.code === 429 || e.code >= 500;
}

async function withRetries<R>(fn: () => Promise<R>, retry: PageRetry): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt > retry.attempts || !isRetryableListError(e)) throw e;
      await retry.wait(attempt, e as Error);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
