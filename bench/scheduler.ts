// Scheduler throughput benchmark: `npm run bench -- scheduler [--nodes 5000] [--pods 10000]
// [--workload basic|basic-running|affinity|all] [--clients 32] [--cpu-prof DIR] [--min-ready-nodes N]`.
//
// For each workload it starts a fresh `mizzen up --simulated-nodes N`, waits until every node is
// Ready (up to 300 s: on a starved machine a few simulated nodes' heartbeats can stay late that
// long, so then it goes on if at least --min-ready-nodes are Ready, by default 99 % of --nodes,
// and fails otherwise; `nodesReady` in the result says how many were), creates the pods from --clients concurrent HTTPS connections and, from a watch on pods,
// takes the moment each pod is first seen with spec.nodeName set. Latency is measured from the
// client-side time the create request was sent; throughput is pods / (last binding - first create).
// `basic` and `affinity` run on heartbeat-only simulated nodes (leases renewed, bound pods left
// Pending), as upstream's scheduler_perf and the upstream figures quoted below measure scheduling
// without kubelets; `basic-running` is `basic` with the simulated kubelets also setting every pod
// Running (one more write per pod and its watch events), for scale.
// Prints one JSON line with one entry per workload. BENCH_METRICS=FILE saves the API server's
// /metrics at the end of each workload.

import https from 'node:https';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster, request, rssMB, tlsCreds, type BenchCluster } from './lib/cluster.ts';
import { FastConnection, type TlsCreds } from './lib/fast-client.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { PROFILE_SIGNAL } from './lib/cpu-profile-window.ts';
import { processCpuMs, threadCpuMsById, threadNamesById } from './lib/proc-cpu.ts';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export type Workload = 'basic' | 'affinity';

/** A named run: a pod shape, and whether the simulated kubelets run the pods. */
export interface BenchRun {
  name: string;
  workload: Workload;
  runPods: boolean;
}

export const RUNS: BenchRun[] = [
  { name: 'basic', workload: 'basic', runPods: false },
  { name: 'basic-running', workload: 'basic', runPods: true },
  { name: 'affinity', workload: 'affinity', runPods: false },
];

export interface WorkloadResult {
  workload: string;
  /** Whether the simulated kubelets set the pods Running (false: heartbeat-only nodes). */
  nodesRunPods: boolean;
  nodes: number;
  pods: number;
  bound: number;
  timedOut: boolean;
  podsPerSec: number;
  createPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Nodes Ready when the pods were created (fewer than `nodes` only on a starved machine: see the top of the file). */
  nodesReady: number;
  nodesReadySeconds: number;
  /** CPU the `mizzen up` process used from the first create to the last binding, per pod. */
  cpuMsPerPod: number;
  cpuMsPerPodByThread: { apiserverMain: number; others: number[]; benchClient: number };
  /**
   * With idleSeconds: what the cluster costs before any pod (lease renewals, node status,
   * controllers' resyncs), per second and thread, and the run's CPU per pod without that
   * (it is paid per second, so at a low pods/s it would dominate CPU per pod).
   */
  idle?: { seconds: number; cpuMsPerSec: number; byThreadStartOrder: number[] };
  cpuMsPerPodNetOfIdle?: number;
  cpuMsPerPodNetOfIdleByThreadStartOrder?: number[];
  /** CPU per pod of each thread with ≥ 1 % of the run's CPU, in start order (main thread first). */
  cpuMsPerPodByThreadStartOrder: number[];
  /** Those threads' names (a worker's is its own, libuv's pool and V8's helpers theirs). */
  threadNamesStartOrder: string[];
  /** Each tenth of the pods bound: pods/s and CPU per pod, in all and by thread (start order). */
  /** With BENCH_SERVER_LOG: the log's size at the first create and at the last binding. */
  serverLogRunBytes?: [number, number];
  windows: { boundTo: number; podsPerSec: number; cpuMsPerPod: number; byThreadStartOrder: number[] }[];
  /** Every 10 s of the run: pods bound so far, the scheduler's queue sizes, nodes tainted not-ready/unreachable. */
  timeline: { s: number; bound: number; active?: number; backoff?: number; unschedulable?: number; taintedNodes: number }[];
  /** That CPU time over the same wall time: how busy the process was (1 = one full core). */
  cpuCores: number;
  rssMB: number;
  /** Events created by the time every pod was bound (the scheduler's Scheduled events, mostly). */
  eventsWritten: number;
  storageCommits: { commits: number; rows: number; rowsPerCommit: number };
}

/** The pod of a workload: pause-like, small requests (as upstream's pod-default template). */
export function benchPod(workload: Workload, i: number, groupSize: number): Record<string, unknown> {
  const base = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pod-${i}`, labels: { app: 'sched-bench' } as Record<string, string> },
    spec: {
      containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '500Mi' } } }],
    } as Record<string, unknown>,
  };
  if (workload === 'basic') return base;
  // Pods of a group repel each other across hostnames and spread evenly over zones.
  const group = `g-${Math.floor(i / groupSize)}`;
  base.metadata.labels.group = group;
  const selector = { matchLabels: { group } };
  base.spec.affinity = {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: selector, topologyKey: 'kubernetes.io/hostname' }],
    },
  };
  base.spec.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: ZONE_LABEL, whenUnsatisfiable: 'DoNotSchedule', labelSelector: selector }];
  return base;
}

/** Nearest-rank percentile of sorted values (the scheduler and density benchmarks report these). */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls the node list until all `nodes` report Ready=True, and returns the Ready nodes' names. At
 * the deadline the run goes on if at least `minReady` are Ready (the result's `nodesReady` says how
 * many), and fails otherwise: see the top of this file.
 */
async function waitNodesReady(c: BenchCluster, nodes: number, minReady: number, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let ready: any[] = [];
  for (;;) {
    const r = await request(c, 'GET', '/api/v1/nodes');
    if (r.status === 200) {
      const items: any[] = JSON.parse(r.body).items ?? [];
      ready = items.filter((n) => (n.status?.conditions ?? []).some((x: any) => x.type === 'Ready' && x.status === 'True'));
      if (ready.length >= nodes) return ready.map((n) => n.metadata.name as string);
      last = `${items.length} nodes, ${ready.length} Ready`;
    } else {
      ready = [];
      last = `node list: HTTP ${r.status} ${r.body.slice(0, 200)}`;
    }
    if (Date.now() > deadline) {
      if (ready.length >= minReady) return ready.map((n) => n.metadata.name as string);
      throw new Error(`${ready.length} of ${nodes} nodes Ready after ${timeoutMs / 1000}s, fewer than --min-ready-nodes ${minReady} (last seen: ${last})`);
    }
    await sleep(500);
  }
}

/** Run `work(i)` for i in [0, total) over `conns` keep-alive connections. */
export async function fanOut(creds: TlsCreds, conns: number, total: number, work: (fc: FastConnection, i: number) => Promise<void>): Promise<void> {
  const pool = await Promise.all(Array.from({ length: Math.min(conns, total) }, () => FastConnection.open(creds)));
  let next = 0;
  try {
    await Promise.all(
      pool.map(async (fc) => {
        for (;;) {
          const i = next++;
          if (i >= total) return;
          await work(fc, i);
        }
      }),
    );
  } finally {
    for (const fc of pool) fc.close();
  }
}

/** Spread the nodes round-robin over three zones. */
async function labelZones(c: BenchCluster, nodes: string[], conns: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: conns }, async () => {
      for (let i = next++; i < nodes.length; i = next++) {
        const body = { metadata: { labels: { [ZONE_LABEL]: `zone-${i % 3}` } } };
        const r = await request(c, 'PATCH', `/api/v1/nodes/${nodes[i]}`, body, { 'Content-Type': 'application/merge-patch+json' });
        if (r.status !== 200) throw new Error(`labelling ${nodes[i]}: ${r.status} ${r.body.slice(0, 200)}`);
      }
    }),
  );
  // Give the scheduler's node informer a moment to take the labels in before pods arrive.
  await sleep(1000);
}

/** Watch pods in a namespace; calls onBound(name, t) the first time a pod is seen with a node. */
function watchBindings(c: BenchCluster, ns: string, onBound: (name: string, t: number) => void): Promise<{ close(): void }> {
  const u = new URL(`/api/v1/namespaces/${ns}/pods?watch=true&allowWatchBookmarks=false`, c.url);
  const seen = new Set<string>();
  return new Promise((resolve, reject) => {
    const req = https.get({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, agent: c.agent, headers: { Accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`watch: HTTP ${res.statusCode}`));
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        const now = performance.now();
        buf += d;
        let start = 0;
        let nl: number;
        while ((nl = buf.indexOf('\n', start)) >= 0) {
          const line = buf.slice(start, nl);
          start = nl + 1;
          // Most events are either unbound creates or updates of pods already counted; only parse
          // the ones that might be a first sighting of spec.nodeName.
          if (!line.includes('"nodeName"')) continue;
          const ev = JSON.parse(line);
          const name: string | undefined = ev.object?.metadata?.name;
          if (!name || seen.has(name) || !ev.object?.spec?.nodeName) continue;
          seen.add(name);
          onBound(name, now);
        }
        buf = buf.slice(start);
      });
      res.on('error', () => {});
      resolve({ close: () => req.destroy() });
    });
    req.on('error', (e) => reject(e));
  });
}

/**
 * Watches nodes and counts those the node lifecycle controller has tainted not-ready or
 * unreachable (NoSchedule): the scheduler can place nothing there. For the run's timeline.
 */
function watchNodeTaints(c: BenchCluster): Promise<{ tainted(): number; close(): void }> {
  const u = new URL('/api/v1/nodes?watch=true&allowWatchBookmarks=false', c.url);
  const down = new Set<string>();
  const keys = new Set(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
  return new Promise((resolve, reject) => {
    const req = https.get({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, agent: c.agent, headers: { Accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`node watch: HTTP ${res.statusCode}`));
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let start = 0;
        let nl: number;
        while ((nl = buf.indexOf('\n', start)) >= 0) {
          const ev = JSON.parse(buf.slice(start, nl));
          start = nl + 1;
          const name: string | undefined = ev.object?.metadata?.name;
          if (!name) continue;
          const taints: any[] = ev.object?.spec?.taints ?? [];
          if (ev.type !== 'DELETED' && taints.some((t) => t.effect === 'NoSchedule' && keys.has(t.key))) down.add(name);
          else down.delete(name);
        }
        buf = buf.slice(start);
      });
      res.on('error', () => {});
      resolve({ tainted: () => down.size, close: () => req.destroy() });
    });
    req.on('error', (e) => reject(e));
  });
}

/** The scheduler's queue sizes (scheduler_pending_pods) from the process's /metrics. */
async function pendingPods(c: BenchCluster): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const body = (await request(c, 'GET', '/metrics')).body as string;
  for (const l of body.split('\n')) {
    const m = /^scheduler_pending_pods\{queue="(\w+)"\} (\S+)/.exec(l);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

export async function runWorkload(
  run: BenchRun,
  opts: { nodes: number; pods: number; clients: number; groupSize: number; timeoutMs: number; capacity?: string; upArgs?: string[]; minReadyNodes?: number; profileWindow?: boolean; idleSeconds?: number },
  /** Measures more on the cluster before it is stopped (bench/scale.ts); its result is `after`. */
  after?: (c: BenchCluster) => Promise<Record<string, unknown>>,
): Promise<WorkloadResult & { after?: Record<string, unknown> }> {
  const { workload } = run;
  const args = ['--simulated-nodes', String(opts.nodes), '--cluster-cidr', '10.64.0.0/10', ...(opts.upArgs ?? [])];
  if (!run.runPods) args.push('--simulated-nodes-heartbeat-only');
  if (opts.capacity) args.push('--simulated-node-capacity', opts.capacity);
  const cluster = await startCluster(args);
  try {
    const creds = tlsCreds(cluster);
    const t0 = performance.now();
    const nodeNames = await waitNodesReady(cluster, opts.nodes, opts.minReadyNodes ?? Math.ceil(opts.nodes * 0.99), 300_000);
    const nodesReadySeconds = (performance.now() - t0) / 1000;
    if (workload === 'affinity') await labelZones(cluster, nodeNames, opts.clients);

    // The idle cluster's CPU per second, by thread (profiled as the first window with --cpu-prof).
    let idle: { ms: number; threads: Map<number, number>; seconds: number } | undefined;
    if (opts.idleSeconds) {
      // After the nodes' first registrations, leases and status posts have settled.
      await sleep(Math.max(15, opts.idleSeconds) * 1000);
      if (opts.profileWindow) cluster.proc.kill(PROFILE_SIGNAL);
      const c0 = processCpuMs(cluster.proc.pid!);
      const th0 = threadCpuMsById(cluster.proc.pid!);
      const w0 = performance.now();
      await sleep(opts.idleSeconds * 1000);
      const seconds = (performance.now() - w0) / 1000;
      const th1 = threadCpuMsById(cluster.proc.pid!);
      idle = { ms: processCpuMs(cluster.proc.pid!) - c0, threads: new Map([...th1].map(([t, ms]) => [t, ms - (th0.get(t) ?? ms)])), seconds };
      if (opts.profileWindow) cluster.proc.kill(PROFILE_SIGNAL);
    }

    const ns = `bench-${workload}`;
    const nsr = await request(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    if (nsr.status !== 201) throw new Error(`creating namespace: ${nsr.status} ${nsr.body}`);
    // Pods are admitted only once the namespace's default ServiceAccount exists (the controller
    // manager makes it; on a loaded machine that can take seconds).
    for (let i = 0; i < 600 && (await request(cluster, 'GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status !== 200; i++) await sleep(100);

    const sent = new Float64Array(opts.pods).fill(NaN);
    const bound = new Float64Array(opts.pods).fill(NaN);
    let boundCount = 0;
    let lastBound = 0;
    let cpuAtLastBound = 0;
    let threadsAtLastBound: Map<number, number> | undefined;
    let clientAtLastBound: NodeJS.CpuUsage | undefined;
    let logAtLastBound = 0;
    // With BENCH_SERVER_LOG (and e.g. BENCH_SERVER_NODE_ARGS=--trace-gc), where the run starts and
    // ends in that log: bench/lib/trace-gc-summary.ts sums each thread's collections in between.
    const logSize = () => (process.env.BENCH_SERVER_LOG ? statSync(process.env.BENCH_SERVER_LOG).size : 0);
    const pid = cluster.proc.pid!;
    let resolveAll!: () => void;
    const allBound = new Promise<void>((r) => (resolveAll = r));
    // CPU by thread at every tenth of the pods bound: whether a pod costs more as the cluster fills.
    const windowEvery = Math.max(1, Math.ceil(opts.pods / 10));
    const marks: { bound: number; t: number; threads: Map<number, number> }[] = [];
    const watch = await watchBindings(cluster, ns, (name, t) => {
      const i = Number(name.slice(4));
      if (!Number.isInteger(i) || i < 0 || i >= opts.pods || !Number.isNaN(bound[i])) return;
      bound[i] = t;
      lastBound = Math.max(lastBound, t);
      if ((boundCount + 1) % windowEvery === 0 && boundCount + 1 < opts.pods) marks.push({ bound: boundCount + 1, t: performance.now(), threads: threadCpuMsById(pid) });
      if (++boundCount >= opts.pods) {
        cpuAtLastBound = processCpuMs(pid);
        threadsAtLastBound = threadCpuMsById(pid);
        clientAtLastBound = process.cpuUsage();
        logAtLastBound = logSize();
        if (opts.profileWindow) cluster.proc.kill(PROFILE_SIGNAL);
        resolveAll();
      }
    });

    // Every 10 s of the run: pods bound, the scheduler's queues and the nodes tainted not-ready or
    // unreachable, so a stretch with no binding shows whether the scheduler had no pods (its pod
    // watch not delivering), held them as unschedulable, or had no node to put them on.
    const nodeTaints = await watchNodeTaints(cluster);
    const timeline: { s: number; bound: number; active?: number; backoff?: number; unschedulable?: number; taintedNodes: number }[] = [];
    const sampleStart = performance.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await sleep(10_000);
        // The run may have thrown (its cluster stopped): then stop here too.
        if (!sampling || cluster.proc.exitCode !== null || cluster.proc.signalCode !== null) break;
        const q = await pendingPods(cluster).catch(() => ({}) as Record<string, number>);
        timeline.push({ s: Math.round((performance.now() - sampleStart) / 1000), bound: boundCount, active: q.active, backoff: q.backoff, unschedulable: q.unschedulable, taintedNodes: nodeTaints.tainted() });
      }
    })();
    const cpuAtStart = processCpuMs(pid);
    const threadsAtStart = threadCpuMsById(pid);
    const clientAtStart = process.cpuUsage();
    const createStart = performance.now();
    marks.push({ bound: 0, t: createStart, threads: threadsAtStart });
    const logAtStart = logSize();
    // The server's CPU profiles (bench/lib/cpu-profile-window.ts) cover the first create to the last binding.
    if (opts.profileWindow) cluster.proc.kill(PROFILE_SIGNAL);
    let failures = 0;
    let createEnd = 0;
    const creating = fanOut(creds, opts.clients, opts.pods, async (fc, i) => {
      const body = JSON.stringify(benchPod(workload, i, opts.groupSize));
      sent[i] = performance.now();
      const r = await fc.request('POST', `/api/v1/namespaces/${ns}/pods`, body);
      if (r.status !== 201) {
        if (failures++ < 3) console.error(`create pod-${i}: ${r.status} ${r.body.toString().slice(0, 300)}`);
      }
    }).then(() => (createEnd = performance.now()));
    await creating;
    if (failures) throw new Error(`${failures} pod creates failed`);

    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allBound, new Promise<void>((r) => (timer = setTimeout(() => ((timedOut = true), r()), opts.timeoutMs)))]);
    clearTimeout(timer);
    watch.close();
    sampling = false;
    await sampler;
    nodeTaints.close();
    // The scheduler writes its Scheduled events one at a time and drops them beyond 1,000 waiting
    // (as client-go); how many were written by the last binding shows how much of that work the
    // CPU figures include.
    const metrics = await request(cluster, 'GET', '/metrics');
    const eventsLine = metrics.body.split('\n').find((l) => l.startsWith('apiserver_request_total{verb="POST",dry_run="",group="",version="v1",resource="events",subresource="",scope="namespace",component="apiserver",code="201"}'));
    const eventsWritten = eventsLine ? Number(eventsLine.split(' ').pop()) : 0;
    // The SQLite store's group commits over the server's life (setup included): writes per transaction.
    const counter = (name: string) => Number(metrics.body.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? NaN);
    const commits = counter('mizzen_storage_commits_total');
    const rows = counter('mizzen_storage_committed_rows_total');

    const lat: number[] = [];
    for (let i = 0; i < opts.pods; i++) if (!Number.isNaN(bound[i])) lat.push(bound[i] - sent[i]);
    lat.sort((a, b) => a - b);
    const span = (lastBound || performance.now()) - createStart;
    const cpuUsed = (cpuAtLastBound || processCpuMs(pid)) - cpuAtStart;
    // Where the CPU went: the API server's main thread, then the busiest other threads (the
    // components, simulated nodes and storage writer threads), and this benchmark client.
    const threadsEnd = threadsAtLastBound ?? threadCpuMsById(pid);
    const perPod = (ms: number) => Math.round((ms / Math.max(1, boundCount)) * 100) / 100;
    const others = [...threadsEnd].filter(([tid]) => tid !== pid).map(([tid, ms]) => ms - (threadsAtStart.get(tid) ?? 0)).sort((a, b) => b - a);
    const client = process.cpuUsage();
    const clientMs = ((clientAtLastBound ?? client).user + (clientAtLastBound ?? client).system - clientAtStart.user - clientAtStart.system) / 1000;
    const round = (x: number) => Math.round(x * 10) / 10;
    const round2 = (x: number) => Math.round(x * 100) / 100;
    // The run's CPU minus what the idle cluster would have used over the same time, by thread in
    // start order (the main thread first, then by thread id: e.g. V8's helper, the SQLite writer, the
    // components, the simulated nodes), threads with less than 1 % of the run's CPU left out.
    const spanSec = span / 1000;
    const runMs = (t: number) => (threadsEnd.get(t) ?? 0) - (threadsAtStart.get(t) ?? 0);
    const busy = [pid, ...[...threadsEnd.keys()].filter((t) => t !== pid).sort((x, y) => x - y).filter((t) => runMs(t) >= cpuUsed / 100)];
    const idleOut = idle && {
      seconds: round(idle.seconds),
      cpuMsPerSec: round(idle.ms / idle.seconds),
      byThreadStartOrder: busy.map((t) => round((idle!.threads.get(t) ?? 0) / idle!.seconds)),
    };
    const netOf = (run: number, idleMs: number) => round2((run - (idleMs / idle!.seconds) * spanSec) / Math.max(1, boundCount));
    // Each tenth of the run: pods/s and CPU per pod by thread (start order, as above).
    if (threadsAtLastBound) marks.push({ bound: boundCount, t: lastBound, threads: threadsAtLastBound });
    const names = threadNamesById(pid);
    const windows = marks.slice(1).map((m, i) => {
      const prev = marks[i]!;
      const n = Math.max(1, m.bound - prev.bound);
      const byThread = busy.map((tid) => round2(((m.threads.get(tid) ?? 0) - (prev.threads.get(tid) ?? 0)) / n));
      return { boundTo: m.bound, podsPerSec: round((n / (m.t - prev.t)) * 1000), cpuMsPerPod: round2(byThread.reduce((a, b) => a + b, 0)), byThreadStartOrder: byThread };
    });
    const rssAfterRun = rssMB(cluster.proc.pid!);
    return {
      ...(after ? { after: await after(cluster) } : {}),
      workload: run.name,
      nodesRunPods: run.runPods,
      nodes: opts.nodes,
      pods: opts.pods,
      bound: boundCount,
      timedOut,
      podsPerSec: round((boundCount / span) * 1000),
      createPerSec: round((opts.pods / (createEnd - createStart)) * 1000),
      p50Ms: round(percentile(lat, 50)),
      p90Ms: round(percentile(lat, 90)),
      p99Ms: round(percentile(lat, 99)),
      maxMs: round(lat[lat.length - 1] ?? NaN),
      nodesReady: nodeNames.length,
      nodesReadySeconds: round(nodesReadySeconds),
      cpuMsPerPod: round(cpuUsed / Math.max(1, boundCount)),
      cpuMsPerPodByThread: { apiserverMain: perPod((threadsEnd.get(pid) ?? 0) - (threadsAtStart.get(pid) ?? 0)), others: others.slice(0, 4).map(perPod), benchClient: perPod(clientMs) },
      cpuMsPerPodByThreadStartOrder: busy.map((t) => perPod(runMs(t))),
      ...(idle ? { idle: idleOut, cpuMsPerPodNetOfIdle: netOf(cpuUsed, idle.ms), cpuMsPerPodNetOfIdleByThreadStartOrder: busy.map((t) => netOf(runMs(t), idle!.threads.get(t) ?? 0)) } : {}),
      cpuCores: Math.round((cpuUsed / span) * 100) / 100,
      threadNamesStartOrder: busy.map((t) => names.get(t) ?? '?'),
      windows,
      timeline,
      ...(process.env.BENCH_SERVER_LOG ? { serverLogRunBytes: [logAtStart, logAtLastBound] } : {}),
      rssMB: Math.round(rssAfterRun),
      eventsWritten,
      storageCommits: { commits, rows, rowsPerCommit: Math.round((rows / commits) * 100) / 100 },
    };
  } finally {
    // Which requests the run made (e.g. `BENCH_METRICS=/tmp/m.txt`, then grep apiserver_request_total).
    if (process.env.BENCH_METRICS) writeFileSync(process.env.BENCH_METRICS, (await request(cluster, 'GET', '/metrics')).body);
    await cluster.stop();
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '5000' },
      pods: { type: 'string', default: '10000' },
      workload: { type: 'string', default: 'all' },
      clients: { type: 'string', default: '32' },
      'group-size': { type: 'string', default: '10' },
      capacity: { type: 'string' },
      'timeout-seconds': { type: 'string', default: '600' },
      'cpu-prof': { type: 'string' },
      'min-ready-nodes': { type: 'string' },
    },
  });
  const runs = values.workload === 'all' ? RUNS : RUNS.filter((r) => r.name === values.workload);
  if (runs.length === 0) throw new Error(`unknown --workload ${values.workload}: ${RUNS.map((r) => r.name).join(', ')} or all`);
  if (values['cpu-prof']) {
    // --cpu-prof is refused in NODE_OPTIONS, so the `mizzen up` child gets a preload that runs the
    // inspector's profiler and writes the profile when the process exits.
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${profilerPreload(path.resolve(values['cpu-prof']))}`.trim();
  }
  const opts = {
    nodes: Number(values.nodes),
    pods: Number(values.pods),
    clients: Number(values.clients),
    groupSize: Number(values['group-size']),
    timeoutMs: Number(values['timeout-seconds']) * 1000,
    capacity: values.capacity,
    minReadyNodes: values['min-ready-nodes'] ? Number(values['min-ready-nodes']) : undefined,
  };
  const calibrationBefore = calibrationMs();
  const results: WorkloadResult[] = [];
  for (const r of runs) results.push(await runWorkload(r, opts));
  console.log(
    JSON.stringify({
      bench: 'scheduler',
      workload: runs.length === 1 ? runs[0].name : 'all',
      nodes: opts.nodes,
      pods: opts.pods,
      ...(results.length === 1 ? pick(results[0]) : {}),
      results,
      calibration: calibration(calibrationBefore),
      measuredAs: 'client: create request sent → first watch event with spec.nodeName; podsPerSec = bound pods / (last binding − first create)',
      workloads: {
        basic: 'SchedulingBasic-style pause pods, requests cpu 100m / memory 500Mi; heartbeat-only nodes (no kubelet work, as upstream scheduler_perf)',
        'basic-running': 'basic, with the simulated kubelets also setting every pod Running (a status write per pod)',
        affinity: `same pods in groups of ${opts.groupSize}: required pod anti-affinity on kubernetes.io/hostname within a group, topology spread maxSkew 1 over ${ZONE_LABEL} (3 zones, DoNotSchedule); heartbeat-only nodes`,
      },
      upstream: {
        'v1.28.7 on this machine (scheduler + API server + etcd)': { podsPerSec: 187, p99Ms: 16600 },
        'CI floor SchedulingBasic 5000 nodes / 10000 pods (big machine)': { podsPerSec: 680 },
      },
      target: { podsPerSec: '>= 1000', p99Ms: '< 2000' },
    }),
  );
}

function profilerPreload(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mizzen-prof-')), 'preload.mjs');
  writeFileSync(
    file,
    `import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { threadId, isMainThread } from 'node:worker_threads';
const s = new Session();
s.connect();
s.post('Profiler.enable');
s.post('Profiler.setSamplingInterval', { interval: 1000 });
s.post('Profiler.start');
const dump = () =>
  // Same-thread inspector sessions answer synchronously, so this completes before exit.
  s.post('Profiler.stop', (err, r) => {
    if (!err) writeFileSync(${JSON.stringify(dir)} + '/mizzen-' + process.pid + '-' + threadId + '.cpuprofile', JSON.stringify(r.profile));
  });
// Worker threads are terminated, not exited, so theirs is written after a fixed time instead.
if (isMainThread) process.on('exit', dump);
else setTimeout(dump, ${JSON.stringify(Number(process.env.MIZZEN_WORKER_PROFILE_SECONDS ?? 20) * 1000)}).unref();
`,
  );
  return file;
}

function pick(r: WorkloadResult) {
  return { podsPerSec: r.podsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, cpuMsPerPod: r.cpuMsPerPod };
}
