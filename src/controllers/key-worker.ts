// The loop every controller runs: workers take keys from a rate-limited queue and call sync(key);
// success forgets the key's backoff, a thrown error requeues it with backoff.

import { RateLimitedQueue } from '../client/rate-limited-queue.ts';
import { registerQueue, workqueueAdds, workqueueQueueDuration } from '../metrics/prometheus.ts';

export class KeyWorker {
  readonly queue = new RateLimitedQueue<string>();
  private running: Promise<void>[] = [];
  private unregister: (() => void) | undefined;

  constructor(
    readonly name: string,
    private readonly sync: (key: string) => Promise<void>,
    private readonly log: (msg: string) => void = () => {},
    /** Give up on a key after this many consecutive failures (it is retried on its next event). */
    private readonly maxRetries = 15,
  ) {}

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
        if (this.queue.numRequeues(key) < this.maxRetries) {
          this.log(`${this.name}: error syncing ${key}: ${(e as Error)?.message ?? e}; retrying`);
          this.queue.addRateLimited(key);
        } else {
          this.log(`${this.name}: dropping ${key} after ${this.maxRetries} failures: ${(e as Error)?.message ?? e}`);
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
