// Values by storage key with listing by key prefix in key order: the SQLite store's live keys (so
// reads never touch SQLite) and the watch cache's objects. Prefix listing walks a sorted key array
// that is brought up to date lazily: keys added since the last listing wait in `added`, removed
// keys linger until the next merge. A merge is linear (plus sorting the additions), not a full
// resort, and a burst of writes between two listings costs one merge.

import type { KeyValue } from './store.ts';
import { lowerBound, prefixRangeEnd, upperBound } from './prefix.ts';

export class KeyIndex<V = KeyValue> {
  private readonly map = new Map<string, V>();
  private sorted: string[] = [];
  private added: string[] = [];
  private removed = 0;

  constructor(private readonly keyOf: (v: V) => string = (v) => (v as unknown as KeyValue).key) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  set(v: V): void {
    const key = this.keyOf(v);
    if (!this.map.has(key)) this.added.push(key);
    this.map.set(key, v);
  }

  delete(key: string): void {
    if (this.map.delete(key)) this.removed++;
  }

  clear(): void {
    this.map.clear();
    this.sorted = [];
    this.added = [];
    this.removed = 0;
  }

  /** Live entries whose key starts with prefix, sorted by key. */
  list(prefix: string): V[] {
    const keys = this.sortedKeys();
    const out: V[] = [];
    for (let i = prefix === '' ? 0 : lowerBound(keys, prefix); i < keys.length; i++) {
      const k = keys[i];
      if (!k.startsWith(prefix)) break;
      out.push(this.map.get(k)!);
    }
    return out;
  }

  /**
   * Live entries under prefix with a key after `after` (all of them when undefined), in key order,
   * found by binary search: a page of a paged list costs what its items cost, wherever it starts.
   */
  *scan(prefix: string, after?: string): Generator<V> {
    const keys = this.sortedKeys();
    const end = prefixRangeEnd(keys, prefix);
    for (let i = after === undefined || after < prefix ? lowerBound(keys, prefix) : upperBound(keys, after); i < end; i++) {
      // Keys removed while a scan is paused are skipped (the sorted array is replaced, not changed).
      const v = this.map.get(keys[i]);
      if (v !== undefined) yield v;
    }
  }

  /** How many keys under prefix come after `after` (all under prefix when undefined). */
  countAfter(prefix: string, after?: string): number {
    const keys = this.sortedKeys();
    const end = prefixRangeEnd(keys, prefix);
    const from = after === undefined || after < prefix ? lowerBound(keys, prefix) : upperBound(keys, after);
    return Math.max(0, end - from);
  }

  private sortedKeys(): string[] {
    if (this.added.length === 0 && this.removed === 0) return this.sorted;
    const add = this.added.sort();
    const old = this.sorted;
    const out: string[] = [];
    let i = 0;
    let j = 0;
    while (i < old.length || j < add.length) {
      let k: string;
      if (j >= add.length || (i < old.length && old[i] <= add[j])) k = old[i++];
      else k = add[j++];
      // A key deleted and created again since the last merge is in both lists; gone keys are dropped.
      if (out.length > 0 && out[out.length - 1] === k) continue;
      if (this.map.has(k)) out.push(k);
    }
    this.sorted = out;
    this.added = [];
    this.removed = 0;
    return out;
  }
}
