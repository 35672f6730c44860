import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { burstStep, startAfterBurstGC, type BurstState } from './after-burst-gc.ts';

// The file is also the worker's script (below): its tests run in the main thread only.
const it = isMainThread ? test : () => {};

const params = { busyUtilization: 0.5, quietFraction: 0.5, quietPeriods: 2 };

function run(us: number[]): number[] {
  const s: BurstState = { busy: false, peak: 0, quiet: 0 };
  const at: number[] = [];
  us.forEach((u, i) => burstStep(s, u, params) && at.push(i));
  return at;
}

it('a burst is collected once, after two quiet periods', () => {
  assert.deepEqual(run([0.1, 0.9, 1, 0.3, 0.2, 0.2, 0.1, 0.1]), [4]);
});

it('a thread that was never busy, or stays busy, is never collected', () => {
  assert.deepEqual(run([0.1, 0.4, 0.2, 0.45, 0.1, 0.1]), []);
  assert.deepEqual(run([0.9, 0.8, 0.95, 0.7, 0.9]), []);
});

it('quiet is relative to the burst: an idle level above half the peak is not the end of it', () => {
  // Peak 0.6: 0.35 is not quiet, 0.25 is.
  assert.deepEqual(run([0.6, 0.35, 0.35, 0.35, 0.25, 0.25]), [5]);
  // A quiet period then busy again: the count starts over.
  assert.deepEqual(run([0.9, 0.2, 0.9, 0.2, 0.2]), [4]);
});

it('each burst gets its own collection', () => {
  assert.deepEqual(run([0.9, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1]), [2, 6]);
});

it('a thread that allocated a burst and went quiet gets its heap back', { timeout: 90_000 }, async () => {
  // A worker of its own (one isolate: this file, below).
  const boot = `const { workerData } = require('node:worker_threads'); import(workerData.tsx).then((t) => t.tsImport(workerData.script, workerData.script));`;
  const w = new Worker(boot, { eval: true, workerData: { script: import.meta.url, tsx: import.meta.resolve('tsx/esm/api') }, execArgv: [] });
  try {
    const r = await new Promise<{ busy: Sizes; now: Sizes }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    assert.ok(r.now.old < r.busy.old * 0.6, `old generation ${r.busy.old} → ${r.now.old}`);
  } finally {
    await w.terminate();
  }
});

interface Sizes {
  old: number;
}

const sizes = (): Sizes => ({ old: v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_size });

// The worker: fills and grows its heap, then idles at a low allocation rate until the monitor
// gave its heap back (or a minute passed).
if (!isMainThread) {
  const stop = startAfterBurstGC({ periodMs: 300 });
  let keep: object[] = [];
  const t0 = Date.now();
  for (let i = 0; Date.now() - t0 < 1500; i++) {
    const o = { a: i, b: `x${i}`, c: [i] };
    if (i % 4 === 0) keep.push(o);
  }
  keep = keep.slice(0, keep.length / 4);
  const busy = sizes();
  // A little garbage now and then, as a quiet server makes.
  const idle = setInterval(() => {
    const x = [];
    for (let i = 0; i < 2000; i++) x.push({ i });
  }, 50);
  const deadline = Date.now() + 60_000;
  let now = sizes();
  while (Date.now() < deadline && !(now.old < busy.old * 0.6)) {
    await new Promise((r) => setTimeout(r, 500));
    now = sizes();
  }
  clearInterval(idle);
  stop();
  parentPort!.postMessage({ busy, now, kept: keep.length });
}
