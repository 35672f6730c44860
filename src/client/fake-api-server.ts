// A tiny in-memory Kubernetes API server for client tests. It speaks the real wire format (JSON
// objects, Status errors, newline-delimited watch events, 410 Expired for compacted history) but
// implements only what the client package exercises. Not for production use.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyJSONPatch } from '../machinery/patch/index.ts';

interface Stored {
  obj: any;
}

interface HistoryEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  collection: string;
  obj: any;
}

interface Watcher {
  collection: string;
  namespace?: string;
  res: http.ServerResponse;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body?: any;
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** Split /api/v1/namespaces/ns/pods/name/sub into its parts. */
function parsePath(path: string) {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let i = parts[0] === 'api' ? 2 : 3;
  const gv = parts.slice(0, i).join('/');
  let namespace: string | undefined;
  if (parts[i] === 'namespaces' && parts.length > i + 2) {
    namespace = parts[i + 1];
    i += 2;
  }
  const resource = parts[i];
  const name = parts[i + 1];
  const sub = parts[i + 2];
  return { gv, namespace, resource, name, sub, collection: `${gv}/${resource}` };
}

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  /** Make the next requests matching this predicate fail with the given Status. */
  failNext: Array<{ match: (r: RecordedRequest) => boolean; code: number; reason: string; message: string }> = [];
  private objects = new Map<string, Stored>(); // collection|ns|name
  private history: HistoryEvent[] = [];
  private rv = 100;
  /** Watches from a resourceVersion at or below this get 410 Expired. */
  compactedRV = 0;
  private watchers = new Set<Watcher>();
  private server = http.createServer((req, res) => this.handle(req, res));
  private sockets = new Set<import('node:net').Socket>();
  url = '';

  constructor(opts: { startRV?: number } = {}) {
    if (opts.startRV) this.rv = opts.startRV;
  }

  async start(port = 0): Promise<string> {
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  port(): number {
    return Number(new URL(this.url).port);
  }

  /** Stop listening and cut every connection (simulates a crash). */
  async stop(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Cut all open watch connections without stopping the server. */
  dropWatches(): void {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
  }

  watchCount(): number {
    return this.watchers.size;
  }

  currentRV(): number {
    return this.rv;
  }

  /** Forget history: watches from older versions now get 410. */
  compact(): void {
    this.compactedRV = this.rv;
    this.history = [];
  }

  // ---- direct manipulation for tests ----

  put(collection: string, obj: any): any {
    const key = this.key(collection, obj.metadata.namespace, obj.metadata.name);
    const existed = this.objects.has(key);
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    stored.metadata.uid ??= `uid-${obj.metadata.name}`;
    this.objects.set(key, { obj: stored });
    this.emit(existed ? 'MODIFIED' : 'ADDED', collection, stored);
    return stored;
  }

  remove(collection: string, namespace: string | undefined, name: string): void {
    const key = this.key(collection, namespace, name);
    const s = this.objects.get(key);
    if (!s) return;
    this.objects.delete(key);
    const obj = structuredClone(s.obj);
    obj.metadata.resourceVersion = String(++this.rv);
    this.emit('DELETED', collection, obj);
  }

  getObject(collection: string, namespace: string | undefined, name: string): any {
    return this.objects.get(this.key(collection, namespace, name))?.obj;
  }

  listObjects(collection: string): any[] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${collection}|`)).map(([, v]) => v.obj);
  }

  /** Send a bookmark to every watch of the collection. */
  bookmark(collection: string): void {
    for (const w of this.watchers) {
      if (w.collection !== collection) continue;
      w.res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } }) + '\n');
    }
  }

  private key(collection: string, ns: string | undefined, name: string): string {
    return `${collection}|${ns ?? ''}|${name}`;
  }

  private emit(type: HistoryEvent['type'], collection: string, obj: any): void {
    const ev: HistoryEvent = { rv: Number(obj.metadata.resourceVersion), type, collection, obj };
    this.history.push(ev);
    for (const w of this.watchers) this.send(w, ev);
  }

  private send(w: Watcher, ev: HistoryEvent): void {
    if (w.collection !== ev.collection) return;
    if (w.namespace && ev.obj.metadata.namespace !== w.namespace) return;
    w.res.write(JSON.stringify({ type: ev.type, object: ev.obj }) + '\n');
  }

  private json(res: http.ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: any;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const r: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body };
      this.requests.push(r);
      const failIdx = this.failNext.findIndex((f) => f.match(r));
      if (failIdx >= 0) {
        const f = this.failNext.splice(failIdx, 1)[0];
        this.json(res, f.code, status(f.code, f.reason, f.message));
        return;
      }
      try {
        this.route(r, res);
      } catch (e) {
        this.json(res, 500, status(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`));
      }
    });
  }

  private route(r: RecordedRequest, res: http.ServerResponse): void {
    const p = parsePath(r.path);
    const { collection, namespace, name, sub } = p;
    const kind = p.resource;
    if (r.method === 'GET' && !name) {
      if (r.query.get('watch') === 'true' || r.query.get('watch') === '1') return this.watch(r, res, collection, namespace);
      const items = this.listObjects(collection).filter((o) => !namespace || o.metadata.namespace === namespace);
      return this.json(res, 200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items });
    }
    const key = this.key(collection, namespace, name ?? r.body?.metadata?.name);
    const existing = this.objects.get(key)?.obj;
    const notFound = () => this.json(res, 404, status(404, 'NotFound', `${kind} "${name}" not found`));
    switch (r.method) {
      case 'GET':
        return existing ? this.json(res, 200, existing) : notFound();
      case 'POST': {
        if (sub === 'binding') {
          if (!existing) return notFound();
          this.put(collection, { ...existing, spec: { ...existing.spec, nodeName: r.body.target.name } });
          return this.json(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
        }
        if (existing) return this.json(res, 409, status(409, 'AlreadyExists', `${kind} "${r.body.metadata.name}" already exists`));
        const obj = { ...r.body, metadata: { ...r.body.metadata, namespace: namespace ?? r.body.metadata.namespace } };
        return this.json(res, 201, this.put(collection, obj));
      }
      case 'PUT': {
        if (!existing) return notFound();
        const want = r.body?.metadata?.resourceVersion;
        if (want && want !== existing.metadata.resourceVersion)
          return this.json(
            res,
            409,
            status(409, 'Conflict', `Operation cannot be fulfilled on ${kind} "${name}": the object has been modified; please apply your changes to the latest version and try again`),
          );
        return this.json(res, 200, this.put(collection, r.body));
      }
      case 'PATCH': {
        if (!existing) return notFound();
        const patched =
          r.headers['content-type'] === 'application/json-patch+json'
            ? applyJSONPatch(existing, r.body)
            : mergePatch(structuredClone(existing), r.body);
        return this.json(res, 200, this.put(collection, patched));
      }
      case 'DELETE': {
        if (!existing) return notFound();
        this.remove(collection, namespace, name!);
        return this.json(res, 200, existing);
      }
    }
    this.json(res, 405, status(405, 'MethodNotAllowed', 'method not allowed'));
  }

  private watch(r: RecordedRequest, res: http.ServerResponse, collection: string, namespace?: string): void {
    const from = Number(r.query.get('resourceVersion') || this.rv);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    if (from < this.compactedRV) {
      res.write(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.compactedRV})`) }) + '\n');
      res.end();
      return;
    }
    const w: Watcher = { collection, namespace, res };
    for (const ev of this.history) if (ev.rv > from) this.send(w, ev);
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
  }
}

function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = target && typeof target === 'object' && !Array.isArray(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
