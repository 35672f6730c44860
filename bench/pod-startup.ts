// `npm run bench -- pod-startup [--pods 30] [--singles 10] [--no-up] [--bin PATH]`: pod startup on
// the real local node. `mizzen up --no-kubelet` and `mizzen kubelet` as separate processes (so the
// kubelet's own CPU and RSS can be read from /proc), busybox pods created through the API and
// scheduled as usual; the time is from the create request to the pod's Running status seen by a
// watch. One pod at a time, then a burst created at once. Prints one JSON line. Needs root and the
// node's packages.
// Resources: the kubelet is started as people start it (bin/mizzen.js executed, so with the node
// flags and malloc settings its first lines give `mizzen kubelet`) and alone, as upstream's
// ~100 MB kubelet runs without kube-proxy and CoreDNS (`--no-cluster-dns --no-service-proxy`;
// also, only one service proxy may run per host network namespace). CPU is % of one core over
// 20 s; memory is RSS, and `privateMB` (what this
// process alone holds: RSS minus pages shared with other processes, mostly the node binary's
// ~35-45 MB of code) from /proc/PID/smaps_rollup. Then (unless --no-up) the whole `mizzen up`
// with its local node (DNS on, no service proxy, for the same reason) idle, and its containerd.
// `--bin PATH`: measure another checkout's bin/mizzen.js (side-by-side comparisons under the same load).
// `--up-only [--bin PATH]... [--rounds N]`: only the whole `mizzen up` idle, for each `--bin` in
// turn (the order reversed every other round), one JSON line each: to compare checkouts' `up`.
// `--trace`: the kubelet writes per-pod step timestamps (src/kubelet/core/trace.ts); the JSON line
// then has, for the burst, the median and max time from the create request to each step.
// `--perf`: the burst's CPU by process (kubelet, containerd, shims, runc, each CNI plugin, the
// control plane), from a system-wide `perf record` filtered to the processes this benchmark started
// (bench/lib/perf-cpu.ts); `perPodMs` is the total over the burst's pods.
// Compared against: upstream's pod startup SLO (p99 ≤ 5 s) and the targets (one pod p50
// ≤ 0.5 s, burst p99 ≤ 3 s, kubelet ≤ 60 MB RSS and < 1 % of a core idle with the pods running).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { ApiClient } from '../src/client/api-client.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { ensurePki } from '../src/apiserver/pki.ts';
import { cleanupLocalNode, localNodeSkipReason, pickTestCidrs, type TestCidrs } from '../src/kubelet/testing/local-node.ts';
import { binNodeCommand, freePort, percentile, startCluster } from './lib/cluster.ts';
import { perfAvailable, startPerfCpu, type PerfCpu } from './lib/perf-cpu.ts';
import { rssByMapping, usage } from './lib/proc-usage.ts';
import { benchKubeletArgs, waitNodeReady } from './lib/bench-kubelet.ts';

const repo = path.resolve(import.meta.dirname, '..');
const PODS = { version: 'v1', resource: 'pods', namespace: 'default' };

function arg(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
}

const WINDOW_MS = 20_000;

function podObject(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { bench: 'pod-startup' } },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox:1.35', command: ['sleep', '3600'] }] },
  };
}

export async function main(argv: string[]): Promise<void> {
  const skip = localNodeSkipReason();
  if (skip) {
    console.log(JSON.stringify({ bench: 'pod-startup', skipped: skip }));
    return;
  }
  if (argv.includes('--up-only')) return upOnly(argv);
  const burst = arg(argv, '--pods', 30);
  const bin = argv.includes('--bin') ? path.resolve(argv[argv.indexOf('--bin') + 1]!) : path.join(repo, 'bin/mizzen.js');
  const singles = arg(argv, '--singles', 10);
  const id = randomBytes(3).toString('hex');
  const nodeName = `bench-${id}`;
  const bridge = `mzkb${id}`;
  const cgroupRoot = `/mizzen-bench-${id}`;
  const nodeDir = mkdtempSync(path.join(tmpdir(), 'mzkb-'));
  const traceFile = argv.includes('--trace') ? path.join(tmpdir(), `mzkb-trace-${id}.log`) : undefined;
  const cidrs = await pickTestCidrs();
  const cluster = await startCluster(['--cluster-cidr', cidrs.clusterCIDR, '--service-cluster-ip-range', cidrs.serviceCIDR]);
  const pki = await ensurePki(cluster.dataDir);
  // Executed, not run with this process's node: bin/mizzen.js's kubelet flags apply, as for people.
  // `--kubelet-cpu-prof DIR`: the kubelet writes a V8 CPU profile there when it exits (run through
  // node with those flags and environment plus the profiler's).
  const profDir = argv.includes('--kubelet-cpu-prof') ? argv[argv.indexOf('--kubelet-cpu-prof') + 1]! : undefined;
  const kubeletArgs = await benchKubeletArgs({ cluster, pki, cidrs, nodeName, nodeDir, bridge, cgroupRoot });
  const asExecuted = binNodeCommand(bin, 'kubelet');
  const kubelet = spawn(
    profDir ? process.execPath : bin,
    profDir ? [...asExecuted.flags, '--cpu-prof', '--cpu-prof-dir', profDir, bin, ...kubeletArgs] : kubeletArgs,
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...(profDir ? asExecuted.env : {}), ...process.env, ...(traceFile ? { MIZZEN_KUBELET_TRACE: traceFile } : {}) } },
  );
  let out = '';
  kubelet.stdout!.on('data', (d) => (out += d));
  kubelet.stderr!.on('data', (d) => (out += d));
  const admin = new ApiClient({ ...loadKubeconfig(path.join(cluster.dataDir, 'kubeconfig')), maxSockets: 64 });
  const running = new Map<string, number>();
  const bound = new Map<string, number>();
  const watch = admin.watch(PODS, { labelSelector: 'bench=pod-startup' }, (ev: any) => {
    const p = ev.object;
    if (p?.spec?.nodeName && !bound.has(p.metadata.name)) bound.set(p.metadata.name, performance.now());
    if (p?.status?.phase === 'Running' && !running.has(p.metadata.name)) running.set(p.metadata.name, performance.now());
  }, () => {});
  const waitRunning = async (names: string[], timeoutMs: number) => {
    const end = Date.now() + timeoutMs;
    while (names.some((n) => !running.has(n))) {
      if (Date.now() > end) throw new Error(`pods not Running after ${timeoutMs / 1000}s: ${names.filter((n) => !running.has(n)).join(', ')}\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  let result: Record<string, unknown> | undefined;
  try {
    const nodeReadyMs = await waitNodeReady(admin, nodeName, () => out);
    await new Promise((r) => setTimeout(r, 3000));
    const idle = await usage(kubelet.pid!, WINDOW_MS);

    const single: number[] = [];
    for (let i = 0; i < singles; i++) {
      const name = `single-${i}`;
      const s = performance.now();
      await admin.create(PODS, podObject(name));
      await waitRunning([name], 60_000);
      single.push(running.get(name)! - s);
    }
    await Promise.all(Array.from({ length: singles }, (_, i) => admin.delete({ ...PODS, name: `single-${i}` }, { gracePeriodSeconds: 0 }).catch(() => {})));
    await new Promise((r) => setTimeout(r, 3000));

    const names = Array.from({ length: burst }, (_, i) => `burst-${i}`);
    const starts = new Map<string, number>();
    let perf: PerfCpu | undefined;
    if (argv.includes('--perf') && perfAvailable()) {
      const roots = new Map([[kubelet.pid!, 'kubelet (node)'], [cluster.proc.pid!, 'control plane (node)'], [process.pid, 'bench client (node)']]);
      perf = await startPerfCpu(roots, path.join(tmpdir(), `mzkb-perf-${id}.data`));
    }
    await Promise.all(
      names.map(async (name) => {
        starts.set(name, performance.now());
        await admin.create(PODS, podObject(name));
      }),
    );
    await waitRunning(names, 120_000).catch(async (e) => {
      await perf?.stop().catch(() => undefined);
      throw e;
    });
    const cpu = await perf?.stop();
    const burstMs = names.map((n) => running.get(n)! - starts.get(n)!);
    // Idle with the pods running: after the burst's status writes and events have settled.
    await new Promise((r) => setTimeout(r, 30_000));
    const withPods = await usage(kubelet.pid!, WINDOW_MS);

    const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
    const r = (x: number) => Math.round(x);
    result = {
        bench: 'pod-startup',
        nodeReadyMs,
        single: { pods: singles, p50Ms: r(percentile(sorted(single), 50)), p99Ms: r(percentile(sorted(single), 99)) },
        burst: { pods: burst, p50Ms: r(percentile(sorted(burstMs), 50)), p99Ms: r(percentile(sorted(burstMs), 99)), wallMs: r(Math.max(...names.map((n) => running.get(n)!)) - Math.min(...starts.values())) },
        kubelet: { idle, [`with${burst}Pods`]: withPods },
        targets: { singleP50Ms: 500, burstP99Ms: 3000, kubeletRssMB: 60, kubeletIdleCpuPercent: 1, upstreamSloP99Ms: 5000 },
        ...(cpu ? { burstCpu: { ...cpu, perPodMs: Math.round(cpu.totalMs / burst) } } : {}),
        ...(traceFile ? { burstSteps: burstSteps(traceFile, names, starts, bound, running), traceFile } : {}),
        loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
    };
    await Promise.all(names.map((name) => admin.delete({ ...PODS, name }, { gracePeriodSeconds: 0 }).catch(() => {})));
  } finally {
    watch.abort();
    admin.close();
    const exited = new Promise((res) => kubelet.once('exit', res));
    kubelet.kill('SIGTERM');
    await Promise.race([exited, new Promise((res) => setTimeout(res, 60_000))]);
    await cleanupLocalNode({ dataDir: path.join(nodeDir, 'data'), bridge, cgroupRoot, ...cidrs }).catch(() => {});
    rmSync(nodeDir, { recursive: true, force: true });
    await cluster.stop();
  }
  if (!argv.includes('--no-up')) result = { ...result, up: await upIdle(bin, cidrs), loadavgAfterUp: loadavg().map((l) => Math.round(l * 100) / 100) };
  console.log(JSON.stringify(result));
}

async function upOnly(argv: string[]): Promise<void> {
  const bins = argv.flatMap((a, i) => (a === '--bin' ? [path.resolve(argv[i + 1]!)] : []));
  if (!bins.length) bins.push(path.join(repo, 'bin/mizzen.js'));
  const cidrs = await pickTestCidrs();
  for (let round = 0; round < arg(argv, '--rounds', 1); round++) {
    for (const bin of round % 2 ? [...bins].reverse() : bins) {
      const loadBefore = loadavg().map((l) => Math.round(l * 100) / 100);
      const up = await upIdle(bin, cidrs).catch((e) => ({ error: (e as Error).message.slice(0, 2000) }));
      console.log(JSON.stringify({ bench: 'pod-startup', upOnly: true, bin, round, up, loadBefore, loadAfter: loadavg().map((l) => Math.round(l * 100) / 100) }));
    }
  }
}

/**
 * The whole `mizzen up` (control plane and its local node, cluster DNS on, no service proxy)
 * idle: 20 s after its ready line (printed once the node is Ready), over 20 s. Its containerd
 * (a child process) is reported apart.
 */
async function upIdle(bin: string, cidrs: TestCidrs) {
  const id = randomBytes(3).toString('hex');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mzkb-up-'));
  const bridge = `mzku${id}`;
  const cgroupRoot = `/mizzen-bench-up-${id}`;
  const up = spawn(
    bin,
    ['up', '--data-dir', dataDir, '--port', String(await freePort()), '--kubelet-port', String(await freePort()), '--node-name', `bench-up-${id}`, '--pod-bridge', bridge,
      '--cgroup-root', cgroupRoot, '--no-service-proxy', '--cluster-cidr', cidrs.clusterCIDR, '--service-cluster-ip-range', cidrs.serviceCIDR],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`mizzen up not ready after 180s:\n${out}`)), 180_000);
      const onData = (d: Buffer) => {
        out += d;
        if (out.includes('is ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      up.stdout!.on('data', onData);
      up.stderr!.on('data', onData);
      up.once('exit', (code) => reject(new Error(`mizzen up exited with ${code}:\n${out}`)));
    });
    if (!/node \S+ is Ready/.test(out)) return { skipped: `the local node did not become Ready: ${out.split('\n').filter((l) => /node/.test(l)).slice(-2).join(' / ')}` };
    await new Promise((r) => setTimeout(r, 20_000));
    const containerd = childPids(up.pid!).find((p) => /containerd$/.test(readFileSync(`/proc/${p}/comm`, 'utf8').trim()));
    const [mizzen, rt] = await Promise.all([usage(up.pid!, WINDOW_MS), containerd ? usage(containerd, WINDOW_MS) : undefined]);
    return { mizzen: { ...mizzen, byMapping: rssByMapping(up.pid!) }, containerd: rt, target: { rssMB: 150 } };
  } finally {
    const exited = new Promise((res) => up.once('exit', res));
    up.kill('SIGTERM');
    await Promise.race([exited, new Promise((res) => setTimeout(res, 60_000))]);
    await cleanupLocalNode({ dataDir, bridge, cgroupRoot, ...cidrs }).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/**
 * For the burst: ms from each pod's create request to the first time each step was reached
 * (bound and running as the bench's watch saw them, the rest from the kubelet's trace file):
 * median and max over the pods.
 */
function burstSteps(file: string, names: string[], starts: Map<string, number>, bound: Map<string, number>, running: Map<string, number>) {
  const at = new Map<string, Map<string, number>>(names.map((n) => [n, new Map()]));
  const origin = performance.timeOrigin;
  for (const n of names) {
    at.get(n)!.set('bound-seen', bound.get(n)! + origin);
    at.get(n)!.set('running-seen', running.get(n)! + origin);
  }
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d+) default\/(\S+) (.+)$/.exec(line);
    const steps = m && at.get(m[2]);
    if (steps && !steps.has(m![3])) steps.set(m![3], Number(m![1]));
  }
  const out: Record<string, { p50Ms: number; maxMs: number }> = {};
  const stepNames = [...new Set(names.flatMap((n) => [...at.get(n)!.keys()]))];
  for (const step of stepNames) {
    const d = names.filter((n) => at.get(n)!.has(step)).map((n) => at.get(n)!.get(step)! - (starts.get(n)! + origin)).sort((a, b) => a - b);
    out[step] = { p50Ms: Math.round(percentile(d, 50)), maxMs: Math.round(d[d.length - 1]) };
  }
  return Object.fromEntries(Object.entries(out).sort((a, b) => a[1].p50Ms - b[1].p50Ms));
}
