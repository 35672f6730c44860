// The loop every controller runs: workers take keys from a rate-limited queue and call sync(key);
// success forgets the key's backoff, a thrown error requeues it with backoff. The cloud
// controllers use it too, with their own backoff, no give-up (a cloud outage must not drop a
// Service) and an error's own retry delay (RetryError).

import { RateLimitedQueue } from '../client/rate-limited-queue.ts';
import type { RateLimiter } from '../client/rate-limiters.ts';
import { registerQueue, workqueueAdds, workqueueQueueDuration } from '../metrics/prometheus.ts';

export interface KeyWorkerOptions {
  /** Give up on a key after this many consecutive failures (it is retried on its next event); Infinity never gives up. Default 15. */
  maxRetries?: number;
  /** Paces the retries of a failing key; default client-go's controller limiter. */
  rateLimiter?: RateLimiter<string>;
  /** The exact delay an error asks for (e.g. a RetryError's), instead of the limiter's backoff; undefined for none. */
  retryAfterMs?: (e: unknown) => number | undefined;
}

export class KeyWorker {
  readonly queue: RateLimitedQueue<string>;
  private running: Promise<void>[] = [];
  private unregister: (() => void) | undefined;
  private readonly maxRetries: number;
  private readonly retryAfterMs: (e: unknown) => number | undefined;

  constructor(
    readonly name: string,
    private readonly sync: (key: string) => Promise<void>,
    private readonly log: (msg: string) => void = () => {},
    opts: KeyWorkerOptions = {},
  ) {
    this.queue = new RateLimitedQueue<string>({ rateLimiter: opts.rateLimiter });
    this.maxRetries = opts.maxRetries ?? 15;
    this.retryAfterMs = opts.retryAfterMs ?? (() => undefined);
  }

  add(key: string): void {
    this.queue.add(key);
  }

  addAfter(key: string, delayMs: number): void {
    this.queue.addAfter(key, delayMs);
  }

  run(workers: number): void {
    // workqueue_* metrics under the controller's name, as client-go's queues report them.
    if (!this.unregister) {
      const adds = workqueueAdds.labels(this.name);
      const waits = workqueueQueueDuration.labels(this.name);
      this.queue.instrument({ added: () => adds.inc(), waited: (s) => waits.observe(s) });
      this.unregister = registerQueue(this.queue, this.name, () => this.queue.len());
    }
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
        const message = (e as Error)?.message ?? e;
        const after = this.retryAfterMs(e);
        if (after !== undefined) {
          this.log(`${this.name}: ${key}: ${message} (checking again in ${after} ms)`);
          this.queue.addAfter(key, after);
        } else if (this.queue.numRequeues(key) < this.maxRetries) {
          this.log(`${this.name}: error syncing ${key}: ${message}; retrying`);
          this.queue.addRateLimited(key);
        } else {
          this.log(`${this.name}: dropping ${key} after ${this.maxRetries} failures: ${message}`);
          this.queue.forget(key);
        }
      } finally {
        this.queue.done(key);
      }
    }
  }

  async stop(): Promise<void> {
    this.unregister?.();
    this.unregister = undefined;
    this.queue.shutDown();
    await Promise.all(this.running);
    this.running = [];
  }
}
