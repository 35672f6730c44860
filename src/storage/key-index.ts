// Values by storage key with listing by key prefix in key order: the SQLite store's live keys (so
// reads never touch SQLite) and the watch cache's objects. The keys are kept sorted at every write
// in a list of small sorted blocks (a one-level B-tree): a write costs a binary search and a short
// splice, and a list page costs what its items cost, however many keys were written since the last
// listing. (A sorted array brought up to date lazily made the first listing after a burst of
// writes merge and sort every key: 180 ms at 150,000 pods for a 500-item page.)

import type { KeyValue } from './store.ts';
import { lowerBound, prefixEnd, upperBound } from './prefix.ts';

/** A block is split beyond this many keys, so a write moves at most this many pointers. */
const BLOCK_MAX = 512;

export class KeyIndex<V = KeyValue> {
  private readonly map = new Map<string, V>();
  /** Sorted keys, in non-empty sorted blocks; every key of a block is below the next block's first. */
  private blocks: string[][] = [];
  /** Bumped when a key is added or removed: a paused scan finds its place again. */
  private version = 0;

  constructor(private readonly keyOf: (v: V) => string = (v) => (v as unknown as KeyValue).key) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  set(v: V): void {
    const key = this.keyOf(v);
    if (!this.map.has(key)) this.insertKey(key);
    this.map.set(key, v);
  }

  delete(key: string): void {
    if (this.map.delete(key)) this.removeKey(key);
  }

  clear(): void {
    this.map.clear();
    this.blocks = [];
    this.version++;
  }

  /** Live entries whose key starts with prefix, sorted by key. */
  list(prefix: string): V[] {
    // The loop of scan() without its generator: admission lists a few (mostly empty) resources on
    // every create, and a generator's objects were a tenth of a create's allocation.
    const out: V[] = [];
    const blocks = this.blocks;
    if (blocks.length === 0) return out;
    const end = prefixEnd(prefix);
    let b = this.blockFor(prefix);
    let i = lowerBound(blocks[b], prefix);
    for (; b < blocks.length; b++, i = 0) {
      const block = blocks[b];
      for (; i < block.length; i++) {
        const k = block[i];
        if (end !== undefined && k >= end) return out;
        out.push(this.map.get(k)!);
      }
    }
    return out;
  }

  /**
   * Live entries under prefix with a key after `after` (all of them when undefined), in key order,
   * found by binary search: a page of a paged list costs what its items cost, wherever it starts.
   * Writes while a scan is paused are seen from where it stands (it resumes after its last key).
   */
  *scan(prefix: string, after?: string): Generator<V> {
    const end = prefixEnd(prefix);
    const fromAfter = after !== undefined && after >= prefix;
    let [b, i] = fromAfter ? this.locate(after, true) : this.locate(prefix, false);
    let version = this.version;
    let last: string | undefined;
    for (;;) {
      if (version !== this.version) {
        // Keys moved under us: find the place after the last key given (or the start again).
        [b, i] = last !== undefined ? this.locate(last, true) : fromAfter ? this.locate(after, true) : this.locate(prefix, false);
        version = this.version;
      }
      const block = this.blocks[b];
      if (block === undefined) return;
      if (i >= block.length) {
        b++;
        i = 0;
        continue;
      }
      const k = block[i++];
      if (end !== undefined && k >= end) return;
      last = k;
      yield this.map.get(k)!;
    }
  }

  /** How many keys under prefix come after `after` (all under prefix when undefined). */
  countAfter(prefix: string, after?: string): number {
    const from = after === undefined || after < prefix ? this.rank(prefix, false) : this.rank(after, true);
    const end = prefixEnd(prefix);
    const to = end === undefined ? this.map.size : this.rank(end, false);
    return Math.max(0, to - from);
  }

  /** Index of the block that holds key's place: the last whose first key is <= key (0 if none). */
  private blockFor(key: string): number {
    const blocks = this.blocks;
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (blocks[mid][0] <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? lo - 1 : 0;
  }

  /** Block and position of the first key > key (strict) or >= key. */
  private locate(key: string, strict: boolean): [number, number] {
    if (this.blocks.length === 0) return [0, 0];
    const b = this.blockFor(key);
    const block = this.blocks[b];
    return [b, strict ? upperBound(block, key) : lowerBound(block, key)];
  }

  /** How many keys are < key (or <= key when strict). */
  private rank(key: string, strict: boolean): number {
    const [b, i] = this.locate(key, strict);
    let n = i;
    // A few hundred blocks at 150,000 keys: summing their lengths costs less than one string compare per key.
    for (let j = 0; j < b; j++) n += this.blocks[j].length;
    return n;
  }

  private insertKey(key: string): void {
    this.version++;
    if (this.blocks.length === 0) {
      this.blocks.push([key]);
      return;
    }
    const b = this.blockFor(key);
    const block = this.blocks[b];
    const i = lowerBound(block, key);
    if (i === block.length) block.push(key);
    else block.splice(i, 0, key);
    if (block.length > BLOCK_MAX) this.blocks.splice(b + 1, 0, block.splice(block.length >>> 1));
  }

  private removeKey(key: string): void {
    this.version++;
    const b = this.blockFor(key);
    const block = this.blocks[b];
    const i = lowerBound(block, key);
    if (block[i] !== key) return;
    block.splice(i, 1);
    if (block.length === 0) {
      this.blocks.splice(b, 1);
      return;
    }
    // Keep blocks from thinning out after many deletes: join a small block with its next one.
    const next = this.blocks[b + 1];
    if (next && block.length + next.length <= BLOCK_MAX >>> 1) {
      for (const k of next) block.push(k);
      this.blocks.splice(b + 1, 1);
    }
  }
}
