// A work queue with client-go's guarantees: an item is queued at most once (de-duplication), is never
// handed to two workers at once, and an item added while being processed is queued again after done().

/** What a queue reports for client-go's workqueue metrics (set by its owner; see src/metrics/prometheus.ts). */
export interface WorkQueueMetrics {
  added(): void;
  /** Seconds an item waited between add and get. */
  waited(seconds: number): void;
}

export class WorkQueue<T> {
  private metrics?: WorkQueueMetrics;
  private addedAt?: Map<T, number>;

  /** Report adds and waiting times from now on. */
  instrument(m: WorkQueueMetrics): void {
    this.metrics = m;
    this.addedAt = new Map();
  }

  // FIFO as array + head index so get() is O(1) amortised.
  private items: T[] = [];
  private head = 0;
  /** Items that need processing (queued, or added again while processing). */
  private dirty = new Set<T>();
  private processing = new Set<T>();
  private waiters: Array<(item: T | undefined) => void> = [];
  private shutdown = false;
  private drain = false;
  private drainWaiters: Array<() => void> = [];

  /** Queue an item unless it is already waiting; ignored after shutdown. */
  add(item: T): void {
    if (this.shutdown || this.dirty.has(item)) return;
    this.dirty.add(item);
    if (this.metrics) {
      this.metrics.added();
      this.addedAt!.set(item, performance.now());
    }
    // Re-queued by done() once the current worker finishes.
    if (this.processing.has(item)) return;
    this.push(item);
  }

  private push(item: T): void {
    const w = this.waiters.shift();
    if (w) {
      this.dirty.delete(item);
      this.processing.add(item);
      if (this.metrics) this.observeWait(item);
      w(item);
      return;
    }
    this.items.push(item);
  }

  /** Number of items waiting (not counting those being processed). */
  len(): number {
    return this.items.length - this.head;
  }

  /**
   * Next item to process, waiting if the queue is empty. Resolves undefined once the queue is shut
   * down and empty. The caller must call done(item) when finished.
   */
  get(): Promise<T | undefined> {
    if (this.len() > 0) return Promise.resolve(this.take());
    if (this.shutdown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Non-blocking get: an item, or undefined if none is waiting. */
  tryGet(): T | undefined {
    return this.len() > 0 ? this.take() : undefined;
  }

  private take(): T {
    const item = this.items[this.head];
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.dirty.delete(item);
    this.processing.add(item);
    if (this.metrics) this.observeWait(item);
    return item;
  }

  private observeWait(item: T): void {
    const at = this.addedAt!.get(item);
    if (at === undefined) return;
    this.addedAt!.delete(item);
    this.metrics!.waited((performance.now() - at) / 1000);
  }

  /** Mark processing finished; re-queues the item if it was added meanwhile. */
  done(item: T): void {
    if (!this.processing.delete(item)) return;
    if (this.dirty.has(item)) this.push(item);
    else if (this.drain && this.processing.size === 0) this.finishDrain();
  }

  /** Stop accepting items; waiting get() calls resolve undefined. Items already queued can still be taken. */
  shutDown(): void {
    this.shutdown = true;
    this.onShutdown();
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w(undefined);
  }

  /** Shut down and resolve once every item handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    this.drain = true;
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  private finishDrain(): void {
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of ws) w();
  }

  shuttingDown(): boolean {
    return this.shutdown;
  }

  /** Hook for subclasses (cancel timers). */
  protected onShutdown(): void {}
}
