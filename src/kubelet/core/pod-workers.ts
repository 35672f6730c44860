// Per-pod workers (upstream pod_workers.go, reduced): one sync at a time per pod UID; a request that
// arrives while a sync runs makes it run once more afterwards; a sync may ask to run again later
// (back-off expiry, volume retries). Different pods sync concurrently.

export type SyncFn = (uid: string) => Promise<{ requeueAfterMs?: number } | void>;

interface Worker {
  running: boolean;
  pending: boolean;
  timer?: NodeJS.Timeout;
  /** When the timer fires (ms since the epoch). */
  timerAt?: number;
}

export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly sync: SyncFn,
    private readonly log: (msg: string) => void,
    /** Retry delay after a sync threw (e.g. the runtime is away). */
    private readonly errorRetryMs = 2000,
  ) {}

  /** Sync the pod now (or right after its running sync), or after delayMs. */
  enqueue(uid: string, delayMs = 0): void {
    if (this.stopped) return;
    let w = this.workers.get(uid);
    if (!w) this.workers.set(uid, (w = { running: false, pending: false }));
    if (delayMs > 0) {
      const at = Date.now() + delayMs;
      // Keep the earliest wake-up.
      if (w.timer && w.timerAt! <= at) return;
      clearTimeout(w.timer);
      w.timerAt = at;
      w.timer = setTimeout(() => {
        w!.timer = undefined;
        this.enqueue(uid);
      }, delayMs);
      w.timer.unref?.();
      return;
    }
    if (w.running) {
      w.pending = true;
      return;
    }
    void this.run(uid, w);
  }

  private async run(uid: string, w: Worker): Promise<void> {
    w.running = true;
    do {
      w.pending = false;
      try {
        const r = await this.sync(uid);
        if (r?.requeueAfterMs !== undefined && this.workers.get(uid) === w) this.enqueue(uid, Math.max(1, r.requeueAfterMs));
      } catch (e) {
        this.log(`sync of pod ${uid} failed: ${(e as Error).message}`);
        if (this.workers.get(uid) === w) this.enqueue(uid, this.errorRetryMs);
      }
    } while (w.pending && !this.stopped);
    w.running = false;
    if (![...this.workers.values()].some((x) => x.running)) for (const f of this.idleWaiters.splice(0)) f();
  }

  /** Forget a pod (its record is gone); a sync running now finishes. */
  forget(uid: string): void {
    const w = this.workers.get(uid);
    if (w) clearTimeout(w.timer);
    this.workers.delete(uid);
  }

  isRunning(uid: string): boolean {
    return !!this.workers.get(uid)?.running;
  }

  /** Stop scheduling; resolves when running syncs have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.workers.values()) clearTimeout(w.timer);
    if ([...this.workers.values()].some((x) => x.running)) await new Promise<void>((r) => this.idleWaiters.push(r));
  }
}
