// A work queue that can also add an item after a delay (client-go's DelayingInterface). Waiting items
// are kept in a min-heap by ready time; an item waiting twice keeps the earlier time.

import { realClock, type Clock, type TimerHandle } from './clock.ts';
import { WorkQueue } from './work-queue.ts';

interface Waiting<T> {
  item: T;
  readyAt: number;
  index: number;
}

export class DelayingQueue<T> extends WorkQueue<T> {
  protected readonly clock: Clock;
  private heap: Waiting<T>[] = [];
  private waitingByItem = new Map<T, Waiting<T>>();
  private timer?: TimerHandle;
  private timerAt = Infinity;

  constructor(opts: { clock?: Clock } = {}) {
    super();
    this.clock = opts.clock ?? realClock;
  }

  /** Add the item once delayMs has passed (immediately if delayMs <= 0). */
  addAfter(item: T, delayMs: number): void {
    if (this.shuttingDown()) return;
    if (delayMs <= 0) {
      this.add(item);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const existing = this.waitingByItem.get(item);
    if (existing) {
      if (readyAt < existing.readyAt) {
        existing.readyAt = readyAt;
        this.up(existing.index);
      }
    } else {
      const w: Waiting<T> = { item, readyAt, index: this.heap.length };
      this.heap.push(w);
      this.waitingByItem.set(item, w);
      this.up(w.index);
    }
    this.arm();
  }

  /** Items waiting for their delay to pass. */
  waitingLen(): number {
    return this.heap.length;
  }

  private arm(): void {
    const first = this.heap[0];
    if (!first) {
      this.timer?.cancel();
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer && this.timerAt <= first.readyAt) return;
    this.timer?.cancel();
    this.timerAt = first.readyAt;
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.release();
    }, first.readyAt - this.clock.now());
  }

  /** Move every due item into the queue, then re-arm for the next one. */
  private release(): void {
    const now = this.clock.now();
    while (this.heap.length > 0 && this.heap[0].readyAt <= now) {
      const w = this.pop();
      this.waitingByItem.delete(w.item);
      this.add(w.item);
    }
    this.arm();
  }

  protected override onShutdown(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.heap = [];
    this.waitingByItem.clear();
  }

  // ---- binary heap ----

  private pop(): Waiting<T> {
    const top = this.heap[0];
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      last.index = 0;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].readyAt <= h[i].readyAt) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l].readyAt < h[m].readyAt) m = l;
      if (r < h.length && h[r].readyAt < h[m].readyAt) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    [h[a], h[b]] = [h[b], h[a]];
    h[a].index = a;
    h[b].index = b;
  }
}
