import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DelayingQueue } from './delaying-queue.ts';
import { FakeClock } from './clock.ts';

test('addAfter releases the item once its delay has passed', () => {
  const clock = new FakeClock();
  const q = new DelayingQueue<string>({ clock });
  q.addAfter('a', 100);
  assert.equal(q.len(), 0);
  assert.equal(q.waitingLen(), 1);
  clock.step(99);
  assert.equal(q.len(), 0);
  clock.step(1);
  assert.equal(q.len(), 1);
  assert.equal(q.tryGet(), 'a');
});

test('items come out in ready-time order; a second addAfter keeps the earlier time', () => {
  const clock = new FakeClock();
  const q = new DelayingQueue<string>({ clock });
  q.addAfter('late', 300);
  q.addAfter('early', 100);
  q.addAfter('mid', 200);
  q.addAfter('late', 50); // earlier: moves up
  q.addAfter('early', 1000); // later: ignored
  assert.equal(q.waitingLen(), 3);
  clock.step(1000);
  assert.deepEqual([q.tryGet(), q.tryGet(), q.tryGet()], ['late', 'early', 'mid']);
});

test('zero or negative delay adds immediately; duplicates with the queue are merged', () => {
  const clock = new FakeClock();
  const q = new DelayingQueue<string>({ clock });
  q.addAfter('a', 0);
  q.add('a');
  assert.equal(q.len(), 1);
  q.addAfter('a', 10);
  clock.step(10);
  assert.equal(q.len(), 1);
});

test('shutdown cancels pending delays', () => {
  const clock = new FakeClock();
  const q = new DelayingQueue<string>({ clock });
  q.addAfter('a', 10);
  q.shutDown();
  assert.equal(clock.pendingTimers(), 0);
  clock.step(100);
  assert.equal(q.len(), 0);
});

test('real clock: a short delay eventually delivers via get()', async () => {
  const q = new DelayingQueue<string>();
  // The queue's timer is unref'd (a queue alone must not keep a process alive), so hold the
  // event loop open while waiting, as a real component's sockets do.
  const keepAlive = setTimeout(() => {}, 10_000);
  try {
    q.addAfter('x', 5);
    assert.equal(await q.get(), 'x');
  } finally {
    clearTimeout(keepAlive);
  }
});
