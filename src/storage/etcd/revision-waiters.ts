// Callers waiting until the store's watch of etcd has delivered every event up to a revision.

import { StorageError } from '../store.ts';

interface Waiter {
  revision: number;
  deadline: number;
  what: () => string;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** How often deadlines are checked (a timer per wait would cost more than the wait). */
const SWEEP_MS = 50;

export class RevisionWaiters {
  private waiters: Waiter[] = [];
  private sweeper: NodeJS.Timeout | undefined;

  get size(): number {
    return this.waiters.length;
  }

  /** The smallest revision someone waits for, or undefined. */
  get lowest(): number | undefined {
    let low: number | undefined;
    for (const w of this.waiters) if (low === undefined || w.revision < low) low = w.revision;
    return low;
  }

  /** Resolves when release() reaches revision; rejects with Unavailable (what()) after timeoutMs. */
  wait(revision: number, timeoutMs: number, what: () => string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ revision, deadline: Date.now() + timeoutMs, what, resolve, reject });
      if (!this.sweeper) {
        this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
        this.sweeper.unref?.();
      }
    });
  }

  /** Everything up to revision has been delivered. */
  release(revision: number): void {
    if (this.waiters.length === 0) return;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.revision <= revision) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
    if (keep.length === 0) this.stopSweeping();
  }

  rejectAll(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.stopSweeping();
  }

  private sweep(): void {
    const now = Date.now();
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.deadline <= now) w.reject(new StorageError('Unavailable', '', w.what()));
      else keep.push(w);
    }
    this.waiters = keep;
    if (keep.length === 0) this.stopSweeping();
  }

  private stopSweeping(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
