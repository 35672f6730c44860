// A delaying queue whose retries are paced by a rate limiter (client-go's RateLimitingInterface):
// addRateLimited() on failure, forget() on success.

import type { Clock } from './clock.ts';
import { DelayingQueue } from './delaying-queue.ts';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiters.ts';

export class RateLimitedQueue<T> extends DelayingQueue<T> {
  readonly rateLimiter: RateLimiter<T>;

  constructor(opts: { rateLimiter?: RateLimiter<T>; clock?: Clock } = {}) {
    super({ clock: opts.clock });
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>(this.clock);
  }

  /** Re-add the item after the limiter's delay (counts as one more failure). */
  addRateLimited(item: T): void {
    this.addAfter(item, this.rateLimiter.when(item));
  }

  /** The item succeeded: reset its backoff. It is not removed from the queue. */
  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }
}
