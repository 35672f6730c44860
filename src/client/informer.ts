// Informers (client-go's reflector + shared informer): list a resource, then watch from the list's
// resourceVersion, keeping a local Indexer current and telling handlers about adds, updates and
// deletes. Survives dropped connections and expired resourceVersions.

import { StringInterner } from './intern-strings.ts';
import { PodPartSharer } from './share-pod-parts.ts';
import type { KObject } from '../api/types.ts';
import { ApiClient, ApiError, isResourceExpired, isTooLargeResourceVersion, type PageRetry, type ResourceRef, type WatchEvent, type WatchHandle } from './api-client.ts';
import { Indexer, Lister, NAMESPACE_INDEX, metaNamespaceKey, namespaceIndexFunc, type IndexFunc } from './cache.ts';

export interface EventHandlers<T> {
  /** isInInitialList: the object came from the first list (or a replay to a late handler). */
  onAdd?(obj: T, isInInitialList: boolean): void;
  /** Also called with old === new on resync. */
  onUpdate?(oldObj: T, newObj: T): void;
  /** finalStateUnknown: the delete was inferred from a re-list, obj is the last state we saw. */
  onDelete?(obj: T, finalStateUnknown: boolean): void;
}

export interface HandlerRegistration {
  remove(): void;
  hasSynced(): boolean;
}

export interface InformerOptions<T> {
  /** Watch only this namespace (default: all namespaces). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Default resync period for handlers, ms (0 = never). */
  resyncPeriodMs?: number;
  indexers?: Record<string, IndexFunc<T>>;
  /** Reconnect backoff (client-go: 800 ms doubling to 30 s, with jitter). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Server-side watch timeout; default a random 300..600 s like client-go, so watches are spread out. */
  watchTimeoutSeconds?: number;
  /** Page size for lists (default 500; 0 = no paging). */
  pageSize?: number;
  /**
   * Retries of one list page that timed out or failed with a 5xx/429 before the whole list is
   * given up (and started over after the backoff). Default 5; each waits the backoff, doubling.
   */
  pageRetries?: number;
  /** Where to report errors (default: console.warn). */
  log?: (msg: string) => void;
  /**
   * Applied to every object from a list or watch before it is cached or handed to handlers
   * (client-go's SetTransform), e.g. dropManagedFields.
   */
  transform?: (obj: T) => T;
}

/**
 * Drops metadata.managedFields, which no controller or scheduler reads (as upstream's components
 * trim them from their informers): often the largest part of a cached pod. An update sent without
 * managedFields keeps the stored ones, so writing back a trimmed object loses nothing.
 */
export function dropManagedFields<T extends KObject>(obj: T): T {
  if (obj.metadata?.managedFields !== undefined) delete obj.metadata.managedFields;
  return obj;
}

/**
 * The components' informer transform: dropManagedFields, then the strings that many objects repeat
 * shared (see StringInterner; one table per factory). With sharePodParts, also the parts that pods
 * of one template repeat (see PodPartSharer: shared parts are frozen, so only for readers that
 * never change cached objects in place: the scheduler's and the controllers' informers).
 */
export function trimForCache(opts: { sharePodParts?: boolean } = {}): <T extends KObject>(obj: T) => T {
  const interner = new StringInterner();
  if (!opts.sharePodParts) return (obj) => interner.intern(dropManagedFields(obj));
  const parts = new PodPartSharer();
  return (obj) => parts.share(interner.intern(dropManagedFields(obj)));
}

/** A relist sooner than this after the last list waits the backoff (client-go resets its backoff after 2 min). */
const RELIST_CALM_MS = 120_000;

interface Listener<T> {
  handlers: EventHandlers<T>;
  resyncTimer?: NodeJS.Timeout;
  synced: boolean;
}

export class Informer<T extends KObject = KObject> {
  readonly indexer: Indexer<T>;
  readonly ref: ResourceRef;
  private readonly client: ApiClient;
  private readonly opts: InformerOptions<T>;
  private listeners = new Set<Listener<T>>();
  private started = false;
  private stopped = false;
  private synced = false;
  private lastRV = '';
  private watchHandle?: WatchHandle;
  private wakeSleep?: () => void;
  private syncWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private backoffMs: number;
  /** When the last list finished (performance.now()): a relist soon after it waits relistWaitMs. */
  private listedAt = -Infinity;
  private relistWaitMs = 0;
  private loop?: Promise<void>;

  constructor(client: ApiClient, ref: Omit<ResourceRef, 'name' | 'subresource'>, opts: InformerOptions<T> = {}) {
    this.client = client;
    this.opts = opts;
    this.ref = { group: ref.group, version: ref.version, resource: ref.resource, namespace: opts.namespace ?? ref.namespace };
    this.indexer = new Indexer<T>({ [NAMESPACE_INDEX]: namespaceIndexFunc, ...(opts.indexers ?? {}) });
    this.backoffMs = opts.backoffInitialMs ?? 800;
  }

  lister(): Lister<T> {
    return new Lister(this.indexer);
  }

  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    this.indexer.addIndexers(indexers);
  }

  /**
   * Register handlers. If the informer already has objects, they are replayed as adds first, so a
   * late handler sees the same picture as an early one.
   */
  addEventHandler(handlers: EventHandlers<T>, resyncPeriodMs = this.opts.resyncPeriodMs ?? 0): HandlerRegistration {
    const l: Listener<T> = { handlers, synced: false };
    this.listeners.add(l);
    if (this.synced) {
      for (const o of this.indexer.list()) this.call(() => handlers.onAdd?.(o, true));
      l.synced = true;
    }
    if (resyncPeriodMs > 0) {
      l.resyncTimer = setInterval(() => {
        if (!this.synced || this.stopped) return;
        for (const o of this.indexer.list()) this.call(() => handlers.onUpdate?.(o, o));
      }, resyncPeriodMs);
      l.resyncTimer.unref();
    }
    return {
      remove: () => {
        if (l.resyncTimer) clearInterval(l.resyncTimer);
        this.listeners.delete(l);
      },
      hasSynced: () => l.synced,
    };
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list has been stored; rejects if the informer is stopped first. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error('informer stopped before it synced'));
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  /** The resourceVersion of the last list or event seen. */
  lastSyncResourceVersion(): string {
    return this.lastRV;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.loop = this.run();
  }

  /** Stop watching and timers; resolves when the run loop has exited. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const l of this.listeners) if (l.resyncTimer) clearInterval(l.resyncTimer);
    this.watchHandle?.abort();
    this.wakeSleep?.();
    const ws = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of ws) w.reject(new Error('informer stopped before it synced'));
    await this.loop;
  }

  private log(msg: string): void {
    (this.opts.log ?? ((m: string) => console.warn(m)))(`informer ${this.describe()}: ${msg}`);
  }

  private describe(): string {
    return this.ref.group ? `${this.ref.resource}.${this.ref.group}` : this.ref.resource;
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log(`event handler failed: ${(e as Error).stack ?? e}`);
    }
  }

  // ---- list and watch ----

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      if (needList) {
        try {
          await this.listAndReplace();
          needList = false;
          this.resetBackoff();
        } catch (e) {
          if (this.stopped) return;
          this.log(`list failed: ${(e as Error).message}`);
          await this.backoff();
          continue;
        }
      }
      const result = await this.watchOnce();
      if (this.stopped) return;
      if (result.expired) {
        // Our resourceVersion is older than the server keeps: start again from a fresh list. If the
        // last list was only a moment ago (this client cannot keep up: its watch fell behind or
        // expired again right away), wait the backoff first, doubling, as client-go's reflector
        // does between list-and-watch rounds, so a starved client does not relist in a loop.
        needList = true;
        await this.relistBackoff();
        continue;
      }
      if (result.err) {
        this.log(`watch ended: ${result.err.message}`);
        await this.backoff();
      } else if (result.events === 0) {
        // A clean close without events: don't spin if the server keeps closing right away.
        await this.backoff();
      } else {
        this.resetBackoff();
      }
    }
  }

  private async listAndReplace(): Promise<void> {
    const pageSize = this.opts.pageSize ?? 500;
    // A page that fails is asked for again from the same continue token (bounded, with backoff),
    // so a long list under load goes on from where it was rather than from its first page.
    let waitMs = this.opts.backoffInitialMs ?? 800;
    const retry: PageRetry = {
      attempts: this.opts.pageRetries ?? 5,
      wait: async (attempt, err) => {
        if (this.stopped) throw err;
        this.log(`list page failed (retry ${attempt}): ${err.message}`);
        await this.sleep(waitMs * (1 + Math.random()));
        waitMs = Math.min(waitMs * 2, this.opts.backoffMaxMs ?? 30_000);
        if (this.stopped) throw err;
      },
    };
    const list = await this.client.listAll<T>(
      this.ref,
      {
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        limit: pageSize > 0 ? pageSize : undefined,
      },
      retry,
    );
    if (this.stopped) return;
    this.replace(list.items, list.metadata.resourceVersion ?? '');
    this.listedAt = performance.now();
  }

  /** Store a full list, telling handlers what changed relative to the cache. */
  private replace(items: T[], rv: string): void {
    const initial = !this.synced;
    const seen = new Set<string>();
    const transform = this.opts.transform;
    for (const item of items) {
      const obj = transform ? transform(item) : item;
      const key = metaNamespaceKey(obj);
      seen.add(key);
      const old = this.indexer.getByKey(key);
      this.indexer.add(obj);
      if (!old) this.emitAdd(obj, initial);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emitUpdate(old, obj);
    }
    for (const key of this.indexer.listKeys()) {
      if (seen.has(key)) continue;
      const old = this.indexer.delete(key)!;
      this.emitDelete(old, true);
    }
    this.lastRV = rv;
    if (!this.synced) {
      this.synced = true;
      for (const l of this.listeners) l.synced = true;
      const ws = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of ws) w.resolve();
    }
  }

  private watchOnce(): Promise<{ err?: Error; expired?: boolean; events: number }> {
    return new Promise((resolve) => {
      let events = 0;
      let expired = false;
      let eventErr: Error | undefined;
      const timeout = this.opts.watchTimeoutSeconds ?? Math.floor(300 * (1 + Math.random()));
      const handle = this.client.watch<T>(
        this.ref,
        {
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
          resourceVersion: this.lastRV,
          allowWatchBookmarks: true,
          timeoutSeconds: timeout,
        },
        (ev) => {
          if (this.stopped || expired || eventErr) return;
          events++;
          if (ev.type === 'ERROR') {
            const err = new ApiError(ev.object as any);
            if (isResourceExpired(err) || isTooLargeResourceVersion(err)) expired = true;
            else eventErr = err;
            handle.abort();
            return;
          }
          this.applyEvent(ev);
        },
        (err) => {
          this.watchHandle = undefined;
          if (err && (isResourceExpired(err) || isTooLargeResourceVersion(err))) resolve({ expired: true, events });
          else resolve({ err: err ?? eventErr, expired, events });
        },
      );
      this.watchHandle = handle;
      if (this.stopped) handle.abort();
    });
  }

  private applyEvent(ev: WatchEvent<T>): void {
    const raw = ev.object;
    const rv = raw?.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      if (rv) this.lastRV = rv;
      return;
    }
    if (!raw?.metadata) return;
    const obj = this.opts.transform ? this.opts.transform(raw) : raw;
    const key = metaNamespaceKey(obj);
    const old = this.indexer.getByKey(key);
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.indexer.add(obj);
        if (old) this.emitUpdate(old, obj);
        else this.emitAdd(obj, false);
        break;
      case 'DELETED':
        this.indexer.delete(key);
        this.emitDelete(obj, false);
        break;
    }
    if (rv) this.lastRV = rv;
  }

  private emitAdd(obj: T, initial: boolean): void {
    for (const l of this.listeners) this.call(() => l.handlers.onAdd?.(obj, initial));
  }

  private emitUpdate(old: T, obj: T): void {
    for (const l of this.listeners) this.call(() => l.handlers.onUpdate?.(old, obj));
  }

  private emitDelete(obj: T, unknown: boolean): void {
    for (const l of this.listeners) this.call(() => l.handlers.onDelete?.(obj, unknown));
  }

  // ---- backoff ----

  private resetBackoff(): void {
    this.backoffMs = this.opts.backoffInitialMs ?? 800;
  }

  /**
   * Before a relist for an expired watch: nothing if the last list was long enough ago, else a wait
   * that doubles with every such relist (from the initial backoff up to the maximum, with jitter).
   */
  private async relistBackoff(): Promise<void> {
    if (performance.now() - this.listedAt >= RELIST_CALM_MS) {
      this.relistWaitMs = 0;
      return;
    }
    const max = this.opts.backoffMaxMs ?? 30_000;
    this.relistWaitMs = Math.min(max, this.relistWaitMs ? this.relistWaitMs * 2 : (this.opts.backoffInitialMs ?? 800));
    this.log(`watch expired again ${Math.round((performance.now() - this.listedAt) / 1000)} s after the last list: relisting in about ${Math.round(this.relistWaitMs / 1000)} s`);
    await this.sleep(Math.min(max, this.relistWaitMs * (1 + Math.random())));
  }

  /** Sleep the current backoff (with up to 100% jitter), then double it; stop() wakes it early. */
  private backoff(): Promise<void> {
    const max = this.opts.backoffMaxMs ?? 30_000;
    const ms = this.backoffMs * (1 + Math.random());
    this.backoffMs = Math.min(this.backoffMs * 2, max);
    return this.sleep(Math.min(ms, max));
  }

  /** Sleep ms; stop() wakes it early. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeSleep = done;
    });
  }
}

export interface InformerRequest<T> {
  group?: string;
  version: string;
  resource: string;
  /** Extra indexes added to the shared informer (names must not clash between callers). */
  indexers?: Record<string, IndexFunc<T>>;
}

/** What components take: a SharedInformerFactory, or a scope of one (see SharedInformerFactory.scope). */
export interface InformerFactory {
  informerFor<T extends KObject = KObject>(req: InformerRequest<T>): Informer<T>;
  lister<T extends KObject = KObject>(req: InformerRequest<T>): Lister<T>;
  start(): void;
  waitForCacheSync(): Promise<void>;
  stop(): Promise<void>;
}

/** One informer per resource, shared by every caller (client-go's SharedInformerFactory). */
export class SharedInformerFactory implements InformerFactory {
  private informers = new Map<string, Informer<any>>();
  private started = false;

  constructor(
    private readonly client: ApiClient,
    private readonly opts: Omit<InformerOptions<KObject>, 'indexers'> = {},
  ) {}

  /** The shared informer for a resource (created on first use; started at once if the factory runs). */
  informerFor<T extends KObject = KObject>(req: InformerRequest<T>): Informer<T> {
    const key = `${req.group ?? ''}/${req.version}/${req.resource}`;
    let inf = this.informers.get(key) as Informer<T> | undefined;
    if (!inf) {
      inf = new Informer<T>(this.client, { group: req.group, version: req.version, resource: req.resource }, this.opts as InformerOptions<T>);
      this.informers.set(key, inf);
      if (this.started) inf.start();
    }
    if (req.indexers) {
      const missing = Object.fromEntries(Object.entries(req.indexers).filter(([name]) => !inf!.indexer.hasIndex(name)));
      inf.addIndexers(missing);
    }
    return inf;
  }

  lister<T extends KObject = KObject>(req: InformerRequest<T>): Lister<T> {
    return this.informerFor(req).lister();
  }

  start(): void {
    this.started = true;
    for (const inf of this.informers.values()) inf.start();
  }

  async waitForCacheSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }

  /**
   * A view for one component of several that share this factory (the scheduler and the controller
   * manager in one thread: one watch and one cache per resource instead of one each). Its stop()
   * removes only the handlers registered through it; the informers keep running for the others
   * until the factory itself is stopped.
   */
  scope(): InformerFactory {
    return new InformerScope(this);
  }
}

class InformerScope implements InformerFactory {
  private readonly used = new Set<Informer<any>>();
  private readonly registrations: HandlerRegistration[] = [];
  private readonly views = new Map<Informer<any>, Informer<any>>();

  constructor(private readonly shared: SharedInformerFactory) {}

  informerFor<T extends KObject = KObject>(req: InformerRequest<T>): Informer<T> {
    const inf = this.shared.informerFor(req);
    this.used.add(inf);
    let view = this.views.get(inf);
    if (!view) {
      // The informer itself, except that handlers added through it are remembered for stop().
      const addEventHandler = (handlers: EventHandlers<T>, resyncPeriodMs?: number) => {
        const r = inf.addEventHandler(handlers, resyncPeriodMs);
        this.registrations.push(r);
        return r;
      };
      view = new Proxy(inf, {
        get: (target, prop) => {
          if (prop === 'addEventHandler') return addEventHandler;
          const v = Reflect.get(target, prop, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      this.views.set(inf, view);
    }
    return view as Informer<T>;
  }

  lister<T extends KObject = KObject>(req: InformerRequest<T>): Lister<T> {
    return this.informerFor(req).lister();
  }

  start(): void {
    this.shared.start();
  }

  async waitForCacheSync(): Promise<void> {
    await Promise.all([...this.used].map((i) => i.waitForSync()));
  }

  async stop(): Promise<void> {
    for (const r of this.registrations.splice(0)) r.remove();
  }
}
