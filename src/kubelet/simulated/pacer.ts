// Bounded concurrency and evenly spread periodic work, so thousands of nodes renew their leases as
// a steady trickle over the interval instead of a burst that would stall the API server.

import { realClock, type Clock, type TimerHandle } from '../../client/clock.ts';

/** Runs async jobs with at most `concurrency` in flight; the rest wait in FIFO order. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(readonly concurrency: number) {
    if (!(concurrency >= 1)) throw new Error('concurrency must be at least 1');
  }

  run<T>(job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.active++;
        let p: Promise<T>;
        try {
          p = job();
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(resolve, reject).finally(() => {
          this.active--;
          const next = this.waiting.shift();
          if (next) next();
          else if (this.active === 0) this.wakeIdle();
        });
      };
      if (this.active < this.concurrency) start();
      else this.waiting.push(start);
    });
  }

  inFlight(): number {
    return this.active;
  }

  queued(): number {
    return this.waiting.length;
  }

  /** Resolves once nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private wakeIdle(): void {
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w();
  }
}

export interface SpreaderOptions<K> {
  intervalMs: number;
  /** Granularity of the schedule (default 100 ms, or the interval if shorter). */
  tickMs?: number;
  limiter: Limiter;
  work: (key: K) => Promise<void>;
  clock?: Clock;
  onError?: (key: K, err: unknown) => void;
}

/**
 * Calls work(key) for every key once per interval. Keys are dealt round-robin into interval/tick
 * slots and one slot runs per tick, so the load is flat. A key whose previous run has not finished
 * is skipped for that round (counted in `skipped`) rather than piling up behind itself.
 */
export class Spreader<K> {
  private readonly slots: Set<K>[];
  private readonly slotOf = new Map<K, number>();
  private readonly inFlight = new Set<K>();
  private readonly clock: Clock;
  private readonly tickMs: number;
  private nextSlot = 0;
  private tickCount = 0;
  private startedAt = 0;
  private timer?: TimerHandle;
  private running = false;
  /** Rounds skipped because the previous run of the key was still going (a sign of falling behind). */
  skipped = 0;
  runs = 0;

  constructor(private readonly opts: SpreaderOptions<K>) {
    this.clock = opts.clock ?? realClock;
    this.tickMs = Math.max(1, Math.min(opts.tickMs ?? 100, opts.intervalMs));
    const n = Math.max(1, Math.round(opts.intervalMs / this.tickMs));
    this.slots = Array.from({ length: n }, () => new Set<K>());
  }

  add(key: K): void {
    if (this.slotOf.has(key)) return;
    const slot = this.nextSlot;
    this.nextSlot = (this.nextSlot + 1) % this.slots.length;
    this.slots[slot].add(key);
    this.slotOf.set(key, slot);
  }

  remove(key: K): void {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return;
    this.slots[slot].delete(key);
    this.slotOf.delete(key);
  }

  size(): number {
    return this.slotOf.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.clock.now();
    this.tickCount = 0;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Run work(key) now, out of schedule, unless it is already running. */
  trigger(key: K): void {
    this.launch(key);
  }

  private schedule(): void {
    // Aim at absolute tick times so slow ticks do not make the whole schedule drift.
    const at = this.startedAt + (this.tickCount + 1) * this.tickMs;
    this.timer = this.clock.setTimer(() => this.tick(), Math.max(0, at - this.clock.now()));
  }

  private tick(): void {
    if (!this.running) return;
    const slot = this.slots[this.tickCount % this.slots.length];
    this.tickCount++;
    for (const key of slot) this.launch(key);
    this.schedule();
  }

  private launch(key: K): void {
    if (this.inFlight.has(key)) {
      this.skipped++;
      return;
    }
    this.inFlight.add(key);
    this.runs++;
    this.opts.limiter
      .run(() => this.opts.work(key))
      .catch((e) => this.opts.onError?.(key, e))
      .finally(() => this.inFlight.delete(key));
  }
}
