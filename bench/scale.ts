// Scale benchmark: `npm run bench -- scale [--nodes 5000] [--pods 150000] [--clients 32]
// [--heap-snapshot DIR] [--cpu-prof DIR] [--run-only] [--idle-seconds 10]`.
//
// Upstream's scale limits (5,000 nodes, 150,000 pods) on one `mizzen up`: the scheduler
// benchmark's `basic` workload (heartbeat-only simulated nodes, pods created by 32 clients) at
// full size, then, on the loaded cluster: every page of a paged LIST of all pods (limit=500, as an
// informer's first list or `kubectl get pods -A --chunk-size=500`), one full LIST, the process RSS
// and each thread's V8 heap. With --heap-snapshot each thread also writes a heap snapshot, and the
// result carries a summary of each by constructor (snapshots take time and about the heap's size in
// memory again: use it at 30,000 pods or so, not at full size).
// Prints one JSON line.

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { request, rssMB, type BenchCluster } from './lib/cluster.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { heapSnapshotPreload, summarizeHeapSnapshot } from './lib/heap-summary.ts';
import { runWorkload, percentile } from './scheduler.ts';
import { cpuProfileWindowPreload } from './lib/cpu-profile-window.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Every page of a paged list of `path`; the time of each (request sent → body received). */
async function pagedList(c: BenchCluster, p: string, limit: number): Promise<{ pages: number[]; items: number }> {
  const pages: number[] = [];
  let cont = '';
  let items = 0;
  for (;;) {
    const t = performance.now();
    const r = await request(c, 'GET', `${p}?limit=${limit}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    pages.push(performance.now() - t);
    if (r.status !== 200) throw new Error(`paged list: ${r.status} ${r.body.slice(0, 300)}`);
    const list = JSON.parse(r.body);
    items += list.items.length;
    cont = list.metadata?.continue ?? '';
    if (!cont) return { pages, items };
  }
}

/** SIGUSR2 to the server (see heapSnapshotPreload); each thread's heap figures once all have answered. */
async function heapDump(c: BenchCluster, dir: string, n: number, snapshots: boolean): Promise<Record<string, unknown>[]> {
  c.proc.kill('SIGUSR2');
  const mine = () => readdirSync(dir).filter((f) => f.startsWith(`${n}-`) && f.endsWith('.json'));
  // Threads answer as they get to it; wait until the set stops growing.
  let seen = 0;
  let stableSince = performance.now();
  for (;;) {
    await sleep(500);
    const now = mine().length;
    if (now !== seen) {
      seen = now;
      stableSince = performance.now();
    } else if (existsSync(path.join(dir, `${n}-0.json`)) && performance.now() - stableSince > (snapshots ? 5000 : 2000)) break;
  }
  return mine().map((f) => {
    const j = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    const snap = path.join(dir, f.replace(/\.json$/, '.heapsnapshot'));
    return {
      thread: j.names,
      usedHeapMB: round(j.heap.used_heap_size / 1048576),
      externalMB: round(j.heap.external_memory / 1048576),
      ...(snapshots && existsSync(snap) ? { summary: summarizeHeapSnapshot(snap, 15) } : {}),
    };
  });
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '5000' },
      pods: { type: 'string', default: '150000' },
      clients: { type: 'string', default: '32' },
      'page-size': { type: 'string', default: '500' },
      'timeout-seconds': { type: 'string', default: '900' },
      'heap-snapshot': { type: 'string' },
      'cpu-prof': { type: 'string' },
      'run-only': { type: 'boolean', default: false },
      'idle-seconds': { type: 'string', default: '10' },
    },
  });
  const snapshots = values['heap-snapshot'] !== undefined;
  const heapDir = path.resolve(values['heap-snapshot'] ?? path.join((await import('node:os')).tmpdir(), `mizzen-scale-heap-${process.pid}`));
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${heapSnapshotPreload(heapDir, snapshots)}`.trim();
  // --cpu-prof DIR: every thread's CPU profiles, of the idle cluster (window 1, --idle-seconds
  // before the first create) and from the first create to the last binding (window 2).
  const profDir = values['cpu-prof'];
  if (profDir) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS} --import=${cpuProfileWindowPreload(path.resolve(profDir))}`;
  const opts = { nodes: Number(values.nodes), pods: Number(values.pods), clients: Number(values.clients), groupSize: 10, timeoutMs: Number(values['timeout-seconds']) * 1000, profileWindow: !!profDir, idleSeconds: Number(values['idle-seconds']) };
  const pageSize = Number(values['page-size']);
  const calibrationBefore = calibrationMs();
  // --run-only: the create-and-bind run's figures only, without the lists and heaps after it.
  const r = await runWorkload({ name: 'basic', workload: 'basic', runPods: false }, opts, values['run-only'] ? undefined : async (c) => {
    const rssAfterRun = rssMB(c.proc.pid!);
    const { pages, items } = await pagedList(c, '/api/v1/pods', pageSize);
    const at = (f: number) => round(pages[Math.min(pages.length - 1, Math.floor(f * (pages.length - 1)))]!);
    const sorted = [...pages].sort((a, b) => a - b);
    const t = performance.now();
    const full = await request(c, 'GET', '/api/v1/pods');
    const fullListMs = performance.now() - t;
    if (full.status !== 200) throw new Error(`full list: ${full.status}`);
    const fullListMB = Buffer.byteLength(full.body) / 1048576;
    const heap = await heapDump(c, heapDir, 1, snapshots);
    return {
      rssAfterRunMB: Math.round(rssAfterRun),
      rssKBPerPod: round((rssAfterRun * 1024) / opts.pods),
      listPage: {
        limit: pageSize,
        pages: pages.length,
        items,
        msAtOffset: { first: at(0), '25%': at(0.25), '50%': at(0.5), '75%': at(0.75), last: at(1) },
        p50Ms: round(percentile(sorted, 50)),
        maxMs: round(sorted[sorted.length - 1]!),
        allPagesSeconds: round(pages.reduce((a, b) => a + b, 0) / 1000, 2),
      },
      fullList: { ms: Math.round(fullListMs), MB: round(fullListMB) },
      rssAfterListsMB: Math.round(rssMB(c.proc.pid!)),
      heap,
    };
  });
  const { after, ...run } = r;
  console.log(
    JSON.stringify({
      bench: 'scale',
      nodes: opts.nodes,
      pods: opts.pods,
      podsPerSec: run.podsPerSec,
      createPerSec: run.createPerSec,
      bindP50Ms: run.p50Ms,
      bindP99Ms: run.p99Ms,
      bound: run.bound,
      timedOut: run.timedOut,
      ...after,
      run,
      calibration: calibration(calibrationBefore),
      loadAverage: (await import('node:os')).loadavg().map((x) => round(x, 2)),
      measuredAs:
        'scheduler bench `basic` (heartbeat-only nodes, 32 creating clients); bind latency: create sent → first watch event with spec.nodeName; list pages timed at the client over HTTPS, request → whole body',
      target: { podsPerSec: '>= 1500', bindP99Ms: '<= 5000', listPageMs: '<= 15 at any offset', rssKBPerPod: '<= 8' },
    }),
  );
}
