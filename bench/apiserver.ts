import { readFileSync } from 'node:fs';
// API server benchmark: time to ready, idle RSS, durable pod creates/s with 32 concurrent HTTPS
// clients, LIST latency for 10,000 pods, and watch delivery latency with 100 watchers.
// Compared against upstream v1.28.7 + etcd measured on the same kind of 2-core machine.

import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { startCluster, request, rssMB, percentile, tlsCreds, type BenchCluster } from './lib/cluster.ts';
import { FastConnection, type TlsCreds } from './lib/fast-client.ts';
import { NativeWatchers, buildNativeReader } from './lib/native-watch.ts';
import { calibrationMs } from './lib/calibrate.ts';

function pod(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'bench', tier: 'web' } },
    spec: { containers: [{ name: 'c', image: 'registry.local/pause:3.9', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  };
}

/** Creates `total` pods from `clients` concurrent keep-alive HTTPS connections (each one request at a time). */
async function createPods(c: BenchCluster, ns: string, total: number, clients: number, prefix: string): Promise<number> {
  const conns = await Promise.all(Array.from({ length: clients }, () => FastConnection.open(tlsCreds(c))));
  let next = 0;
  let failures = 0;
  let firstFailure = '';
  const t0 = performance.now();
  await Promise.all(
    conns.map(async (conn) => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const r = await conn.request('POST', `/api/v1/namespaces/${ns}/pods`, JSON.stringify(pod(`${prefix}-${i}`)));
        if (r.status !== 201) {
          failures++;
          firstFailure ||= `${r.status} ${r.body.toString().slice(0, 300)}`;
        }
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  for (const conn of conns) conn.close();
  if (failures) throw new Error(`${failures} creates failed, first: ${firstFailure}`);
  return total / secs;
}

/** Threads the watchers are spread over, in either client (see bench/lib/watch-worker.mjs for why). */
const watchThreads = 2;
/** Events sent before measuring, so the first-ever fan-out's one-off costs (JIT) are not counted. */
const warmupEvents = 10;

const monoMs = () => Number(process.hrtime.bigint()) / 1e6;

/** Watchers in Node worker threads (bench/lib/watch-worker.mjs); report() stops them and returns what they saw. */
async function nodeWatchers(creds: TlsCreds, path: string, watchers: number): Promise<{ report(): Promise<Array<[string, number]>> }> {
  const threads = Array.from({ length: Math.min(watchThreads, watchers) }, (_, t) => {
    const count = Math.floor(watchers / watchThreads) + (t < watchers % watchThreads ? 1 : 0);
    return new Worker(new URL('./lib/watch-worker.mjs', import.meta.url), { workerData: { ...creds, path, count, prefix: 'watch-' } });
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

async function watchLatency(c: BenchCluster, ns: string, watchers: number, events: number, client: 'native' | 'node'): Promise<{ p50: number; p99: number; firstWatcherP99: number }> {
  const creds = tlsCreds(c);
  const path = `/api/v1/namespaces/${ns}/pods?watch=true&labelSelector=app%3Dwatchbench`;
  const readers = client === 'native' ? await NativeWatchers.open(creds, c.dataDir, path, watchers, watchThreads, 'watch-') : await nodeWatchers(creds, path, watchers);
  await new Promise((r) => setTimeout(r, 200));
  const conn = await FastConnection.open(creds);
  const sent = new Map<string, number>();
  for (let i = 0; i < warmupEvents + events; i++) {
    const name = `watch-${i}`;
    const p = pod(name);
    p.metadata.labels.app = 'watchbench';
    const body = JSON.stringify(p);
    if (i >= warmupEvents) sent.set(name, monoMs());
    const r = await conn.request('POST', `/api/v1/namespaces/${ns}/pods`, body);
    if (r.status !== 201) throw new Error(`watch bench create failed: ${r.status} ${r.body.toString().slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 500));
  conn.close();
  const seen = await readers.report();
  const lat: number[] = [];
  const first = new Map<string, number>();
  const perEvent = new Map<string, number[]>();
  for (const [name, at] of seen) {
    const t = sent.get(name);
    if (t === undefined) continue;
    lat.push(at - t);
    first.set(name, Math.min(first.get(name) ?? Infinity, at - t));
    if (!perEvent.has(name)) perEvent.set(name, []);
    perEvent.get(name)!.push(at - t);
  }
  if (lat.length < watchers * events) throw new Error(`watchers saw ${lat.length} of ${watchers * events} events`);
  lat.sort((a, b) => a - b);
  // BENCH_DEBUG=1: per event, when the first, median and last watcher had it (sent is on the
  // monotonic clock the server can log too, to line events up with server-side timings).
  if (process.env.BENCH_DEBUG)
    for (const [name, ls] of perEvent) {
      ls.sort((a, b) => a - b);
      console.error(`${name}: sent ${sent.get(name)!.toFixed(3)} first ${ls[0].toFixed(2)} median ${percentile(ls, 50).toFixed(2)} last ${ls[ls.length - 1].toFixed(2)}`);
    }
  const firsts = [...first.values()].sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), firstWatcherP99: percentile(firsts, 99) };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { pods: { type: 'string', default: '10000' }, clients: { type: 'string', default: '32' }, watchers: { type: 'string', default: '100' }, 'watch-client': { type: 'string', default: 'native' } } });
  // native: the watchers are bench/lib/watch-reader.c (default); node: Node worker threads, kept to compare.
  if (values['watch-client'] !== 'native' && values['watch-client'] !== 'node') throw new Error(`--watch-client must be native or node, not ${values['watch-client']}`);
  let watchClient: 'native' | 'node' = values['watch-client'];
  const nativeProblem = watchClient === 'native' ? buildNativeReader() : undefined;
  if (nativeProblem) {
    console.error(`${nativeProblem}; measuring watch delivery with Node readers instead`);
    watchClient = 'node';
  }
  const total = Number(values.pods);
  const clients = Number(values.clients);
  const calibrationBefore = calibrationMs();
  // Start-up time and idle memory of the whole control plane (`mizzen up`)...
  const up = await startCluster();
  await new Promise((r) => setTimeout(r, 3000));
  const idleRss = rssMB(up.proc.pid!);
  const readyMs = up.readyMs;
  await up.stop();
  // ...and the API server alone for throughput, so the scheduler does not also work on the pods.
  const c = await startCluster([], 'apiserver');
  try {
    await new Promise((r) => setTimeout(r, 500));
    const apiIdleRss = rssMB(c.proc.pid!);
    await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
    await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: 'watch' } });
    await createPods(c, 'bench', 500, clients, 'warm');
    const createsPerSec = await createPods(c, 'bench', total - 500, clients, 'pod');
    const listMs: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      const r = await request(c, 'GET', '/api/v1/namespaces/bench/pods');
      listMs.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`list failed: ${r.status}`);
      if (i === 0 && JSON.parse(r.body).items.length !== total) throw new Error('list returned the wrong number of pods');
    }
    listMs.sort((a, b) => a - b);
    // BENCH_DEBUG: how often the server's main thread slept (voluntary) and was preempted (the
    // second number) while fanning events out: readers it wakes are often placed on its own core.
    const ctx = () => readFileSync(`/proc/${c.proc.pid}/task/${c.proc.pid}/status`, 'utf8').match(/ctxt_switches:\s+\d+/g)!.join(' ');
    const ctx0 = ctx();
    const watch = await watchLatency(c, 'watch', Number(values.watchers), 100, watchClient);
    if (process.env.BENCH_DEBUG) console.error(`server main thread during the watch phase: before ${ctx0}, after ${ctx()}`);
    const loadedRss = rssMB(c.proc.pid!);
    console.log(
      JSON.stringify({
        bench: 'apiserver',
        readySeconds: +(readyMs / 1000).toFixed(3),
        idleRssMB: +idleRss.toFixed(1),
        apiserverIdleRssMB: +apiIdleRss.toFixed(1),
        podCreatesPerSec: Math.round(createsPerSec),
        clients,
        listPodsMs: { pods: total, median: +percentile(listMs, 50).toFixed(1), min: +listMs[0].toFixed(1) },
        watchDeliveryMs: { watchers: Number(values.watchers), events: 100, warmupEvents, client: watchClient, p50: +watch.p50.toFixed(2), p99: +watch.p99.toFixed(2), firstWatcherP99: +watch.firstWatcherP99.toFixed(2) },
        rssAfterLoadMB: +loadedRss.toFixed(1),
        calibration: { before: calibrationBefore, after: calibrationMs(), about: 'machine speed: ms for 20,000 JSON round trips of a pod, before and after (lower is faster; this VM varies by more than 50%)' },
        upstream: { version: 'v1.28.7+etcd, same 2-core machine', podCreatesPerSec: 960, listPodsMs: '570-810', watchP99Ms: '8-18', readySeconds: 2.3, idleRssMB: 447 },
        targets: { podCreatesPerSec: 5000, listPodsMs: 150, watchP99Ms: 5, readySeconds: 1, idleRssMB: 120 },
      }),
    );
  } finally {
    await c.stop();
  }
}
