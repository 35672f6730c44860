import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BucketRateLimiter,
  ItemExponentialFailureRateLimiter,
  ItemFastSlowRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
} from './rate-limiters.ts';
import { FakeClock } from './clock.ts';

test('exponential per-item backoff doubles from the base and caps at the max', () => {
  const l = new ItemExponentialFailureRateLimiter<string>(5, 1000_000);
  assert.deepEqual([l.when('a'), l.when('a'), l.when('a'), l.when('a')], [5, 10, 20, 40]);
  assert.equal(l.when('b'), 5, 'items are independent');
  assert.equal(l.numRequeues('a'), 4);
  l.forget('a');
  assert.equal(l.numRequeues('a'), 0);
  assert.equal(l.when('a'), 5);
  for (let i = 0; i < 100; i++) l.when('c');
  assert.equal(l.when('c'), 1000_000);
});

test('fast/slow limiter', () => {
  const l = new ItemFastSlowRateLimiter<string>(10, 1000, 2);
  assert.deepEqual([l.when('a'), l.when('a'), l.when('a')], [10, 10, 1000]);
  l.forget('a');
  assert.equal(l.when('a'), 10);
});

test('token bucket allows a burst, then paces at qps', () => {
  const clock = new FakeClock();
  const l = new BucketRateLimiter<string>(10, 3, clock);
  assert.deepEqual([l.when('a'), l.when('b'), l.when('c')], [0, 0, 0]);
  assert.equal(l.when('d'), 100);
  assert.equal(l.when('e'), 200, 'reservations stack up');
  clock.step(1000);
  assert.equal(l.when('f'), 0);
  assert.equal(l.numRequeues('a'), 0);
});

test('max-of takes the longest delay and forgets in all', () => {
  const clock = new FakeClock();
  const l = new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter(5, 1000), new BucketRateLimiter(1, 1, clock));
  assert.equal(l.when('a'), 5);
  assert.equal(l.when('a'), 1000, 'bucket exhausted: 1 s');
  assert.equal(l.numRequeues('a'), 2);
  l.forget('a');
  assert.equal(l.numRequeues('a'), 0);
});

test('default controller limiter starts at 5 ms', () => {
  const l = defaultControllerRateLimiter<string>(new FakeClock());
  assert.equal(l.when('x'), 5);
  assert.equal(l.when('x'), 10);
});
