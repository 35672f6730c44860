// The keyed worker loop of the cloud controllers: like src/controllers/key-worker.ts, but with the
// controller's own backoff (the service controller waits 5 s .. 300 s between tries of a failed
// balancer), no give-up (a cloud outage must not drop a Service), and RetryError's exact delay.

import { RateLimitedQueue } from '../../client/rate-limited-queue.ts';
import { ItemExponentialFailureRateLimiter } from '../../client/rate-limiters.ts';
import { isRetryError } from '../errors.ts';

export class CloudWorker {
  readonly queue: RateLimitedQueue<string>;
  private running: Promise<void>[] = [];

  constructor(
    readonly name: string,
    private readonly sync: (key: string) => Promise<void>,
    private readonly log: (msg: string) => void,
    backoff: { minMs: number; maxMs: number },
  ) {
    this.queue = new RateLimitedQueue<string>({ rateLimiter: new ItemExponentialFailureRateLimiter<string>(backoff.minMs, backoff.maxMs) });
  }

  add(key: string): void {
    this.queue.add(key);
  }

  run(workers: number): void {
    for (let i = 0; i < workers; i++) this.running.push(this.loop());
  }

  private async loop(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (e) {
        if (isRetryError(e)) {
          this.log(`${this.name}: ${key}: ${e.message} (checking again in ${e.retryAfterMs} ms)`);
          this.queue.addAfter(key, e.retryAfterMs);
        } else {
          this.log(`${this.name}: error syncing ${key} (will retry): ${(e as Error)?.message ?? e}`);
          this.queue.addRateLimited(key);
        }
      } finally {
        this.queue.done(key);
      }
    }
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.running);
    this.running = [];
  }
}
