import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff.ts';

test('crash-loop back-off: 10 s doubling to 5 min, forgotten after 10 min unused', () => {
  let now = 0;
  const b = new Backoff({ resetAfterMs: 10 * 60_000, now: () => now });
  assert.deepEqual(b.inBackOffSince('p/c', now), { backingOff: false, untilMs: 0 });
  const delays = [];
  for (let i = 0; i < 8; i++) delays.push(b.next('p/c') / 1000);
  assert.deepEqual(delays, [10, 20, 40, 80, 160, 300, 300, 300]);
  // An exit 100 s ago is still in a 300 s back-off; one 301 s ago is not.
  now = 1_000_000;
  b.next('q');
  assert.equal(b.inBackOffSince('q', now - 5000).backingOff, true);
  assert.equal(b.inBackOffSince('q', now - 10_001).backingOff, false);
  assert.equal(b.inBackOffSince('q', now).untilMs, now + 10_000);
  now += 10 * 60_000 + 1;
  assert.equal(b.delay('q'), 0, 'unused for 10 min: starts over');
  assert.equal(b.next('q'), 10_000);
  b.reset('q');
  assert.equal(b.delay('q'), 0);
});

test('pull back-off is measured from the last attempt', () => {
  let now = 0;
  const b = new Backoff({ now: () => now });
  assert.equal(b.inBackOffNow('img'), false);
  b.next('img');
  now = 9_999;
  assert.equal(b.inBackOffNow('img'), true);
  now = 10_000;
  assert.equal(b.inBackOffNow('img'), false);
  b.next('img');
  now += 19_999;
  assert.equal(b.inBackOffNow('img'), true);
  b.prune((k) => k !== 'img');
  assert.equal(b.inBackOffNow('img'), false);
});
