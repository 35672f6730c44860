// Writes to one key run one after another, in the order they were issued; writes to different keys
// run concurrently. etcd applies concurrent requests in whatever order its goroutines reach raft,
// so without this a create followed at once by a delete of the same key could be applied the other
// way round. (Upstream's callers never issue such pairs concurrently; the Store contract promises
// issue order, which SQLite's single writer gives for free.)

export class KeyOrder {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Run fn once every earlier run() for the same key has settled. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key);
    const result = prev ? prev.then(fn, fn) : fn();
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  get pending(): number {
    return this.tails.size;
  }
}
