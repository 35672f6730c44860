// Scale benchmark: `npm run bench -- scale [--nodes 5000] [--pods 150000] [--clients 32]
// [--heap-snapshot DIR] [--min-ready-nodes N] [--list-only] [--cpu-prof DIR] [--run-only]
// [--idle-seconds 10] [--page-walks 1] [--pages-only] [--page-timeline DIR] [--settle-seconds N]`.
//
// Upstream's scale limits (5,000 nodes, 150,000 pods) on one `mizzen up`: the scheduler
// benchmark's `basic` workload (heartbeat-only simulated nodes, pods created by 32 clients) at
// full size, then, on the loaded cluster: every page of a paged LIST of all pods (limit=500, as an
// informer's first list or `kubectl get pods -A --chunk-size=500`), one full LIST, the process RSS
// and each thread's V8 heap (as found, and after a full collection: the live part). With --heap-snapshot each thread also writes a heap snapshot, and the
// result carries a summary of each by constructor (snapshots take time and about the heap's size in
// memory again: use it at 30,000 pods or so, not at full size). After them, the same paged walk
// in Table form (kubectl's Accept, pages of 500) twice, and `kubectl get pods -A` itself.
// Page figures carry the server's CPU per page (all threads, from /proc).
// Prints one JSON line.
//
// `--page-walks N` walks the JSON pages N times after the run (`listPage` is the first, the rest
// `moreWalks`); `--pages-only` stops there (no full LIST, no Table walks, no kubectl): with
// `--nodes 5000 --pods 30000`, a few minutes for the pages of a cluster under 5,000 nodes'
// heartbeats. `--page-timeline DIR` says what each page waited for (`pageWaits`, one per walk; see
// bench/lib/page-timeline.ts): the server's own times for each page, the GC pauses and loop blocks
// it met, the main thread's run-queue wait, and the walk's long tasks by cause (from a CPU profile
// of the main thread over each walk, written to DIR).
//
// `--list-only`: the LIST figures alone, without nodes or scheduling: `mizzen apiserver`, --pods
// pods created directly in one namespace, then a paged list of them (the first after the creates),
// a second one, one while pods are being created (as in a busy cluster: every page comes after some
// creates), then the Table walks and `kubectl get pods -A` (pages of 500 in Table form). There,
// `--page-walks N` adds N-1 idle walks and `--pages-only` leaves out the Table walks and kubectl.
// Both modes print `pagesByOffset`: every walk's pages by where they start in the list (tenths),
// p50 / p99 / slowest of each.

import { readdirSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execFile } from 'node:child_process';
import { request, rssMB, startCluster, tlsCreds, type BenchCluster } from './lib/cluster.ts';
import { FastConnection } from './lib/fast-client.ts';
import { nativeCreates, pickClient } from './lib/native-clients.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { heapSnapshotPreload, summarizeHeapSnapshot } from './lib/heap-summary.ts';
import { runWorkload, percentile, benchPod } from './scheduler.ts';
import { cpuProfileWindowPreload, PROFILE_SIGNAL } from './lib/cpu-profile-window.ts';
import { processCpuMs } from './lib/proc-cpu.ts';
import { rssByMapping } from './lib/proc-usage.ts';
import { explainPages, mainSchedstat, pageTimelinePreload, type ClientPage } from './lib/page-timeline.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** What kubectl asks for: a Table, or plain JSON if the server has none. */
const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

/**
 * Every page of a paged list of `path`; the time of each (request sent → body received), and the
 * server's CPU over the whole walk (all its threads: the page's work, its TLS, its garbage). With
 * `timeline`, each page is marked for the server's page-timeline preload (`x-bench-page`) and its
 * client-side times and the main thread's schedstat over it are kept there.
 */
async function pagedList(c: BenchCluster, p: string, limit: number, accept = 'application/json', timeline?: ClientPage[]): Promise<{ pages: number[]; items: number; serverCpuMs: number }> {
  const pages: number[] = [];
  let cont = '';
  let items = 0;
  const pid = c.proc.pid!;
  const cpu0 = processCpuMs(pid);
  for (;;) {
    const mark: Record<string, string> = timeline ? { 'x-bench-page': String(timeline.length) } : {};
    const s0 = timeline ? mainSchedstat(pid) : undefined;
    const sent = Number(process.hrtime.bigint());
    const t = performance.now();
    const r = await request(c, 'GET', `${p}?limit=${limit}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, undefined, { Accept: accept, ...mark });
    pages.push(performance.now() - t);
    if (timeline) {
      const received = Number(process.hrtime.bigint());
      const s1 = mainSchedstat(pid);
      timeline.push({ page: timeline.length, sent, received, mainRunNs: s1[0] - s0![0], mainWaitNs: s1[1] - s0![1] });
    }
    if (r.status !== 200) throw new Error(`paged list: ${r.status} ${r.body.slice(0, 300)}`);
    const list = JSON.parse(r.body);
    items += (list.items ?? list.rows).length;
    cont = list.metadata?.continue ?? '';
    if (!cont) return { pages, items, serverCpuMs: processCpuMs(pid) - cpu0 };
  }
}

/**
 * The JSON walks after the run: `walks` of them, the first (or with a page timeline, each) timed
 * page by page; with `timelineDir`, every page's wait explained (see page-timeline.ts) from the
 * server's records and a CPU profile of its main thread over the walks.
 */
async function jsonWalks(c: BenchCluster, pageSize: number, walks: number, timelineDir?: string, profileDir = timelineDir): Promise<{ first: ReturnType<typeof pageFigures>; more: ReturnType<typeof pageFigures>[]; byOffset: Record<string, unknown>; explained?: Record<string, unknown>[] }> {
  const figures: ReturnType<typeof pageFigures>[] = [];
  const explained: Record<string, unknown>[] = [];
  const all: number[][] = [];
  for (let w = 0; w < walks; w++) {
    if (!timelineDir) {
      const walk = await pagedList(c, '/api/v1/pods', pageSize);
      all.push(walk.pages);
      figures.push(pageFigures(walk, pageSize));
      continue;
    }
    const before = new Set(readdirSync(profileDir!));
    c.proc.kill(PROFILE_SIGNAL);
    // Starting the profiler takes the main thread a while: not in the first page.
    await sleep(2000);
    const timeline: ClientPage[] = [];
    const walk = await pagedList(c, '/api/v1/pods', pageSize, 'application/json', timeline);
    all.push(walk.pages);
    figures.push(pageFigures(walk, pageSize));
    c.proc.kill(PROFILE_SIGNAL);
    // The profile and the last second's records are written a moment later.
    await sleep(3000);
    const prof = readdirSync(profileDir!).find((f) => !before.has(f) && /^\d+-\d+-0-main\.cpuprofile$/.test(f));
    explained.push(explainPages(timeline, path.join(timelineDir, 'timeline.jsonl'), prof && path.join(profileDir!, prof)));
  }
  return { first: figures[0]!, more: figures.slice(1), byOffset: byOffset(all), ...(timelineDir ? { explained } : {}) };
}

/**
 * Pages by where they start, over several walks of the same list: the walk cut into `buckets`
 * equal stretches (0-10 % of the list, 10-20 %, ...), each stretch's pages of every walk
 * together: p50, p99 and the slowest. (The first page of a walk also finds and counts the whole
 * list's start; it is in the first stretch.)
 */
function byOffset(walks: number[][], buckets = 10): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let b = 0; b < buckets; b++) {
    const ms: number[] = [];
    for (const w of walks) {
      const from = Math.floor((b * w.length) / buckets);
      const to = Math.floor(((b + 1) * w.length) / buckets);
      ms.push(...w.slice(from, to));
    }
    ms.sort((x, y) => x - y);
    if (ms.length) out[`${b * (100 / buckets)}%`] = { pages: ms.length, p50: round(percentile(ms, 50)), p99: round(percentile(ms, 99)), max: round(ms[ms.length - 1]!) };
  }
  const every = walks.flat().sort((x, y) => x - y);
  out.all = { pages: every.length, p50: round(percentile(every, 50)), p99: round(percentile(every, 99)), max: round(every[every.length - 1]!), over15ms: every.filter((x) => x > 15).length };
  return out;
}

/** `kubectl get pods -A` (pages of 500 in Table form, as it asks by default): seconds and rows. */
async function kubectlGetPodsAll(c: BenchCluster): Promise<{ seconds: number; rows: number; serverCpuSeconds: number }> {
  const cpu0 = processCpuMs(c.proc.pid!);
  const k0 = performance.now();
  const out = await new Promise<string>((resolve, reject) =>
    execFile('/usr/bin/kubectl', ['get', 'pods', '-A', '--no-headers'], { env: { ...process.env, KUBECONFIG: path.join(c.dataDir, 'kubeconfig') }, maxBuffer: 1 << 30 }, (e, stdout) => (e ? reject(e) : resolve(stdout))),
  );
  return { seconds: round((performance.now() - k0) / 1000, 2), rows: out.split('\n').filter(Boolean).length, serverCpuSeconds: round((processCpuMs(c.proc.pid!) - cpu0) / 1000, 2) };
}

/** The Table figures: the paged Table walk kubectl makes, twice (the second finds the cells kept), then kubectl itself. */
async function tableFigures(c: BenchCluster, pageSize: number): Promise<Record<string, unknown>> {
  const first = await pagedList(c, '/api/v1/pods', pageSize, TABLE_ACCEPT);
  const again = await pagedList(c, '/api/v1/pods', pageSize, TABLE_ACCEPT);
  return {
    tablePage: { first: pageFigures(first, pageSize), again: pageFigures(again, pageSize) },
    kubectlGetPodsAll: await kubectlGetPodsAll(c),
  };
}

/** A paged list's figures: the page at 0/25/50/75/100 % of the list, the median and the slowest, the server's CPU per page. */
function pageFigures({ pages, items, serverCpuMs }: { pages: number[]; items: number; serverCpuMs: number }, limit: number): Record<string, unknown> {
  const at = (f: number) => round(pages[Math.min(pages.length - 1, Math.floor(f * (pages.length - 1)))]!);
  const sorted = [...pages].sort((a, b) => a - b);
  return {
    limit,
    pages: pages.length,
    items,
    msAtOffset: { first: at(0), '25%': at(0.25), '50%': at(0.5), '75%': at(0.75), last: at(1) },
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    maxMs: round(sorted[sorted.length - 1]!),
    allPagesSeconds: round(pages.reduce((a, b) => a + b, 0) / 1000, 2),
    serverCpuMsPerPage: round(serverCpuMs / pages.length),
  };
}

/** `--list-only`: the list figures on an API server holding `pods` pods and nothing else. */
async function listOnly(pods: number, clients: number, pageSize: number, walks = 1, pagesOnly = false): Promise<Record<string, unknown>> {
  const calibrationBefore = calibrationMs();
  const c = await startCluster([], 'apiserver');
  try {
    const ns = 'bench-list';
    const nsr = await request(c, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    if (nsr.status !== 201) throw new Error(`creating namespace: ${nsr.status} ${nsr.body}`);
    // The API server runs alone: make the default ServiceAccount the controller manager would.
    await request(c, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default' } });
    const creds = tlsCreds(c);
    const template = JSON.stringify(benchPod('basic', 0, 1)).replace('"pod-0"', '"{NAME}"');
    const t0 = performance.now();
    if (pickClient('native') === 'native') await nativeCreates(creds, c.dataDir, `/api/v1/namespaces/${ns}/pods`, clients, pods, 'pod', template);
    else {
      const conns = await Promise.all(Array.from({ length: clients }, () => FastConnection.open(creds)));
      let next = 0;
      await Promise.all(conns.map(async (conn) => {
        for (let i = next++; i < pods; i = next++) await conn.request('POST', `/api/v1/namespaces/${ns}/pods`, template.replace('{NAME}', `pod-${i}`));
        conn.close();
      }));
    }
    const createSeconds = (performance.now() - t0) / 1000;
    const afterCreates = await pagedList(c, '/api/v1/pods', pageSize);
    const again = await pagedList(c, '/api/v1/pods', pageSize);
    // --page-walks N: N-1 more idle walks, for the pages' spread by offset.
    const idle = [afterCreates.pages, again.pages];
    for (let w = 1; w < walks; w++) idle.push((await pagedList(c, '/api/v1/pods', pageSize)).pages);
    // One client creating pods one after the other while the list is paged.
    const conn = await FastConnection.open(creds);
    let stop = false;
    let churned = 0;
    const churn = (async () => {
      while (!stop) {
        const r = await conn.request('POST', `/api/v1/namespaces/${ns}/pods`, template.replace('{NAME}', `churn-${churned}`));
        if (r.status === 201) churned++;
      }
    })();
    const busy = await pagedList(c, '/api/v1/pods', pageSize);
    stop = true;
    await churn;
    conn.close();
    const table = pagesOnly ? {} : await tableFigures(c, pageSize);
    return {
      bench: 'scale',
      mode: 'list-only',
      pods,
      createPerSec: Math.round(pods / createSeconds),
      listPage: {
        afterCreates: pageFigures(afterCreates, pageSize),
        again: pageFigures(again, pageSize),
        whileCreating: { ...pageFigures(busy, pageSize), podsCreatedMeanwhile: churned },
      },
      // Every idle walk (after the creates, again, and --page-walks more).
      pagesByOffset: byOffset(idle),
      ...table,
      rssMB: Math.round(rssMB(c.proc.pid!)),
      calibration: calibration(calibrationBefore),
      loadAverage: (await import('node:os')).loadavg().map((x) => round(x, 2)),
      measuredAs: 'mizzen apiserver alone; pods created directly (no nodes, not bound); list pages timed at the client over HTTPS, request → whole body',
      target: { listPageMs: '<= 15 at any offset' },
    };
  } finally {
    await c.stop();
  }
}

/** SIGUSR2 to the server (see heapSnapshotPreload); each thread's heap figures once all have answered. */
async function heapDump(c: BenchCluster, dir: string, n: number, snapshots: boolean): Promise<Record<string, unknown>[]> {
  c.proc.kill('SIGUSR2');
  const mine = () => readdirSync(dir).filter((f) => f.startsWith(`${n}-`) && f.endsWith('.json'));
  // Threads answer as they get to it; wait until the set stops growing.
  let seen = 0;
  let stableSince = performance.now();
  // A busy worker answers late: wait for the three threads that hold pods (main, components,
  // simulated nodes), up to two minutes.
  const t0 = performance.now();
  for (;;) {
    await sleep(500);
    const now = mine().length;
    if (now !== seen) {
      seen = now;
      stableSince = performance.now();
    } else if (existsSync(path.join(dir, `${n}-0.json`)) && performance.now() - stableSince > (snapshots ? 5000 : 2000) && (seen >= 3 || performance.now() - t0 > 120_000)) break;
  }
  return mine().map((f) => {
    const j = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    const snap = path.join(dir, f.replace(/\.json$/, '.heapsnapshot'));
    return {
      thread: j.names,
      usedHeapMB: round(j.heap.used_heap_size / 1048576),
      // Live: after a full collection (the figure above includes garbage not yet collected).
      usedAfterGCMB: j.heapAfterGC ? round(j.heapAfterGC.used_heap_size / 1048576) : undefined,
      totalHeapMB: round(j.heap.total_heap_size / 1048576),
      totalAfterGCMB: j.heapAfterGC ? round(j.heapAfterGC.total_heap_size / 1048576) : undefined,
      externalMB: round(j.heap.external_memory / 1048576),
      spacesMB: j.spacesBefore
        ? Object.fromEntries(Object.entries(j.spacesBefore as Record<string, { size: number; used: number }>).map(([k, v]) => [k, [round(v.size / 1048576), round(v.used / 1048576)]]))
        : undefined,
      ...(j.memoryAfterGC ? { processRssAfterGCMB: round(j.memoryAfterGC.rss / 1048576) } : {}),
      ...(snapshots && existsSync(snap) ? { summary: summarizeHeapSnapshot(snap, 15) } : {}),
    };
  });
}

/**
 * The idle cluster after the run (nodes still heartbeating): RSS every 5 s for `seconds`, then
 * the last sample's RSS by mapping. Nothing when `seconds` is 0.
 */
async function settle(c: BenchCluster, seconds: number, pods: number): Promise<Record<string, unknown>> {
  if (!seconds) return {};
  const series: number[] = [];
  for (let t = 5; t <= seconds; t += 5) {
    await sleep(5000);
    series.push(Math.round(rssMB(c.proc.pid!)));
  }
  const last = series[series.length - 1] ?? Math.round(rssMB(c.proc.pid!));
  return { settled: { seconds, rssMB: last, rssKBPerPod: round((last * 1024) / pods), rssEvery5sMB: series, rssByMapping: rssByMapping(c.proc.pid!) } };
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
      // How many Ready nodes are enough after 300 s of waiting for all (default 99 %; see scheduler.ts).
      'min-ready-nodes': { type: 'string' },
      'list-only': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      'run-only': { type: 'boolean', default: false },
      'idle-seconds': { type: 'string', default: '10' },
      // After the run: this many JSON walks (the first is `listPage`), and only those (no full
      // LIST, no Table walks, no kubectl).
      'page-walks': { type: 'string', default: '1' },
      'pages-only': { type: 'boolean', default: false },
      // DIR: what each page waited for (bench/lib/page-timeline.ts), with a CPU profile of each walk.
      'page-timeline': { type: 'string' },
      // After the run, RSS every 5 s for N seconds (before the lists and the heap dump): what the
      // process gives back once the burst is over (V8's memory reducer, the quiet-time GC).
      'settle-seconds': { type: 'string', default: '0' },
    },
  });
  if (values['list-only']) {
    console.log(JSON.stringify(await listOnly(Number(values.pods), Number(values.clients), Number(values['page-size']), Number(values['page-walks']), values['pages-only'])));
    return;
  }
  const snapshots = values['heap-snapshot'] !== undefined;
  const heapDir = path.resolve(values['heap-snapshot'] ?? path.join((await import('node:os')).tmpdir(), `mizzen-scale-heap-${process.pid}`));
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${heapSnapshotPreload(heapDir, snapshots)}`.trim();
  // --cpu-prof DIR: every thread's CPU profiles, of the idle cluster (window 1, --idle-seconds
  // before the first create) and from the first create to the last binding (window 2).
  const profDir = values['cpu-prof'];
  if (profDir) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS} --import=${cpuProfileWindowPreload(path.resolve(profDir))}`;
  const timelineDir = values['page-timeline'] && path.resolve(values['page-timeline']);
  if (timelineDir) {
    mkdirSync(timelineDir, { recursive: true });
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS} --import=${pageTimelinePreload(path.join(timelineDir, 'timeline.jsonl'))}`;
    if (!profDir) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS} --import=${cpuProfileWindowPreload(timelineDir)}`;
  }
  const opts = { nodes: Number(values.nodes), pods: Number(values.pods), clients: Number(values.clients), groupSize: 10, timeoutMs: Number(values['timeout-seconds']) * 1000, minReadyNodes: values['min-ready-nodes'] ? Number(values['min-ready-nodes']) : undefined, profileWindow: !!profDir, idleSeconds: Number(values['idle-seconds']) };
  const pageSize = Number(values['page-size']);
  const calibrationBefore = calibrationMs();
  // --run-only: the create-and-bind run's figures and the memory after it, without the lists.
  const settleSeconds = Number(values['settle-seconds']);
  const r = await runWorkload({ name: 'basic', workload: 'basic', runPods: false }, opts, values['run-only'] ? async (c) => {
    // The memory figures without the lists: RSS by kind of mapping, then each thread's heap.
    const rssAfterRun = rssMB(c.proc.pid!);
    const byMapping = rssByMapping(c.proc.pid!);
    const settled = await settle(c, settleSeconds, opts.pods);
    return { rssAfterRunMB: Math.round(rssAfterRun), rssKBPerPod: round((rssAfterRun * 1024) / opts.pods), rssByMapping: byMapping, ...settled, heap: await heapDump(c, heapDir, 1, snapshots), rssAfterGCMB: Math.round(rssMB(c.proc.pid!)) };
  } : async (c) => {
    const rssAfterRun = rssMB(c.proc.pid!);
    const byMapping = rssByMapping(c.proc.pid!);
    const settled = await settle(c, settleSeconds, opts.pods);
    const walks = await jsonWalks(c, pageSize, Number(values['page-walks']), timelineDir, profDir ? path.resolve(profDir) : timelineDir);
    if (values['pages-only']) return { rssAfterRunMB: Math.round(rssAfterRun), rssKBPerPod: round((rssAfterRun * 1024) / opts.pods), ...settled, listPage: walks.first, moreWalks: walks.more, pagesByOffset: walks.byOffset, pageWaits: walks.explained };
    const t = performance.now();
    const full = await request(c, 'GET', '/api/v1/pods');
    const fullListMs = performance.now() - t;
    if (full.status !== 200) throw new Error(`full list: ${full.status}`);
    const fullListMB = Buffer.byteLength(full.body) / 1048576;
    const rssAfterLists = rssMB(c.proc.pid!);
    const heap = await heapDump(c, heapDir, 1, snapshots);
    return {
      rssAfterRunMB: Math.round(rssAfterRun),
      rssKBPerPod: round((rssAfterRun * 1024) / opts.pods),
      rssByMapping: byMapping,
      ...settled,
      listPage: walks.first,
      ...(walks.more.length ? { moreWalks: walks.more } : {}),
      pagesByOffset: walks.byOffset,
      ...(walks.explained ? { pageWaits: walks.explained } : {}),
      fullList: { ms: Math.round(fullListMs), MB: round(fullListMB) },
      ...(await tableFigures(c, pageSize)),
      rssAfterListsMB: Math.round(rssAfterLists),
      // After every thread's full collection (and snapshot, if asked): what V8 gives back.
      rssAfterGCMB: Math.round(rssMB(c.proc.pid!)),
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
