// Watch: stream events from the watch cache as newline-delimited JSON, each object serialised once.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObject, ResourceDef } from '../api/types.ts';
import { errors, StatusError } from '../machinery/errors.ts';
import { StorageError } from '../storage/store.ts';
import { encodeOnce } from '../storage/watch-cache.ts';
import type { ResourceStore } from './registry/resource-store.ts';
import type { CachedObject } from './registry/cached-object.ts';
import { toTable, partialMetadata, type OutputForm } from './output.ts';
import { buildFilter } from './selectors.ts';
import { queryFlag } from './query-params.ts';

/** An event as the watch cache delivers it. */
export interface CacheWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: CachedObject;
  prevObject?: CachedObject;
  revision: number;
}

export interface WatchableCache {
  /** onEnd: the cache ended the watch itself (it reloaded its state); the client watches again. */
  watch(fromRevision: number, prefix: string, cb: (ev: CacheWatchEvent) => void, onEnd?: () => void): { stop(): void };
  readonly revision: number;
  /** Oldest revision a watch can resume from (undefined: not known, the watch itself says). */
  readonly oldestRevision?: number;
}

/** How often a watch that asked for bookmarks gets one. */
export let bookmarkIntervalMs = 30_000;
export function setBookmarkInterval(ms: number): void {
  bookmarkIntervalMs = ms;
}

/** A watcher whose unsent output passes this is too slow and is closed (it re-watches). */
const maxBufferedBytes = 32 * 1024 * 1024;

/**
 * `convert` (custom resources) turns each event's object into the requested version; events then
 * go out in order once converted.
 */
export function serveWatch(
  req: IncomingMessage,
  res: ServerResponse,
  def: ResourceDef,
  store: ResourceStore,
  form: OutputForm,
  ns: string | undefined,
  q: URLSearchParams,
  convert?: (c: CachedObject) => Promise<CachedObject>,
): void {
  const filter = buildFilter(def, q.get('labelSelector'), q.get('fieldSelector'));
  const rvRaw = q.get('resourceVersion') ?? '';
  let fromRev = 0;
  if (rvRaw !== '' && rvRaw !== '0') {
    fromRev = Number(rvRaw);
    if (!Number.isInteger(fromRev) || fromRev < 0) throw errors.badRequest(`Invalid value for resourceVersion: ${JSON.stringify(rvRaw)}: must be an integer`);
  }
  const sendInitialEvents = queryFlag(q, 'sendInitialEvents');
  if (sendInitialEvents) fromRev = 0;
  const bookmarks = queryFlag(q, 'allowWatchBookmarks');
  const tsRaw = q.get('timeoutSeconds');
  let timeoutMs = (1800 + Math.random() * 1800) * 1000;
  if (tsRaw !== null && tsRaw !== '') {
    const t = Number(tsRaw);
    if (!Number.isFinite(t) || t < 0) throw errors.badRequest(`timeoutSeconds must be a non-negative number, got ${JSON.stringify(tsRaw)}`);
    if (t > 0) timeoutMs = t * 1000;
  }
  const includeObject = q.get('includeObject') ?? 'Metadata';
  const cache = store.cache as unknown as WatchableCache;

  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  if ((res as any).flushHeaders) res.flushHeaders();

  let closed = false;
  let handle: { stop(): void } | undefined;
  let initialDone = fromRev !== 0 || !sendInitialEvents;
  let lastRev = fromRev;
  const timers: NodeJS.Timeout[] = [];

  const close = () => {
    if (closed) return;
    closed = true;
    handle?.stop();
    for (const t of timers) clearTimeout(t);
    res.end();
  };
  res.on('close', close);
  req.on('close', () => {
    if (!res.writableEnded) close();
  });

  // Frames go straight to the socket as ready-made HTTP chunks: the response is in chunked mode
  // (res.end() still writes the last chunk), and skipping res.write's per-call framing matters
  // when one event goes to hundreds of watchers.
  // The frames of one moment (a storage batch's events come all at once) go out together: the
  // socket is corked at the first and uncorked in a microtask, so a watcher costs one writev per
  // batch instead of one write system call (and, over TLS, one record) per event. A microtask, not
  // process.nextTick: the batch's writers' own continuations (their responses) are queued after it.
  const sock = res.socket!;
  let corked = false;
  const uncork = () => {
    corked = false;
    sock.uncork();
  };
  const write = (chunk: Buffer) => {
    if (closed) return;
    if (!corked) {
      corked = true;
      sock.cork();
      queueMicrotask(uncork);
    }
    sock.write(chunk);
    if (sock.writableLength > maxBufferedBytes) close();
  };

  const frame = (type: string, c: CachedObject, ev?: CacheWatchEvent): Buffer => {
    // The JSON frame of an event is encoded once and shared by every watcher that gets it.
    if (form.kind === 'json') return ev ? encodeOnce(ev as any, type, () => httpChunk(`{"type":"${type}","object":${c.json}}\n`)) : httpChunk(`{"type":"${type}","object":${c.json}}\n`);
    if (form.kind === 'table') return httpChunk(`{"type":"${type}","object":${JSON.stringify(toTable(def, [c.obj], { resourceVersion: c.obj.metadata.resourceVersion ?? '' }, form.version, includeObject))}}\n`);
    return httpChunk(`{"type":"${type}","object":${JSON.stringify(partialMetadata(c.obj, form.version))}}\n`);
  };

  // With a converter, frames wait for their conversion and everything after them waits too.
  let chain: Promise<void> = Promise.resolve();
  const send = (type: string, c: CachedObject, ev?: CacheWatchEvent) => {
    if (!convert) return write(frame(type, c, ev));
    chain = chain.then(async () => {
      if (closed) return;
      try {
        write(frame(type, await convert(c)));
      } catch (e) {
        const st = (e instanceof StatusError ? e : errors.internal((e as Error)?.message ?? String(e))).toStatus();
        write(httpChunk(`{"type":"ERROR","object":${JSON.stringify(st)}}\n`));
        close();
      }
    });
  };

  const bookmark = (rev: number, initialEnd = false) => {
    if (convert) {
      chain = chain.then(() => writeBookmark(rev, initialEnd));
      return;
    }
    writeBookmark(rev, initialEnd);
  };
  const writeBookmark = (rev: number, initialEnd: boolean) => {
    const meta: KObject['metadata'] = { resourceVersion: String(rev) };
    if (initialEnd) meta.annotations = { 'k8s.io/initial-events-end': 'true' };
    const obj = { kind: def.kind, apiVersion: store.apiVersion, metadata: meta };
    write(httpChunk(`{"type":"BOOKMARK","object":${JSON.stringify(obj)}}\n`));
  };

  const onEvent = (ev: CacheWatchEvent) => {
    if (closed) return;
    lastRev = ev.revision;
    if (!initialDone && ev.revision > startRevision) {
      // The synthetic initial events are over: tell a watch-list client.
      initialDone = true;
      if (bookmarks) bookmark(startRevision, true);
    }
    if (!filter) return send(ev.type, ev.object, ev);
    const now = filter(ev.object.obj);
    if (ev.type === 'MODIFIED') {
      const before = ev.prevObject ? filter(ev.prevObject.obj) : false;
      if (now && before) send('MODIFIED', ev.object, ev);
      else if (now) send('ADDED', ev.object, ev);
      else if (before) send('DELETED', ev.object, ev);
      return;
    }
    if (now) send(ev.type, ev.object, ev);
  };

  const startRevision = cache.revision;
  try {
    handle = cache.watch(fromRev, store.listPrefix(ns), onEvent, close);
  } catch (e) {
    if (e instanceof StorageError && e.code === 'Compacted') {
      const st = errors.expired(`too old resource version: ${fromRev} (${e.revision ?? cache.revision})`).toStatus();
      write(httpChunk(`{"type":"ERROR","object":${JSON.stringify(st)}}\n`));
      close();
      return;
    }
    if (e instanceof StatusError) {
      write(httpChunk(`{"type":"ERROR","object":${JSON.stringify(e.toStatus())}}\n`));
      close();
      return;
    }
    throw e;
  }
  if (!initialDone) {
    initialDone = true;
    if (bookmarks) bookmark(startRevision, true);
  }
  if (lastRev < startRevision) lastRev = startRevision;
  timers.push(setTimeout(close, timeoutMs));
  if (bookmarks) {
    const tick = () => {
      if (closed) return;
      bookmark(Math.max(lastRev, cache.revision));
      timers.push(setTimeout(tick, bookmarkIntervalMs));
    };
    timers.push(setTimeout(tick, bookmarkIntervalMs));
  }
}

/** One HTTP/1.1 chunk (size line, data, CRLF) holding `text`. */
function httpChunk(text: string): Buffer {
  const body = Buffer.from(text);
  const head = `${body.length.toString(16)}\r\n`;
  const out = Buffer.allocUnsafe(head.length + body.length + 2);
  out.write(head, 0, 'latin1');
  body.copy(out, head.length);
  out.write('\r\n', head.length + body.length, 'latin1');
  return out;
}
