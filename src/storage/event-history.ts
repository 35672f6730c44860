// Recent committed events, kept in memory so a watch can resume from an older revision without
// asking the backend (SQLite: the writer thread owns the only connection; etcd: it would take a
// watch of its own per resume). Bounded by a number of events and by
// the bytes of their values; a watch from before the oldest kept event gets 'Compacted' and the
// client re-lists, as it would after a compaction.

import { valueLength } from './packed-text.ts';
import type { StoreEvent } from './store.ts';

export interface EventHistoryOptions {
  maxEvents: number;
  /** Approximate bound on memory: the sum of key and value lengths of kept events. */
  maxBytes: number;
}

export class EventHistory {
  private readonly ring: (StoreEvent | undefined)[];
  private head = 0;
  private count = 0;
  private bytes = 0;
  private readonly maxBytes: number;
  /** Every event with a revision above this is kept. */
  private horizon: number;

  constructor(opts: EventHistoryOptions, startRevision: number) {
    this.ring = new Array(Math.max(1, opts.maxEvents));
    this.maxBytes = opts.maxBytes;
    this.horizon = startRevision;
  }

  /** Events after this revision are all available. */
  get startRevision(): number {
    return this.horizon;
  }

  get length(): number {
    return this.count;
  }

  /** Append an event; revisions must increase. */
  push(ev: StoreEvent): void {
    const cap = this.ring.length;
    if (this.count === cap) this.dropOldest();
    this.ring[(this.head + this.count) % cap] = ev;
    this.count++;
    this.bytes += size(ev);
    while (this.bytes > this.maxBytes && this.count > 0) this.dropOldest();
  }

  /** Kept events with revision > from and a key under prefix, oldest first. */
  since(from: number, prefix: string): StoreEvent[] {
    const out: StoreEvent[] = [];
    for (let i = this.firstAfter(from); i < this.count; i++) {
      const ev = this.at(i);
      if (ev.kv.key.startsWith(prefix)) out.push(ev);
    }
    return out;
  }

  /** The kept event for exactly this key at exactly this revision, if any. */
  find(revision: number, key: string): StoreEvent | undefined {
    for (let i = this.firstAfter(revision - 1); i < this.count; i++) {
      const ev = this.at(i);
      if (ev.revision !== revision) return undefined;
      if (ev.kv.key === key) return ev;
    }
    return undefined;
  }

  /** Forget events at or below revision (they are compacted). */
  dropThrough(revision: number): void {
    while (this.count > 0 && this.at(0).revision <= revision) this.dropOldest();
    if (revision > this.horizon) this.horizon = revision;
  }

  private at(i: number): StoreEvent {
    return this.ring[(this.head + i) % this.ring.length]!;
  }

  /** Logical index of the first kept event with revision > from (binary search). */
  private firstAfter(from: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).revision <= from) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private dropOldest(): void {
    const ev = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.count--;
    this.bytes -= size(ev);
    this.horizon = Math.max(this.horizon, ev.revision);
  }
}

function size(ev: StoreEvent): number {
  return ev.kv.key.length + valueLength(ev.kv);
}
