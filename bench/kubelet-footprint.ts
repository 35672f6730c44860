// `npm run bench -- kubelet-footprint [--pods 30] [--variant 'NAME=NODE FLAGS']... [--settle-s 30]`:
// the memory and CPU of `mizzen kubelet` alone (no cluster DNS, no service proxy), for one or more
// sets of node flags, back to back under the same API server (so they see the same machine load).
// Per variant: the kubelet idle (node Ready, no pods), its CPU-seconds for a burst of pods, and
// the kubelet with the pods running (`settle` s after the burst is Running) and again a minute
// later (does the RSS come back?). Memory is RSS, private (not shared with other processes), RSS
// by kind of mapping, and V8's heap by space (a preload answers SIGUSR2 with
// process.memoryUsage() and v8.getHeapSpaceStatistics()). Prints one JSON line per variant.
// `--snapshots DIR`: a heap snapshot at each measurement too (perturbs the later ones).
// `--cpu-prof DIR`: the kubelet's CPU profiles DIR/burst.cpuprofile (from the burst's start until
// `settle` s after it ran) and DIR/steady.cpuprofile (with the pods running, the next 60 s).
// Without --variant: the command as people run it (bin/mizzen.js executed: the node flags and malloc
// settings its first lines give `mizzen kubelet`).
// A variant's `--bin=PATH` runs another checkout's bin/mizzen.js (side by side under one load).
// `--window-s N`: CPU windows of N s (default 20; the kubelet has jobs every 10 and 60 s).
// `--timeline S`: per-thread CPU sampled each second for S s, idle and with the pods (after
// `later`): the main thread's ms in each second and % of a core by thread (bench/lib/proc-usage.ts).
// `--log DIR`: the kubelet's output in DIR/<variant>.log (e.g. with a `--trace-gc` variant).
// `--heap-sampling DIR`: a sampling heap profile of the steady state (from the measurement with
// the pods to the one a minute later) that counts garbage too (objects collected by scavenges and
// full GCs), DIR/<variant>.heapprofile (Chrome DevTools' format), and its top allocation sites in
// the JSON line: what allocates while the kubelet idles with its pods.
// Needs root and the node's packages (like pod-startup).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { ApiClient } from '../src/client/api-client.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { ensurePki } from '../src/apiserver/pki.ts';
import { cleanupLocalNode, localNodeSkipReason, pickTestCidrs } from '../src/kubelet/testing/local-node.ts';
import { percentile, startCluster } from './lib/cluster.ts';
import { cpuTimeline, procSample, rssByMapping, usage } from './lib/proc-usage.ts';
import { benchKubeletArgs, waitNodeReady } from './lib/bench-kubelet.ts';

const repo = path.resolve(import.meta.dirname, '..');
const bin = path.join(repo, 'bin/mizzen.js');
const PODS = { version: 'v1', resource: 'pods', namespace: 'default' };
let WINDOW_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const load = () => loadavg().map((l) => round(l, 2));

/**
 * `snapshots`: also a heap snapshot per measurement, into that dir (diagnosis only: it perturbs
 * what follows). `profileDir`: CPU profiles from the first measurement to the second (the burst,
 * burst.cpuprofile) and from the second to the third (steady state, steady.cpuprofile).
 */
function heapPreload(dir: string, snapshots?: string, profileDir?: string, sampleFile?: string): string {
  const file = path.join(dir, 'heap-preload.mjs');
  writeFileSync(
    file,
    `import v8 from 'node:v8';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
let n = 0;
let session;
let sampler;
const profile = (name, again) => session.post('Profiler.stop', (err, r) => {
  if (!err) writeFileSync(${JSON.stringify(profileDir ?? '.')} + '/' + name + '.cpuprofile', JSON.stringify(r.profile));
  if (again) session.post('Profiler.start');
  else session.disconnect(); // the profiler's own thread and interrupts stay out of later measurements
});
process.on('SIGUSR2', () => {
  n++;
  if (${JSON.stringify(profileDir ?? '')} && n === 1) {
    session = new Session();
    session.connect();
    session.post('Profiler.enable', () => session.post('Profiler.start'));
  }
  if (session && n === 2) profile('burst', true);
  if (session && n === 3) profile('steady', false);
  if (${JSON.stringify(sampleFile ?? '')} && n === 2) {
    sampler = new Session();
    sampler.connect();
    sampler.post('HeapProfiler.enable', () => sampler.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }));
  }
  if (sampler && n === 3) sampler.post('HeapProfiler.stopSampling', (err, r) => {
    if (!err) writeFileSync(${JSON.stringify(sampleFile ?? '.')}, JSON.stringify(r.profile));
    sampler.disconnect();
  });
  const mb = (b) => Math.round(b / 1048576 * 10) / 10;
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name.replace(/_space$/, ''), { sizeMB: mb(s.space_size), usedMB: mb(s.space_used_size) }]));
  writeFileSync(${JSON.stringify(path.join(dir, 'heap.json'))}, JSON.stringify({ heapTotalMB: mb(m.heapTotal), heapUsedMB: mb(m.heapUsed), externalMB: mb(m.external), arrayBuffersMB: mb(m.arrayBuffers), spaces }));
  if (${JSON.stringify(snapshots ?? '')}) v8.writeHeapSnapshot(${JSON.stringify(snapshots ?? '')} + '/kubelet-' + Date.now() + '.heapsnapshot');
});
`,
  );
  return file;
}

async function heapOf(pid: number, dir: string): Promise<unknown> {
  const file = path.join(dir, 'heap.json');
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(50);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

async function measure(pid: number, dir: string) {
  const u = await usage(pid, WINDOW_MS);
  return { ...u, byMapping: rssByMapping(pid), heap: await heapOf(pid, dir), loadavg: load() };
}

/**
 * The sampling heap profile's total (MB/s over `seconds`) and its top sites: self bytes by
 * function and location, and by the nearest frame in the kubelet's own code (dist/cli, not
 * node's internals or npm packages) on the stack, which says which of our calls it was for.
 */
async function allocationSites(file: string, seconds: number) {
  for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
  if (!existsSync(file)) return undefined;
  type Node = { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] };
  const head = JSON.parse(readFileSync(file, 'utf8')).head as Node;
  const self = new Map<string, number>();
  const ours = new Map<string, number>();
  let total = 0;
  const where = (f: Node['callFrame']) => `${f.functionName || '(anonymous)'} ${path.basename(f.url) || '(native)'}:${f.lineNumber + 1}`;
  const walk = (n: Node, own: string) => {
    const mine = /dist\/cli\//.test(n.callFrame.url) ? where(n.callFrame) : own;
    if (n.selfSize) {
      total += n.selfSize;
      self.set(where(n.callFrame), (self.get(where(n.callFrame)) ?? 0) + n.selfSize);
      ours.set(mine, (ours.get(mine) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, mine);
  };
  walk(head, '(no kubelet frame)');
  const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, b]) => [k, round(b / 1024, 0)]);
  return { MBperS: round(total / 1048576 / seconds, 3), seconds, topSelfKB: top(self), topByKubeletFrameKB: top(ours) };
}

function podObject(name: string, node: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { bench: 'kubelet-footprint' } },
    // Bound at creation (no scheduler): this measures the kubelet, and in runs of several
    // variants the bench cluster's scheduler stopped placing pods after the first variant's node
    // and pods were deleted (2026-12-07; not reproduced since: see src/scheduler/node-replace.test.ts).
    spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox:1.35', command: ['sleep', '3600'] }] },
  };
}

export async function main(argv: string[]): Promise<void> {
  const skip = localNodeSkipReason();
  if (skip) {
    console.log(JSON.stringify({ bench: 'kubelet-footprint', skipped: skip }));
    return;
  }
  const num = (name: string, d: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : d);
  const pods = num('--pods', 30);
  const settleMs = num('--settle-s', 30) * 1000;
  WINDOW_MS = num('--window-s', 20) * 1000;
  const timelineS = num('--timeline', 0);
  const logDir = argv.includes('--log') ? path.resolve(argv[argv.indexOf('--log') + 1]!) : undefined;
  // 'NAME=[VAR=value ...] [--node-flag ...]': environment variables (e.g. MALLOC_ARENA_MAX=2) and node flags.
  const variants: { name: string; flags?: string[]; env?: Record<string, string>; bin?: string }[] = [];
  argv.forEach((a, i) => {
    if (a !== '--variant') return;
    const v = argv[i + 1]!;
    const eq = v.indexOf('=');
    const words = v.slice(eq + 1).split(' ').filter(Boolean);
    const env = Object.fromEntries(words.filter((w) => /^[A-Z_][A-Z0-9_]*=/.test(w)).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
    const binWord = words.find((w) => w.startsWith('--bin='));
    variants.push({ name: v.slice(0, eq), flags: words.filter((w) => w.startsWith('-') && w !== binWord), env, bin: binWord && path.resolve(binWord.slice(6)) });
  });
  if (!variants.length) variants.push({ name: 'bin' });

  const cidrs = await pickTestCidrs();
  const cluster = await startCluster(['--cluster-cidr', cidrs.clusterCIDR, '--service-cluster-ip-range', cidrs.serviceCIDR]);
  const admin = new ApiClient({ ...loadKubeconfig(path.join(cluster.dataDir, 'kubeconfig')), maxSockets: 64 });
  const pki = await ensurePki(cluster.dataDir);
  try {
    for (const v of variants) {
      const id = randomBytes(3).toString('hex');
      const nodeName = `fp-${id}`;
      const bridge = `mzkf${id}`;
      const cgroupRoot = `/mizzen-footprint-${id}`;
      const nodeDir = mkdtempSync(path.join(tmpdir(), 'mzkf-'));
      const args = await benchKubeletArgs({ cluster, pki, cidrs, nodeName, nodeDir, bridge, cgroupRoot });
      const dirArg = (name: string) => (argv.includes(name) ? path.resolve(argv[argv.indexOf(name) + 1]!) : undefined);
      const sampleFile = dirArg('--heap-sampling') && path.join(dirArg('--heap-sampling')!, `${v.name}.heapprofile`);
      const preload = heapPreload(nodeDir, dirArg('--snapshots'), dirArg('--cpu-prof'), sampleFile);
      // Executed as people run it (bin/mizzen.js's kubelet flags), or through node with the variant's flags.
      const kubelet = v.flags
        ? spawn(process.execPath, [...v.flags, `--import=${preload}`, v.bin ?? bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...v.env } })
        : spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: `--import=${preload}` } });
      let out = '';
      kubelet.stdout!.on('data', (d) => (out += d));
      kubelet.stderr!.on('data', (d) => (out += d));
      const running = new Map<string, number>();
      const watch = admin.watch(PODS, { labelSelector: 'bench=kubelet-footprint' }, (ev: any) => {
        const p = ev.object;
        if (p?.status?.phase === 'Running' && p.spec?.nodeName === nodeName && !running.has(p.metadata.name)) running.set(p.metadata.name, performance.now());
      }, () => {});
      const names = Array.from({ length: pods }, (_, i) => `fp-${id}-${i}`);
      try {
        const nodeReadyMs = await waitNodeReady(admin, nodeName, () => out);
        const startCpuS = round(procSample(kubelet.pid!).cpuNs / 1e9, 2);
        await sleep(3000);
        const idle = await measure(kubelet.pid!, nodeDir);
        const idleTimeline = timelineS ? await cpuTimeline(kubelet.pid!, timelineS) : undefined;
        const before = procSample(kubelet.pid!);
        const starts = new Map<string, number>();
        await Promise.all(names.map(async (name) => {
          starts.set(name, performance.now());
          await admin.create(PODS, podObject(name, nodeName));
        }));
        const end = Date.now() + 180_000;
        while (names.some((n) => !running.has(n))) {
          if (Date.now() > end) throw new Error(`pods not Running:\n${out.slice(-3000)}`);
          await sleep(20);
        }
        const burstMs = names.map((n) => running.get(n)! - starts.get(n)!).sort((a, b) => a - b);
        const burstCpuS = round((procSample(kubelet.pid!).cpuNs - before.cpuNs) / 1e9, 2);
        const burstLoad = load();
        await sleep(settleMs);
        const withPods = await measure(kubelet.pid!, nodeDir);
        await sleep(40_000);
        const later = await measure(kubelet.pid!, nodeDir);
        const podsTimeline = timelineS ? await cpuTimeline(kubelet.pid!, timelineS) : undefined;
        const allocation = sampleFile ? await allocationSites(sampleFile, (40_000 + WINDOW_MS) / 1000) : undefined;
        console.log(JSON.stringify({
          bench: 'kubelet-footprint',
          variant: v.name,
          flags: v.flags ? [...Object.entries(v.env ?? {}).map(([k, x]) => `${k}=${x}`), ...v.flags] : 'as executed',
          ...(v.bin ? { bin: v.bin } : {}),
          nodeReadyMs,
          startCpuS,
          idle,
          burst: { pods, p50Ms: Math.round(percentile(burstMs, 50)), p99Ms: Math.round(percentile(burstMs, 99)), kubeletCpuS: burstCpuS, kubeletCpuMsPerPod: Math.round((burstCpuS * 1000) / pods), loadavg: burstLoad },
          [`with${pods}Pods`]: withPods,
          [`with${pods}PodsLater`]: later,
          ...(timelineS ? { idleTimeline, [`with${pods}PodsTimeline`]: podsTimeline } : {}),
          ...(allocation ? { steadyAllocation: allocation } : {}),
        }));
      } finally {
        watch.abort();
        await Promise.all(names.map((name) => admin.delete({ ...PODS, name }, { gracePeriodSeconds: 0 }).catch(() => {})));
        // Let the kubelet stop the containers it runs before it goes.
        for (let i = 0; i < 120; i++) {
          const left = await admin.list<any>(PODS, { labelSelector: 'bench=kubelet-footprint' }).catch(() => undefined);
          if (!left || !left.items.some((p: any) => p.spec?.nodeName === nodeName)) break;
          await sleep(500);
        }
        const exited = new Promise((res) => kubelet.once('exit', res));
        kubelet.kill('SIGTERM');
        // A kubelet still running when its Node is deleted would register it again.
        if ((await Promise.race([exited.then(() => true), sleep(60_000).then(() => false)])) === false) {
          kubelet.kill('SIGKILL');
          await exited;
        }
        await cleanupLocalNode({ dataDir: path.join(nodeDir, 'data'), bridge, cgroupRoot, ...cidrs }).catch(() => {});
        await admin.delete({ version: 'v1', resource: 'nodes', name: nodeName }).catch(() => {});
        if (logDir) writeFileSync(path.join(logDir, `${v.name}.log`), out);
        rmSync(nodeDir, { recursive: true, force: true });
      }
    }
  } finally {
    admin.close();
    await cluster.stop();
  }
}
