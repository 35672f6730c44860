import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../client/clock.ts';
import { Limiter, Spreader } from './pacer.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

test('Limiter never runs more than its concurrency and drains in order', async () => {
  const lim = new Limiter(2);
  const gates = [deferred(), deferred(), deferred()];
  const order: number[] = [];
  const runs = gates.map((g, i) => lim.run(async () => {
    order.push(i);
    await g.promise;
    return i;
  }));
  await flush();
  assert.deepEqual(order, [0, 1]);
  assert.equal(lim.inFlight(), 2);
  assert.equal(lim.queued(), 1);
  gates[0].resolve();
  await flush();
  assert.deepEqual(order, [0, 1, 2]);
  gates[1].resolve();
  gates[2].resolve();
  assert.deepEqual(await Promise.all(runs), [0, 1, 2]);
  await lim.idle();
  await assert.rejects(lim.run(async () => { throw new Error('boom'); }), /boom/);
  assert.equal(lim.inFlight(), 0);
});

test('Spreader runs every key once per interval, spread over the ticks', async () => {
  const clock = new FakeClock(0);
  const seen: Array<[number, string]> = [];
  const sp = new Spreader<string>({ intervalMs: 1000, tickMs: 250, clock, limiter: new Limiter(8), work: async (k) => void seen.push([clock.now(), k]) });
  for (const k of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) sp.add(k);
  sp.start();
  clock.step(250);
  await flush();
  assert.deepEqual(seen.map(([, k]) => k), ['a', 'e']);
  clock.step(750);
  await flush();
  assert.equal(seen.length, 8);
  assert.deepEqual(new Set(seen.map(([, k]) => k)).size, 8);
  // Per tick at most two keys: the load is flat.
  const perTick = new Map<number, number>();
  for (const [t] of seen) perTick.set(t, (perTick.get(t) ?? 0) + 1);
  assert.ok([...perTick.values()].every((n) => n === 2));
  clock.step(1000);
  await flush();
  assert.equal(seen.length, 16);
  sp.remove('a');
  clock.step(1000);
  await flush();
  assert.equal(seen.length, 23);
  sp.stop();
  clock.step(5000);
  await flush();
  assert.equal(seen.length, 23);
});

test('Spreader skips a key whose previous run is still going', async () => {
  const clock = new FakeClock(0);
  const gate = deferred();
  let calls = 0;
  const sp = new Spreader<string>({ intervalMs: 100, tickMs: 100, clock, limiter: new Limiter(1), work: async () => { calls++; await gate.promise; } });
  sp.add('slow');
  sp.start();
  clock.step(100);
  await flush();
  clock.step(100);
  await flush();
  assert.equal(calls, 1);
  assert.equal(sp.skipped, 1);
  gate.resolve();
  await flush();
  clock.step(100);
  await flush();
  assert.equal(calls, 2);
  sp.stop();
});
