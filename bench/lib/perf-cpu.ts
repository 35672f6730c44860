// CPU time by process while something runs, for the processes descended from given roots: a
// system-wide `perf record` (cpu-clock, one sample per ms of CPU) with fork events, so that
// short-lived children (runc, CNI plugins, iptables, mount) are counted under what they are even
// after they exited or were re-parented. Used by `pod-startup --perf` to say where a burst's CPU
// goes; other helpers' processes on the machine land in `outsideMs`, never in the breakdown.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export interface PerfCpuResult {
  /** ms of CPU per process kind (roots by their label, descendants by normalized command name). */
  byProcess: Record<string, number>;
  /** ms of CPU of everything under the roots. */
  totalMs: number;
  /** ms of CPU of everything else on the machine in the same window (kernel threads, other work). */
  outsideMs: number;
  /** ms the CPUs were idle in the window. */
  idleMs: number;
  wallMs: number;
}

export interface PerfCpu {
  stop(): Promise<PerfCpuResult>;
}

/** Command names grouped as one kind (runc's re-exec stages, the iptables front-ends). */
export function processKind(comm: string): string {
  if (/^runc:\[/.test(comm) || /^memfd:/.test(comm)) return 'runc init';
  if (/^(iptables|ip6tables|xtables)/.test(comm)) return 'iptables';
  if (/^containerd-shim/.test(comm)) return 'containerd-shim-runc-v2';
  return comm;
}

/** Whether perf can sample the whole machine here (installed, and allowed for this user). */
export function perfAvailable(): boolean {
  return spawnSync('perf', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Starts sampling; roots maps a pid to its label (e.g. the kubelet's pid to 'kubelet (node)'). */
export async function startPerfCpu(roots: Map<number, string>, dataFile: string): Promise<PerfCpu> {
  const t0 = performance.now();
  const perf: ChildProcess = spawn('perf', ['record', '-a', '-e', 'cpu-clock', '-c', '1000000', '-o', dataFile, '--', 'sleep', '3600'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  perf.stderr!.on('data', (d) => (err += d));
  await new Promise((r) => setTimeout(r, 500)); // perf synthesizes the existing processes first
  return {
    async stop() {
      const wallMs = performance.now() - t0;
      const exited = new Promise((r) => perf.once('exit', r));
      perf.kill('SIGINT');
      await exited;
      const out = spawnSync('perf', ['script', '-i', dataFile, '--show-task-events', '-F', 'comm,pid'], { encoding: 'utf8', maxBuffer: 1 << 30 });
      rmSync(dataFile, { force: true });
      if (out.status !== 0) throw new Error(`perf script failed: ${out.stderr || err}`);
      return attribute(out.stdout, roots, wallMs);
    },
  };
}

/** perf script output (samples and task events) → ms per process kind under the roots. */
export function attribute(script: string, roots: Map<number, string>, wallMs: number): PerfCpuResult {
  const parent = new Map<number, number>();
  const samples = new Map<string, number>(); // `${pid} ${comm}` → count
  for (const line of script.split('\n')) {
    const fork = /PERF_RECORD_FORK\((\d+):\d+\):\((\d+):\d+\)/.exec(line);
    if (fork) {
      if (fork[1] !== fork[2]) parent.set(Number(fork[1]), Number(fork[2]));
      continue;
    }
    if (line.includes('PERF_RECORD_')) continue;
    const m = /^\s*(.*?)\s+(\d+)\s*$/.exec(line);
    if (m) samples.set(`${m[2]} ${m[1]}`, (samples.get(`${m[2]} ${m[1]}`) ?? 0) + 1);
  }
  const rootOf = (pid: number): number | undefined => {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = parent.get(p), hops++) if (roots.has(p)) return p;
    return undefined;
  };
  const byProcess: Record<string, number> = {};
  let totalMs = 0;
  let outsideMs = 0;
  let idleMs = 0;
  for (const [key, n] of samples) {
    const sp = key.indexOf(' ');
    const pid = Number(key.slice(0, sp));
    const root = rootOf(pid);
    if (pid === 0) {
      idleMs += n;
      continue;
    }
    if (root === undefined) {
      outsideMs += n;
      continue;
    }
    const kind = pid === root ? roots.get(root)! : processKind(key.slice(sp + 1));
    byProcess[kind] = (byProcess[kind] ?? 0) + n;
    totalMs += n;
  }
  const sorted = Object.fromEntries(Object.entries(byProcess).sort((a, b) => b[1] - a[1]));
  return { byProcess: sorted, totalMs, outsideMs, idleMs, wallMs: Math.round(wallMs) };
}
