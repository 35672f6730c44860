// Watch delivery latency, as the API server benchmark measures it: open the watches, then create
// one object every 5 ms over one keep-alive connection and note, per watcher, when its event arrived.
// Latency is from just before the create request is sent to the arrival, on the monotonic clock
// that the reader threads and process share.

import { Worker } from 'node:worker_threads';
import { percentile } from './cluster.ts';
import { FastConnection, type TlsCreds } from './fast-client.ts';
import { NativeWatchers, type BenchClient } from './native-clients.ts';

/** Threads the watchers are spread over, in either client (see watch-worker.mjs for why). */
const watchThreads = 2;
/** Events sent before measuring, so the first-ever fan-out's one-off costs (JIT) are not counted. */
const warmupEvents = 10;
/** Events measured. */
const events = 100;


export interface WatchTarget {
  /** Where to POST the objects. */
  createPath: string;
  /** The watch request (its events must include the created objects, named watch-<i>). */
  watchPath: string;
  /** The JSON body creating the object with this name. */
  body(name: string): string;
}

export interface WatchLatency {
  p50: number;
  p99: number;
  firstWatcherP99: number;
  events: number;
  warmupEvents: number;
}

const monoMs = () => Number(process.hrtime.bigint()) / 1e6;

/** Watchers in Node worker threads; report() stops them and returns what they saw. */
async function nodeWatchers(creds: TlsCreds, path: string, watchers: number): Promise<{ report(): Promise<Array<[string, number]>> }> {
  const threads = Array.from({ length: Math.min(watchThreads, watchers) }, (_, t) => {
    const count = Math.floor(watchers / watchThreads) + (t < watchers % watchThreads ? 1 : 0);
    return new Worker(new URL('./watch-worker.mjs', import.meta.url), { workerData: { ...creds, path, count, prefix: 'watch-' } });
  });
  await Promise.all(threads.map((w) => new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject)))));
  return {
    async report() {
      const reports = await Promise.all(
        threads.map(
          (w) =>
            new Promise<Array<[string, number]>>((resolve) => {
              w.on('message', (m) => m.type === 'report' && resolve(m.seen));
              w.postMessage({ type: 'report' });
            }),
        ),
      );
      await Promise.all(threads.map((w) => w.terminate()));
      return reports.flat();
    },
  };
}

/** `dir`: a private directory for the native client's certificate files. */
export async function watchLatency(creds: TlsCreds, dir: string, target: WatchTarget, watchers: number, client: BenchClient): Promise<WatchLatency> {
  const readers =
    client === 'native' ? await NativeWatchers.open(creds, dir, target.watchPath, watchers, watchThreads, 'watch-') : await nodeWatchers(creds, target.watchPath, watchers);
  await new Promise((r) => setTimeout(r, 200));
  const conn = await FastConnection.open(creds);
  const sent = new Map<string, number>();
  for (let i = 0; i < warmupEvents + events; i++) {
    const name = `watch-${i}`;
    const body = target.body(name);
    if (i >= warmupEvents) sent.set(name, monoMs());
    const r = await conn.request('POST', target.createPath, body);
    if (r.status !== 201) throw new Error(`watch bench create failed: ${r.status} ${r.body.toString().slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 500));
  conn.close();
  const seen = await readers.report();
  const lat: number[] = [];
  const perEvent = new Map<string, number[]>();
  for (const [name, at] of seen) {
    const t = sent.get(name);
    if (t === undefined) continue;
    lat.push(at - t);
    if (!perEvent.has(name)) perEvent.set(name, []);
    perEvent.get(name)!.push(at - t);
  }
  if (lat.length < watchers * events) throw new Error(`watchers saw ${lat.length} of ${watchers * events} events`);
  lat.sort((a, b) => a - b);
  for (const ls of perEvent.values()) ls.sort((a, b) => a - b);
  // BENCH_DEBUG=1: per event, when the first, median and last watcher had it (sent is on the
  // monotonic clock the server can log too, to line events up with server-side timings).
  if (process.env.BENCH_DEBUG)
    for (const [name, ls] of perEvent)
      console.error(`${name}: sent ${sent.get(name)!.toFixed(3)} first ${ls[0].toFixed(2)} median ${percentile(ls, 50).toFixed(2)} last ${ls[ls.length - 1].toFixed(2)}`);
  const firsts = [...perEvent.values()].map((ls) => ls[0]).sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), firstWatcherP99: percentile(firsts, 99), events, warmupEvents };
}
