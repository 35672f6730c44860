// Callers waiting until the store's watch of etcd has delivered every event up to a revision.

import { StorageError } from '../store.ts';

interface Waiter {
  revision: number;
  resolve: () => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

export class RevisionWaiters {
  private waiters: Waiter[] = [];

  get size(): number {
    return this.waiters.length;
  }

  /** The smallest revision someone waits for, or undefined. */
  get lowest(): number | undefined {
    let low: number | undefined;
    for (const w of this.waiters) if (low === undefined || w.revision < low) low = w.revision;
    return low;
  }

  /** Resolves when release() reaches revision; rejects with Unavailable after timeoutMs. */
  wait(revision: number, timeoutMs: number, what: () => string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { revision, resolve, reject };
      w.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new StorageError('Unavailable', '', what()));
      }, Math.max(0, timeoutMs));
      this.waiters.push(w);
    });
  }

  /** Everything up to revision has been delivered. */
  release(revision: number): void {
    if (this.waiters.length === 0) return;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.revision <= revision) {
        clearTimeout(w.timer);
        w.resolve();
      } else keep.push(w);
    }
    this.waiters = keep;
  }

  rejectAll(err: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }
}
