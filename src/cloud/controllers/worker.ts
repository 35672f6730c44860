// The cloud controllers' keyed worker: the controllers' KeyWorker with the controller's own backoff
// (the service controller waits 5 s .. 300 s between tries of a failed balancer), no give-up (a
// cloud outage must not drop a Service), and RetryError's exact delay.

import { KeyWorker } from '../../controllers/key-worker.ts';
import { ItemExponentialFailureRateLimiter } from '../../client/rate-limiters.ts';
import { isRetryError } from '../errors.ts';

export function cloudWorker(name: string, sync: (key: string) => Promise<void>, log: (msg: string) => void, backoff: { minMs: number; maxMs: number }): KeyWorker {
  return new KeyWorker(name, sync, log, {
    maxRetries: Infinity,
    rateLimiter: new ItemExponentialFailureRateLimiter<string>(backoff.minMs, backoff.maxMs),
    retryAfterMs: (e) => (isRetryError(e) ? e.retryAfterMs : undefined),
  });
}
