// A LIST page at an older revision (a continue page, an exact resourceVersion): the watch cache's
// current entries corrected by the keys changed since that revision, from its window of events.
// What changed is kept per revision between the pages of one list, so each page replays only the
// events since the previous page, not every event since the first: on a busy cluster (2,000 pod
// events a second while binding) an informer's 300-page relist otherwise replayed, and sorted,
// tens of thousands of changed keys for every page.

import type { CachedObject } from './registry/cached-object.ts';
import type { ResourceStore } from './registry/resource-store.ts';
import type { WatchableCache } from './watch.ts';
import { StorageError } from '../storage/store.ts';

type Entry = { obj: CachedObject; kv: { key: string } };

/** Keys under prefix changed after revision `rv`, with what each held at `rv` (undefined: nothing). */
export interface ChangedSince {
  keys: Map<string, CachedObject | undefined>;
  /** Every key that held an object at `rv`, sorted, with that object. */
  older: Entry[];
  /** Index in `older` of the first key after the page's start. */
  from: number;
}

interface Kept {
  keys: Map<string, CachedObject | undefined>;
  older: Entry[];
  /** Every event up to this revision has been replayed into keys. */
  seen: number;
  used: number;
}

/** A few lists' snapshots per cache: those of the lists being paged now. */
const MAX_KEPT = 8;
/** A snapshot no page has used for this long is let go (a list's next page comes sooner). */
const IDLE_MS = 60_000;
const kept = new WeakMap<object, Map<string, Kept>>();

const byKey = (a: Entry, b: Entry) => (a.kv.key < b.kv.key ? -1 : a.kv.key > b.kv.key ? 1 : 0);

/**
 * What changed under prefix since `rv`, from the watch cache's window of events. Throws
 * StorageError('Compacted') when events after `rv` are no longer kept (the caller answers 410).
 */
export function changedSince(store: ResourceStore, prefix: string, rv: number, after: string | undefined): ChangedSince {
  const cache = store.cache as unknown as WatchableCache;
  let lists = kept.get(store.cache);
  if (!lists) kept.set(store.cache, (lists = new Map()));
  const now = performance.now();
  for (const [id, k] of lists) if (now - k.used > IDLE_MS) lists.delete(id);
  const id = `${rv}\u0000${prefix}`;
  let k = lists.get(id);
  // The window must still hold every event after rv, as for the first page (same 410 as before).
  if (k && cache.oldestRevision !== undefined && rv < cache.oldestRevision) {
    lists.delete(id);
    throw new StorageError('Compacted', prefix, `too old resource version: ${rv} (${cache.oldestRevision})`, cache.oldestRevision);
  }
  if (!k) {
    k = { keys: new Map(), older: [], seen: rv, used: now };
    if (lists.size >= MAX_KEPT) {
      let oldest: string | undefined;
      let at = Infinity;
      for (const [i, x] of lists) if (x.used < at) [oldest, at] = [i, x.used];
      if (oldest !== undefined) lists.delete(oldest);
    }
  }
  const keys = k.keys;
  const added: Entry[] = [];
  let seen = k.seen;
  const handle = cache.watch(k.seen, prefix, (ev) => {
    const key = (ev as { key?: string }).key ?? store.key(ev.object.namespace, ev.object.name);
    if (ev.revision > seen) seen = ev.revision;
    if (keys.has(key)) return;
    // The first change after rv tells what the key held at rv.
    const before = ev.type === 'ADDED' ? undefined : (ev.prevObject ?? (ev.type === 'DELETED' ? ev.object : undefined));
    keys.set(key, before);
    if (before) added.push({ obj: before, kv: { key } });
  });
  handle.stop();
  k.seen = seen;
  k.used = now;
  if (added.length) k.older = merge(k.older, added.sort(byKey));
  lists.set(id, k);
  const older = k.older;
  let from = 0;
  if (after !== undefined) {
    let hi = older.length;
    while (from < hi) {
      const mid = (from + hi) >>> 1;
      if (older[mid].kv.key <= after) from = mid + 1;
      else hi = mid;
    }
  }
  return { keys, older, from };
}

/** Two sorted runs as one. */
function merge(a: Entry[], b: Entry[]): Entry[] {
  if (a.length === 0) return b;
  const out: Entry[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) out[n++] = a[i].kv.key <= b[j].kv.key ? a[i++] : b[j++];
  while (i < a.length) out[n++] = a[i++];
  while (j < b.length) out[n++] = b[j++];
  return out;
}

/** The current entries merged with what changed since: the list as it was at the snapshot. */
export function* snapshotScan(current: Iterable<Entry>, then: ChangedSince): Generator<Entry> {
  const { keys, older } = then;
  let j = then.from;
  for (const e of current) {
    if (keys.has(e.kv.key)) continue;
    while (j < older.length && older[j].kv.key < e.kv.key) yield older[j++];
    yield e;
  }
  while (j < older.length) yield older[j++];
}

/** How many objects under prefix after `lastKey` the list held at the snapshot. */
export function remainingAt(store: ResourceStore, prefix: string, lastKey: string, then: ChangedSince | undefined): number {
  let n = store.cache.countAfter(prefix, lastKey);
  if (!then) return n;
  for (const [key, obj] of then.keys) {
    if (key <= lastKey || !key.startsWith(prefix)) continue;
    if (store.cache.get(key)) n--;
    if (obj) n++;
  }
  return n;
}
