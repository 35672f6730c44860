import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimitedQueue } from './rate-limited-queue.ts';
import { ItemExponentialFailureRateLimiter } from './rate-limiters.ts';
import { FakeClock } from './clock.ts';

test('addRateLimited backs off per item; forget resets', () => {
  const clock = new FakeClock();
  const q = new RateLimitedQueue<string>({ clock, rateLimiter: new ItemExponentialFailureRateLimiter(10, 1000) });
  q.addRateLimited('a');
  assert.equal(q.numRequeues('a'), 1);
  assert.equal(q.len(), 0);
  clock.step(10);
  assert.equal(q.tryGet(), 'a');
  q.done('a');
  q.addRateLimited('a');
  clock.step(19);
  assert.equal(q.len(), 0);
  clock.step(1);
  assert.equal(q.tryGet(), 'a');
  q.done('a');
  q.forget('a');
  assert.equal(q.numRequeues('a'), 0);
  q.addRateLimited('a');
  clock.step(10);
  assert.equal(q.len(), 1);
});

test('default limiter is used when none is given', () => {
  const clock = new FakeClock();
  const q = new RateLimitedQueue<string>({ clock });
  q.addRateLimited('a');
  clock.step(5);
  assert.equal(q.tryGet(), 'a');
});
