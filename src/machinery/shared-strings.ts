// One shared copy of each string, for holders of many objects that repeat strings (an informer's
// interner, the store's pieces of stored text), and of each equal part of objects (the pods of
// one template, share-pod-parts.ts). Two generations: once the current table is full it becomes
// the old one and a new one starts, so values still in use are carried over and values no longer
// seen are let go. Memory stays under 2 × maxEntries entries.

export class TwoGenerations<V> {
  private cur = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(private readonly maxEntries: number) {}

  /** Entries in the tables. */
  get size(): number {
    return this.cur.size + this.old.size;
  }

  /**
   * The value kept under key; when neither table has it, `make()` gives the value to keep.
   * `storedKey` names the key the value is kept under (default: key itself).
   */
  protected lookup(key: string, make: () => V, storedKey?: (v: V) => string): V {
    const known = this.cur.get(key);
    if (known !== undefined) return known;
    const shared = this.old.get(key) ?? make();
    if (this.cur.size >= this.maxEntries) {
      this.old = this.cur;
      this.cur = new Map();
    }
    this.cur.set(storedKey ? storedKey(shared) : key, shared);
    return shared;
  }
}

export class SharedStrings extends TwoGenerations<string> {
  /** The shared copy of s; when s is new, `fresh()` makes the copy to keep (else s itself). */
  protected share(s: string, fresh?: () => string): string {
    // Kept under the shared copy itself, so the table never holds s (which may be a slice of a
    // large parent string) as a key.
    return this.lookup(s, () => (fresh ? fresh() : s), (shared) => shared);
  }
}
