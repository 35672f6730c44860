// Keeps one resource in sync with the API server, as client-go's reflector does, from the browser:
// a streaming list (a watch with sendInitialEvents) that turns into the watch, or a paged list
// then a watch where the server has no streaming lists; resumes from the last resourceVersion
// after the stream ends or the connection drops (retrying with backoff until the server is back),
// and lists again after 410 Gone. Watch answers are chunked HTTP read with fetch's stream, which
// (unlike EventSource or WebSocket) can carry the Authorization header.
//
// Never polls: the only timed requests are reconnection attempts after a failure.

import { ApiError, NetworkError, apiFetch } from '../shared/http.ts';
import { LineSplitter } from './lines.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchTarget {
  /** Collection path, e.g. /api/v1/pods. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Load only what changes from now on when the collection holds more than this many objects
   * (events: the history is not worth its transfer; the pages ask per object instead).
   */
  tailAbove?: number;
  /**
   * Load with paged lists of this many objects, never a streaming list (pods: a streaming list of
   * 150,000 pods is written by the API server in one go, holding up its other clients, and is cut
   * when it passes the server's 32 MB limit for a watcher's unsent output).
   */
  pageSize?: number;
}

export interface WatchHandlers {
  /** An object appeared, changed or went; `live` is false while (re)loading the initial state. */
  event(type: EventType, obj: any, live: boolean): void;
  /** The initial state is complete (after every (re)load). */
  synced(): void;
  /** Loading, forbidden, error: for the page to show. `count` is objects so far. */
  state(state: 'loading' | 'synced' | 'forbidden' | 'error', message?: string, partialTotal?: number): void;
  /** The connection to the server is up (true) or being retried (false, with why). */
  connection(up: boolean, error?: string): void;
  /** The credentials were refused (401): stop and log in again. */
  unauthorized(message: string): void;
}

/** How long a watch may stay silent before it is taken for dead (bookmarks come every 30-60 s). */
const IDLE_MS = 90_000;
const LIST_PAGE = 500;

function keyOf(o: any): string {
  const m = o?.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : m.name;
}

export class Watcher {
  private rv = '';
  private stopped = false;
  private abort?: AbortController;
  /** Keys held, to find what was deleted while we were away when the state is loaded again. */
  private readonly known = new Set<string>();
  private streamingList = true;
  /** Whether the current load reached its end (its objects are all in). */
  private synced = false;
  private failures = 0;
  /** Whether the last stream was answered (so a failure after that is a cut, not no server). */
  private gotAnswer = false;

  constructor(
    private readonly target: WatchTarget,
    private readonly h: WatchHandlers,
    private readonly token: () => string | undefined,
  ) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private query(extra: Record<string, string>): string {
    const q = new URLSearchParams();
    if (this.target.labelSelector) q.set('labelSelector', this.target.labelSelector);
    if (this.target.fieldSelector) q.set('fieldSelector', this.target.fieldSelector);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    return `${this.target.path}?${q}`;
  }

  private async run(): Promise<void> {
    let needLoad = true;
    while (!this.stopped) {
      try {
        if (needLoad) {
          needLoad = false;
          await this.load();
        } else {
          await this.stream(this.query({ watch: '1', allowWatchBookmarks: 'true', resourceVersion: this.rv }), undefined);
        }
        // The server ended the watch (its timeout, or it is shutting down): resume at once.
        this.failures = 0;
      } catch (e) {
        if (this.stopped) return;
        // A load cut before its end starts over (a resourceVersion seen mid-load is no place to resume).
        if (!this.synced) needLoad = true;
        if (e instanceof ApiError) {
          if (e.code === 410) {
            needLoad = true;
            continue;
          }
          if (e.code === 401) {
            this.h.unauthorized(e.message);
            this.stopped = true;
            return;
          }
          if (e.code === 403) {
            this.h.connection(true);
            this.h.state('forbidden', e.message);
            // Permissions change rarely; look again after a minute (RBAC has no watch for "may I").
            await sleep(60_000);
            needLoad = true;
            continue;
          }
          this.h.state('error', e.message);
          needLoad = true;
        } else {
          this.h.connection(false, e instanceof NetworkError ? 'cannot reach the API server' : (e as Error).message || 'the connection was cut');
        }
        this.failures++;
        // 0.5 s, 1 s, 2 s, then every 3 s: an API server restart takes a second or two.
        await sleep(Math.min(3000, 250 * 2 ** this.failures));
      }
    }
  }

  /**
   * Where a paged load cut by a lost connection goes on from: the continue token of the page that
   * did not come, and the objects it has yet to see. At 150,000 pods on a busy machine a load
   * takes minutes, and started over after every cut (a browser drops its requests when the
   * host's network changes) it would never end.
   */
  private resumeAt?: { cont: string; stale: Set<string> };

  /** Load the whole state (first time, or after 410 / an error), then go on watching. */
  private async load(): Promise<void> {
    const resume = this.resumeAt;
    this.resumeAt = undefined;
    const stale = resume?.stale ?? new Set(this.known);
    this.synced = false;
    const onSynced = () => {
      this.synced = true;
      // What we held and the server no longer has went while we were not watching.
      for (const k of stale) {
        this.known.delete(k);
        const [a, b] = k.includes('/') ? k.split('/') : [undefined, k];
        this.h.event('DELETED', { metadata: { namespace: a, name: b } }, false);
      }
      stale.clear();
      this.h.state('synced');
      this.h.synced();
    };
    this.h.state('loading');
    if (this.target.tailAbove !== undefined && !resume) {
      const head = await (await apiFetch(this.query({ limit: '1' }), { token: this.token() })).json();
      this.h.connection(true);
      const total = (head.items?.length ?? 0) + (head.metadata?.remainingItemCount ?? 0);
      if (total > this.target.tailAbove) {
        this.rv = head.metadata.resourceVersion;
        this.synced = true;
        for (const k of stale) this.known.delete(k);
        this.h.state('synced', undefined, total);
        this.h.synced();
        return this.stream(this.query({ watch: '1', allowWatchBookmarks: 'true', resourceVersion: this.rv }), undefined);
      }
    }
    if (this.streamingList && !this.target.pageSize && !resume) {
      try {
        return await this.stream(this.query({ watch: '1', sendInitialEvents: 'true', allowWatchBookmarks: 'true', resourceVersionMatch: 'NotOlderThan' }), { stale, onSynced });
      } catch (e) {
        // A server without streaming lists refuses the parameters (400/422): list, then watch.
        // One that cuts a streaming list before its end (Mizzen closes a watch whose unsent output
        // passes 32 MB, and a streaming list of 50,000 pods is more) gets paged lists instead:
        // each page waits for the one before, so nothing piles up.
        const refused = e instanceof ApiError && (e.code === 400 || e.code === 422);
        const cut = e instanceof NetworkError && this.gotAnswer;
        if (this.synced || (!refused && !cut)) throw e;
        this.streamingList = false;
      }
    }
    const limit = String(this.target.pageSize ?? LIST_PAGE);
    const fetchPage = async (cont: string) => (await apiFetch(this.query(cont ? { limit, continue: cont } : { limit }), { token: this.token() })).json();
    let asking = resume?.cont ?? '';
    let next: Promise<any> | undefined = fetchPage(asking);
    while (next) {
      let page: any;
      try {
        page = await next;
      } catch (e) {
        // The list took longer than the server keeps its changes (150,000 pods on a busy machine):
        // go on from where it was at the server's current state, rather than start over and
        // likely fail the same way. What changed meanwhile in pages already read is caught up by
        // the objects' next changes (a rare staleness, against never finishing).
        if (e instanceof ApiError && e.code === 410 && e.status.continue) {
          next = fetchPage((asking = e.status.continue));
          continue;
        }
        // Cut (no answer, or an answer not read to its end): the next try goes on from this page.
        if (asking && !(e instanceof ApiError)) this.resumeAt = { cont: asking, stale };
        throw e;
      }
      this.h.connection(true);
      const cont: string = page.metadata?.continue ?? '';
      this.rv = page.metadata?.resourceVersion ?? this.rv;
      // The next page is on its way while this one's objects are taken in.
      asking = cont;
      next = cont ? fetchPage(cont) : undefined;
      next?.catch(() => {});
      for (const item of page.items ?? []) {
        const k = keyOf(item);
        stale.delete(k);
        this.known.add(k);
        this.h.event('ADDED', item, false);
      }
    }
    onSynced();
    return this.stream(this.query({ watch: '1', allowWatchBookmarks: 'true', resourceVersion: this.rv }), undefined);
  }

  /**
   * Read one watch answer to its end. With `initial`, it is a streaming list: ADDED events are the
   * initial state until the bookmark that marks their end.
   */
  private async stream(path: string, initial: { stale: Set<string>; onSynced: () => void } | undefined): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const poke = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => abort.abort(), IDLE_MS);
    };
    poke();
    let res: Response;
    this.gotAnswer = false;
    try {
      res = await apiFetch(path, { token: this.token(), signal: abort.signal });
    } catch (e) {
      clearTimeout(idle);
      if ((e as Error).name === 'AbortError') throw new NetworkError('the watch stopped answering');
      throw e;
    }
    this.h.connection(true);
    this.failures = 0;
    this.gotAnswer = true;
    let live = !initial;
    const reader = res.body!.getReader();
    const lines = new LineSplitter();
    try {
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (e) {
          if (this.stopped) return;
          throw new NetworkError(abort.signal.aborted ? 'the watch stopped answering' : 'the connection to the API server was cut');
        }
        if (chunk.done) break;
        poke();
        for (const line of lines.push(chunk.value)) live = this.line(line, initial, live);
      }
      for (const line of lines.end()) live = this.line(line, initial, live);
    } finally {
      clearTimeout(idle);
      reader.releaseLock?.();
    }
    if (!live && initial) throw new NetworkError('the list was cut before its end');
  }

  private line(line: string, initial: { stale: Set<string>; onSynced: () => void } | undefined, live: boolean): boolean {
    let ev: { type: string; object: any };
    try {
      ev = JSON.parse(line);
    } catch {
      throw new NetworkError('a watch event could not be read');
    }
    const obj = ev.object;
    if (ev.type === 'ERROR') {
      throw new ApiError({ code: obj?.code ?? 500, reason: obj?.reason ?? '', message: obj?.message ?? 'watch error' });
    }
    // The initial events of a streaming list carry each object's own resourceVersion, in no
    // order: only the bookmark that ends them says where the watch stands.
    const rv = obj?.metadata?.resourceVersion;
    if (rv && (live || ev.type === 'BOOKMARK')) this.rv = rv;
    if (ev.type === 'BOOKMARK') {
      if (!live && initial && obj?.metadata?.annotations?.['k8s.io/initial-events-end'] === 'true') {
        initial.onSynced();
        return true;
      }
      return live;
    }
    const k = keyOf(obj);
    if (ev.type === 'DELETED') this.known.delete(k);
    else {
      this.known.add(k);
      if (!live) initial?.stale.delete(k);
    }
    this.h.event(ev.type as EventType, obj, live);
    return live;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
