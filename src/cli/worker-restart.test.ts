import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restartDelayMs, WORKER_RESTART } from './components.ts';

test('the components worker restarts after 1 s, doubling to 1 min', () => {
  assert.deepEqual([1, 2, 3, 6, 7, 20].map((n) => restartDelayMs(n)), [1000, 2000, 4000, 32_000, 60_000, 60_000]);
  assert.equal(restartDelayMs(2, { ...WORKER_RESTART, initialMs: 10 }), 20);
});
