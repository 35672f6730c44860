// How long this machine takes to wake a sleeping thread: `npm run bench -- wake-jitter [--rounds
// 2000] [--gap-ms 5]`. One thread posts to another and waits for the answer, --rounds times with
// --gap-ms of idleness in between (so both threads sleep, as the API server's threads do between
// watch events). Nothing else runs. On a virtual machine, a few round trips in a thousand take
// milliseconds instead of a tenth of one; every thread hop on a request's path (client to API
// server, to the storage writer and back, out to each watcher's thread) is exposed to that.

import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { percentile } from './lib/cluster.ts';

const ECHO = `require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m));`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { rounds: { type: 'string', default: '2000' }, 'gap-ms': { type: 'string', default: '5' } } });
  const rounds = Number(values.rounds);
  const gap = Number(values['gap-ms']);
  const w = new Worker(ECHO, { eval: true });
  await new Promise((r) => w.once('online', r));
  const ms: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = process.hrtime.bigint();
    await new Promise((r) => {
      w.once('message', r);
      w.postMessage(i);
    });
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    await new Promise((r) => setTimeout(r, gap));
  }
  await w.terminate();
  ms.sort((a, b) => a - b);
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  console.log(
    JSON.stringify({
      bench: 'wake-jitter',
      rounds,
      gapMs: gap,
      roundTripMs: { p50: r3(percentile(ms, 50)), p99: r3(percentile(ms, 99)), p999: r3(percentile(ms, 99.9)), max: r3(ms[ms.length - 1]) },
      over1ms: ms.filter((x) => x > 1).length,
      over2ms: ms.filter((x) => x > 2).length,
      about: 'two threads of one idle process waking each other; multi-millisecond outliers come from the machine, not from the code',
    }),
  );
}
