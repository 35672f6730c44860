// One shared copy of each string, for holders of many objects that repeat strings (an informer's
// interner, the store's pieces of stored text). Two generations: once the current table is full it
// becomes the old one and a new one starts, so strings still in use are carried over and strings
// no longer seen are let go. Memory stays under 2 × maxEntries entries.

export class SharedStrings {
  private cur = new Map<string, string>();
  private old = new Map<string, string>();

  constructor(private readonly maxEntries: number) {}

  /** Entries in the tables. */
  get size(): number {
    return this.cur.size + this.old.size;
  }

  /** The shared copy of s; when s is new, `fresh()` makes the copy to keep (else s itself). */
  protected share(s: string, fresh?: () => string): string {
    const known = this.cur.get(s);
    if (known !== undefined) return known;
    const shared = this.old.get(s) ?? (fresh ? fresh() : s);
    if (this.cur.size >= this.maxEntries) {
      this.old = this.cur;
      this.cur = new Map();
    }
    this.cur.set(shared, shared);
    return shared;
  }
}
