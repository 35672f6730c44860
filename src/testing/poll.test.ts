import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll, until } from './poll.ts';

test('poll returns the first accepted value, treating throws as not yet', async () => {
  let n = 0;
  const v = await poll(
    () => {
      n++;
      if (n < 3) throw new Error('not ready');
      return n;
    },
    { intervalMs: 1 },
  );
  assert.equal(v, 3);
  assert.equal(await poll(() => 0, { done: (x) => x !== undefined }), 0);
});

test('at the deadline poll names what it waited for and the last value or error', async () => {
  await assert.rejects(poll(() => ({ phase: 'Pending' }), { what: 'pod Running', timeoutMs: 20, intervalMs: 5, done: (p) => p.phase === 'Running' }), /timed out after 20ms waiting for pod Running \(last value: \{"phase":"Pending"\}\)/);
  await assert.rejects(poll(() => Promise.reject(new Error('connection refused')), { timeoutMs: 20, intervalMs: 5 }), (e: Error) => /last error: connection refused/.test(e.message) && (e.cause as Error).message === 'connection refused');
  await assert.rejects(until(() => false, 'the flag', 20), /waiting for the flag/);
});
