import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from './work-queue.ts';

test('FIFO order and de-duplication of waiting items', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.len(), 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.len(), 0);
});

test('an item being processed is not handed out again until done, then re-queued once', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  const item = await q.get();
  assert.equal(item, 'a');
  q.add('a');
  q.add('a');
  assert.equal(q.len(), 0, 'dirty while processing, not queued');
  assert.equal(q.tryGet(), undefined);
  q.done('a');
  assert.equal(q.len(), 1);
  assert.equal(await q.get(), 'a');
  q.done('a');
  assert.equal(q.len(), 0);
});

test('get waits for an add; waiting getters are served in order', async () => {
  const q = new WorkQueue<number>();
  const p1 = q.get();
  const p2 = q.get();
  q.add(1);
  q.add(2);
  assert.equal(await p1, 1);
  assert.equal(await p2, 2);
});

test('two workers never get the same key concurrently', async () => {
  const q = new WorkQueue<string>();
  const active = new Set<string>();
  const processed: string[] = [];
  let overlap = false;
  const worker = async () => {
    for (;;) {
      const k = await q.get();
      if (k === undefined) return;
      if (active.has(k)) overlap = true;
      active.add(k);
      await new Promise((r) => setImmediate(r));
      processed.push(k);
      active.delete(k);
      q.done(k);
    }
  };
  const workers = [worker(), worker(), worker()];
  for (let i = 0; i < 50; i++) {
    q.add(`k${i % 5}`);
    if (i % 7 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 20));
  q.shutDown();
  await Promise.all(workers);
  assert.equal(overlap, false);
  assert.ok(processed.length >= 5);
});

test('shutdown: adds ignored, waiting getters get undefined, queued items still drain', async () => {
  const q = new WorkQueue<string>();
  const waiting = q.get();
  q.shutDown();
  assert.equal(await waiting, undefined);
  assert.equal(q.shuttingDown(), true);
  q.add('x');
  assert.equal(q.len(), 0);

  const q2 = new WorkQueue<string>();
  q2.add('a');
  q2.shutDown();
  assert.equal(await q2.get(), 'a');
  assert.equal(await q2.get(), undefined);
});

test('shutDownWithDrain waits for in-flight items', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  const a = await q.get();
  let drained = false;
  const p = q.shutDownWithDrain().then(() => (drained = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(drained, false);
  q.done(a!);
  await p;
  assert.equal(drained, true);
});
