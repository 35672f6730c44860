// A Store kept entirely in memory: same semantics as the SQLite backend (global revisions, CAS,
// history for watch replay, compaction) without durability. For tests and benchmarks.

import { StorageError, type KeyValue, type ListResult, type Store, type StoreEvent, type WatchHandle } from './store.ts';
import { WatcherSet } from './watchers.ts';

export interface MemoryStoreOptions {
  /** Keep at most this many history events; older ones are compacted away automatically. */
  maxHistory?: number;
}

export class MemoryStore implements Store {
  private readonly data = new Map<string, KeyValue>();
  /** Events after `compacted`, in revision order. */
  private history: StoreEvent[] = [];
  private rev = 0;
  private compacted = 0;
  private closed = false;
  private readonly watchers = new WatcherSet();
  private readonly maxHistory: number;
  private delivered = 0;

  constructor(opts: MemoryStoreOptions = {}) {
    this.maxHistory = opts.maxHistory ?? 100_000;
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.checkOpen(key);
    if (this.data.has(key)) throw new StorageError('Exists', key);
    const rev = ++this.rev;
    const kv: KeyValue = { key, value, createRevision: rev, modRevision: rev };
    this.data.set(key, kv);
    this.record({ type: 'ADDED', kv, revision: rev });
    return kv;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.checkOpen(key);
    return this.data.get(key);
  }

  async list(prefix: string): Promise<ListResult> {
    this.checkOpen(prefix);
    const items: KeyValue[] = [];
    for (const kv of this.data.values()) if (kv.key.startsWith(prefix)) items.push(kv);
    items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { items, revision: this.rev };
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    this.checkOpen(key);
    const prev = this.data.get(key);
    if (!prev) throw new StorageError('NotFound', key);
    if (prev.modRevision !== expectedRevision) throw new StorageError('Conflict', key, undefined, prev.modRevision);
    const rev = ++this.rev;
    const kv: KeyValue = { key, value, createRevision: prev.createRevision, modRevision: rev };
    this.data.set(key, kv);
    this.record({ type: 'MODIFIED', kv, prev, revision: rev });
    return kv;
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    this.checkOpen(key);
    const prev = this.data.get(key);
    if (!prev) throw new StorageError('NotFound', key);
    if (expectedRevision !== undefined && prev.modRevision !== expectedRevision) {
      throw new StorageError('Conflict', key, undefined, prev.modRevision);
    }
    const rev = ++this.rev;
    const kv: KeyValue = { key, value: prev.value, createRevision: prev.createRevision, modRevision: rev };
    this.data.delete(key);
    this.record({ type: 'DELETED', kv, prev, revision: rev });
    return kv;
  }

  watch(prefix: string, fromRevision: number, onEvent: (ev: StoreEvent) => void): WatchHandle {
    this.checkOpen(prefix);
    if (fromRevision < this.compacted) {
      throw new StorageError('Compacted', prefix, `required revision ${fromRevision} has been compacted (oldest available: ${this.compacted})`, this.compacted);
    }
    // Replay synchronously: nothing can be written in between, so there is no gap to the live stream.
    const h = this.history;
    for (let i = firstAfter(h, fromRevision); i < h.length; i++) {
      if (h[i].kv.key.startsWith(prefix)) onEvent(h[i]);
    }
    return this.watchers.add(prefix, fromRevision, onEvent);
  }

  async currentRevision(): Promise<number> {
    return this.rev;
  }

  /** Moves only once an event is delivered, so no watcher is behind it mid-delivery. */
  committedRevision(): number {
    return this.delivered;
  }

  compactedRevision(): number {
    return this.compacted;
  }

  async compact(revision: number): Promise<void> {
    this.compactTo(revision);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
  }

  private compactTo(revision: number): void {
    const target = Math.min(revision, this.rev);
    if (target <= this.compacted) return;
    this.history = this.history.slice(firstAfter(this.history, target));
    this.compacted = target;
  }

  private record(ev: StoreEvent): void {
    this.history.push(ev);
    // Trim in large steps so the copy is amortised.
    if (this.history.length > this.maxHistory) {
      this.compactTo(this.history[this.history.length - Math.ceil(this.maxHistory / 2)].revision - 1);
    }
    this.watchers.emit(ev);
    this.delivered = ev.revision;
  }

  private checkOpen(key: string): void {
    if (this.closed) throw new StorageError('Unavailable', key, 'store is closed');
  }
}

/** Index of the first event with revision > rev. */
function firstAfter(h: StoreEvent[], rev: number): number {
  let lo = 0;
  let hi = h.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (h[mid].revision <= rev) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
