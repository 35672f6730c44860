// The API server's per-resource cache: the current objects under one key prefix (decoded once)
// plus a window of recent events, fed by a single store watch. Lists, gets and watches are
// served from here; only writes go to the store.

import { StorageError, type KeyValue, type Store, type StoreEvent, type WatchEventType, type WatchHandle } from './store.ts';
import { KeyIndex } from './key-index.ts';
import { WatcherSet } from './watchers.ts';
import { valueLength } from './packed-text.ts';

export interface CacheEvent<T> {
  type: WatchEventType;
  key: string;
  /** The object after the change; for DELETED, its last state (stamped with the delete's revision). */
  object: T;
  /** The object before the change (MODIFIED and DELETED). */
  prevObject?: T;
  revision: number;
  /**
   * Encodings of this event memoised by the API server, keyed by format (see encodeOnce), so an
   * event going to many watchers is serialized once. Created lazily.
   */
  cache?: Map<string, unknown>;
}

/** Encode ev in the given format at most once, sharing the result between watchers. */
export function encodeOnce<T, R>(ev: CacheEvent<T>, format: string, encode: (ev: CacheEvent<T>) => R): R {
  let m = ev.cache;
  if (!m) m = ev.cache = new Map();
  else if (m.has(format)) return m.get(format) as R;
  const out = encode(ev);
  m.set(format, out);
  return out;
}

export interface CacheEntry<T> {
  obj: T;
  kv: KeyValue;
}

export interface WatchCacheOptions {
  /**
   * Keep exactly this many events for watches that resume from an older revision (tests). When
   * unset the window is bounded by time and memory instead (the options below).
   */
  windowSize?: number;
  /**
   * Events younger than this are kept (up to maxEvents and maxBytes), so a client that fell behind
   * or is paging through a large list can resume however busy the resource is (upstream keeps
   * 75 s). Default 75,000 ms.
   */
  freshMs?: number;
  /** At least this many events are kept, however old (within maxBytes). Default 10,000. */
  minEvents?: number;
  /** Never more events than this. Default 102,400. */
  maxEvents?: number;
  /**
   * Bound on the stored text of the kept events' objects, in bytes (counted per event, though
   * most share their text with the current object or the next event). Default 64 MiB, as the
   * SQLite store's own history.
   */
  maxBytes?: number;
  /**
   * True when the store delivers watch events before it acknowledges writes (SQLite, memory): then
   * any revision the store reports has already been seen here, which lets waitFor/sync catch up
   * without events. An asynchronous backend (etcd) must set false. Default true.
   */
  synchronousStore?: boolean;
  /** How often waitFor re-reads the store revision while waiting (synchronous stores). Default 50ms. */
  pollMs?: number;
}

interface Waiter {
  revision: number;
  resolve: () => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

export class WatchCache<T> {
  readonly store: Store;
  readonly prefix: string;
  private readonly decode: (kv: KeyValue) => T;
  private readonly minEvents: number;
  private readonly maxEvents: number;
  private readonly freshMs: number;
  private readonly maxBytes: number;
  private readonly synchronousStore: boolean;
  private readonly pollMs: number;

  /** The current objects by key, listed by prefix in key order. */
  private readonly entries = new KeyIndex<CacheEntry<T>>((e) => e.kv.key);

  // Recent events, oldest at `head`, with when each arrived and its stored size; the arrays are
  // cut down once the evicted part is as long as the kept one.
  private events: CacheEvent<T>[] = [];
  private times: number[] = [];
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;
  /** Every event after this revision is still in the ring (initially the list revision). */
  private horizon = 0;
  private rev = 0;

  private readonly watchers = new WatcherSet<CacheEvent<T>>(
    (ev) => ev.key,
    () => `watch cache ${this.prefix}: watcher`,
  );
  private waiters: Waiter[] = [];
  private pollTimer: NodeJS.Timeout | undefined;
  /** Lets go of stale events when no new ones push them out (after a burst, the window would hold it). */
  private trimTimer: NodeJS.Timeout | undefined;
  private storeWatch: WatchHandle | undefined;
  /** Watches that want to hear when the cache ends them (restart). */
  private readonly onEnds = new Map<WatchHandle, () => void>();
  private starting: Promise<void> | undefined;
  private stopped = false;

  constructor(store: Store, prefix: string, decode: (kv: KeyValue) => T, opts: WatchCacheOptions | number = {}) {
    const o = typeof opts === 'number' ? { windowSize: opts } : opts;
    this.store = store;
    this.prefix = prefix;
    this.decode = decode;
    if (o.windowSize !== undefined) {
      this.minEvents = this.maxEvents = Math.max(1, o.windowSize);
      this.freshMs = Infinity;
      this.maxBytes = Infinity;
    } else {
      this.maxEvents = Math.max(1, o.maxEvents ?? 102_400);
      this.minEvents = Math.min(this.maxEvents, Math.max(1, o.minEvents ?? 10_000));
      this.freshMs = o.freshMs ?? 75_000;
      this.maxBytes = o.maxBytes ?? 64 * 1024 * 1024;
    }
    this.synchronousStore = o.synchronousStore ?? true;
    this.pollMs = o.pollMs ?? 50;
  }

  /** Events kept for resumes now. */
  get windowLength(): number {
    return this.events.length - this.head;
  }

  /** Load the current state and start following the store. Idempotent. */
  start(): Promise<void> {
    if (!this.trimTimer && Number.isFinite(this.freshMs)) {
      this.trimTimer = setInterval(() => this.evict(performance.now()), Math.min(10_000, Math.max(100, this.freshMs / 4)));
      this.trimTimer.unref?.();
    }
    this.starting ??= this.load();
    return this.starting;
  }

  private async load(): Promise<void> {
    for (;;) {
      const res = await this.store.list(this.prefix);
      this.entries.clear();
      for (const kv of res.items) this.entries.set({ obj: this.decode(kv), kv });
      this.rev = res.revision;
      this.horizon = res.revision;
      try {
        // Everything after the list revision arrives through the watch, so nothing falls in between.
        this.storeWatch = this.store.watch(
          this.prefix,
          res.revision,
          (ev) => this.onStoreEvent(ev),
          () => this.restart(),
        );
        return;
      } catch (e) {
        // Compacted between the list and the watch: list again.
        if (!(e instanceof StorageError && e.code === 'Compacted')) throw e;
      }
    }
  }

  /**
   * The store lost events this cache needed (etcd compacted them while unreachable): end every
   * watch (their clients resume from their revision, or get 410 and list again, as after an
   * upstream cacher re-list) and load the current state again.
   */
  private restart(): void {
    if (this.stopped) return;
    this.storeWatch = undefined;
    this.endWatchers();
    this.events = [];
    this.times = [];
    this.sizes = [];
    this.head = 0;
    this.bytes = 0;
    const attempt = (): void => {
      if (this.stopped) return;
      this.starting = this.load();
      this.starting.catch(() => setTimeout(attempt, 1000).unref?.());
    };
    attempt();
  }

  private endWatchers(): void {
    const ends = [...this.onEnds.values()];
    this.onEnds.clear();
    this.watchers.clear();
    for (const end of ends) {
      try {
        end();
      } catch {
        // a watcher's own cleanup failing must not stop the others'
      }
    }
  }

  /** Stop following the store and end all waits. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.trimTimer);
    this.storeWatch?.stop();
    this.watchers.clear();
    const err = new StorageError('Unavailable', this.prefix, 'watch cache stopped');
    for (const w of this.waiters.splice(0)) this.settleWaiter(w, err);
    this.stopPolling();
  }

  /**
   * Latest revision the cache is known to be up to date with. With a synchronous store that is the
   * store's committed revision: every event up to it has reached this cache already, so a resource
   * nobody writes still lists at the current revision (never "0", which clients read as "any"),
   * at no cost per write to the other resources' caches.
   */
  get revision(): number {
    if (this.synchronousStore && this.storeWatch && this.store.committedRevision) {
      const committed = this.store.committedRevision();
      if (committed > this.rev) this.rev = committed;
    }
    return this.rev;
  }

  /** Oldest revision a watch can resume from. */
  get oldestRevision(): number {
    return this.horizon;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): CacheEntry<T> | undefined {
    return this.entries.get(key);
  }

  /** Objects under prefix (default: the whole resource), sorted by key. */
  list(prefix?: string): { items: T[]; revision: number } {
    return { items: this.entriesUnder(prefix).map((e) => e.obj), revision: this.revision };
  }

  /** Entries (object and raw key/value) under prefix, sorted by key. */
  entriesUnder(prefix?: string): CacheEntry<T>[] {
    // Every key is under the cache's own prefix: listing all of it needs no search.
    return this.entries.list(!prefix || prefix === this.prefix ? '' : prefix);
  }

  /** Entries under prefix with a key after `after` (all when undefined), in key order: one list page. */
  scan(prefix: string, after?: string): Iterable<CacheEntry<T>> {
    return this.entries.scan(prefix, after);
  }

  /** How many entries under prefix have a key after `after`. */
  countAfter(prefix: string, after?: string): number {
    return this.entries.countAfter(prefix, after);
  }

  /**
   * Watch changes under prefix. fromRevision 0 starts with the current state as synthetic ADDED
   * events; otherwise buffered events after fromRevision are replayed first. Replayed events are
   * delivered synchronously, before this returns. Throws StorageError('Compacted') when events
   * after fromRevision are no longer buffered ("too old resource version"). onEnd is called if
   * the cache ends the watch itself (it had to load its state again).
   */
  watch(fromRevision: number, prefix: string, cb: (ev: CacheEvent<T>) => void, onEnd?: () => void): WatchHandle {
    if (this.stopped) throw new StorageError('Unavailable', prefix, 'watch cache stopped');
    let after: number;
    if (fromRevision === 0) {
      for (const e of this.entriesUnder(prefix)) cb({ type: 'ADDED', key: e.kv.key, object: e.obj, revision: e.kv.modRevision });
      after = this.revision;
    } else {
      if (fromRevision < this.horizon) {
        throw new StorageError('Compacted', prefix, `too old resource version: ${fromRevision} (${this.horizon})`, this.horizon);
      }
      const events = this.events;
      for (let i = this.firstAfter(fromRevision), n = events.length; i < n; i++) {
        const ev = events[i];
        if (ev.key.startsWith(prefix)) cb(ev);
      }
      after = Math.max(fromRevision, this.revision);
    }
    const h = this.watchers.add(prefix, after, cb);
    if (!onEnd) return h;
    this.onEnds.set(h, onEnd);
    return {
      stop: () => {
        this.onEnds.delete(h);
        h.stop();
      },
    };
  }

  /**
   * Resolves once the cache has seen revision. With timeoutMs, rejects after that long with
   * StorageError('Unavailable') carrying upstream's "Too large resource version" message.
   */
  waitFor(revision: number, timeoutMs?: number): Promise<void> {
    if (revision <= this.rev) return Promise.resolve();
    if (this.stopped) return Promise.reject(new StorageError('Unavailable', this.prefix, 'watch cache stopped'));
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { revision, resolve, reject };
      if (timeoutMs !== undefined) {
        w.timer = setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          if (this.waiters.length === 0) this.stopPolling();
          reject(
            new StorageError('Unavailable', this.prefix, `Too large resource version: ${revision}, current: ${this.rev}`, this.rev),
          );
        }, timeoutMs);
      }
      this.waiters.push(w);
      if (this.synchronousStore) {
        void this.sync().catch(() => undefined);
        this.startPolling();
      }
    });
  }

  /**
   * Bring `revision` up to the store's current revision (for consistent reads) and return it.
   * For a synchronous store every event up to that revision has already been applied.
   */
  async sync(): Promise<number> {
    const current = await this.store.currentRevision();
    if (this.synchronousStore) this.advance(current);
    else await this.waitFor(current);
    return this.rev;
  }

  // ---- internals ----

  private onStoreEvent(sev: StoreEvent): void {
    const key = sev.kv.key;
    const before = this.entries.get(key);
    const object = this.decode(sev.kv);
    const ev: CacheEvent<T> = { type: sev.type, key, object, prevObject: before?.obj, revision: sev.revision };
    if (sev.type === 'DELETED') {
      if (before) this.entries.delete(key);
    } else {
      this.entries.set({ obj: object, kv: sev.kv });
    }
    this.push(ev, key.length + valueLength(sev.kv));
    this.rev = sev.revision > this.rev ? sev.revision : this.rev;

    this.watchers.emit(ev);
    // Watchers have their frames (sockets hold them until sent); the ring keeps the event for
    // resumes only, which encode again, so the ring does not hold a second copy of every object.
    ev.cache = undefined;
    if (this.waiters.length) this.releaseWaiters();
  }

  private push(ev: CacheEvent<T>, size: number): void {
    const now = performance.now();
    this.events.push(ev);
    this.times.push(now);
    this.sizes.push(size);
    this.bytes += size;
    this.evict(now);
  }

  /** Drop the oldest events beyond the window's bounds; cut the arrays down now and then. */
  private evict(now: number): void {
    const fresh = now - this.freshMs;
    for (;;) {
      const n = this.events.length - this.head;
      const evict = n > this.maxEvents || (n > 1 && this.bytes > this.maxBytes) || (n > this.minEvents && this.times[this.head] < fresh);
      if (!evict) break;
      // Evict the oldest; from now on only resumes after its revision can be served.
      this.horizon = this.events[this.head].revision;
      this.bytes -= this.sizes[this.head];
      (this.events as (CacheEvent<T> | undefined)[])[this.head] = undefined;
      this.head++;
    }
    if (this.head >= 1024 && this.head * 2 >= this.events.length) {
      this.events = this.events.slice(this.head);
      this.times = this.times.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }

  /** Index in `events` of the first kept event with revision > rev. */
  private firstAfter(rev: number): number {
    let lo = this.head;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid].revision <= rev) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private advance(revision: number): void {
    if (revision > this.rev) this.rev = revision;
    if (this.waiters.length) this.releaseWaiters();
  }

  private releaseWaiters(): void {
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.revision <= this.rev) this.settleWaiter(w);
      else keep.push(w);
    }
    this.waiters = keep;
    if (keep.length === 0) this.stopPolling();
  }

  private settleWaiter(w: Waiter, err?: Error): void {
    if (w.timer) clearTimeout(w.timer);
    if (err) w.reject(err);
    else w.resolve();
  }

  private startPolling(): void {
    if (this.pollTimer) return;
    // Writes to other resources move the global revision without any event reaching this cache.
    this.pollTimer = setInterval(() => void this.sync().catch(() => undefined), this.pollMs);
    this.pollTimer.unref?.();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }
}
