// CPU and memory of another process, from /proc: for benchmarks that measure a child (the kubelet,
// `mizzen up`) from outside, as `ps`/`top` would.

import { readdirSync, readFileSync } from 'node:fs';
import { processCpuMs } from './proc-cpu.ts';

export interface ProcSample {
  /** user + system CPU time so far, ns */
  cpuNs: number;
  rssMB: number;
  /** RSS minus pages shared with other processes (Private_Clean + Private_Dirty) */
  privateMB: number;
}

export function procSample(pid: number): ProcSample {
  const cpuNs = processCpuMs(pid) * 1e6;
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kB = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
  return { cpuNs, rssMB: kB('Rss') / 1024, privateMB: (kB('Private_Clean') + kB('Private_Dirty')) / 1024 };
}

const mb = (x: number) => Math.round(x * 10) / 10;

/** CPU (% of one core) over a window, RSS and private memory (MB, the last sample) of a process. */
export async function usage(pid: number, ms: number): Promise<{ cpuPercent: number; rssMB: number; privateMB: number }> {
  const a = procSample(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const b = procSample(pid);
  return { cpuPercent: Math.round(((b.cpuNs - a.cpuNs) / 1e6 / (performance.now() - t0)) * 1000) / 10, rssMB: mb(b.rssMB), privateMB: mb(b.privateMB) };
}

/**
 * RSS by kind of mapping (MB), from /proc/PID/smaps: the node binary's pages, other files
 * (shared libraries, ICU data), the malloc heap, and anonymous memory (V8's heap pages, thread
 * stacks, malloc arenas of other threads); with the thread count.
 */
export function rssByMapping(pid: number): { nodeBinaryMB: number; filesMB: number; mallocHeapMB: number; anonMB: number; threads: number } {
  const text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const sums = { nodeBinaryMB: 0, filesMB: 0, mallocHeapMB: 0, anonMB: 0 };
  let kind: keyof typeof sums = 'anonMB';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1];
      kind = name === '' || name.startsWith('[anon') || name === '[stack]' ? 'anonMB' : name === '[heap]' ? 'mallocHeapMB' : name === process.execPath || /\/node$/.test(name) ? 'nodeBinaryMB' : name.startsWith('/') ? 'filesMB' : 'anonMB';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) sums[kind] += Number(rss[1]) / 1024;
  }
  const threads = Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { nodeBinaryMB: mb(sums.nodeBinaryMB), filesMB: mb(sums.filesMB), mallocHeapMB: mb(sums.mallocHeapMB), anonMB: mb(sums.anonMB), threads };
}

/** CPU time so far (ns, from schedstat) of each thread of a process, by thread id, with its name. */
function threadTimes(pid: number): Map<string, { name: string; ns: number }> {
  const out = new Map<string, { name: string; ns: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      out.set(tid, { name: readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim(), ns });
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

export interface CpuTimeline {
  seconds: number;
  /** % of one core over the whole timeline, all threads. */
  cpuPercent: number;
  /** % of one core by thread name (threads of one name summed: `libuv-worker`, `V8 DefaultWorke`). */
  byThread: Record<string, number>;
  /** The main thread's CPU in each second (ms): periodic work shows as a pattern. */
  mainMsPerSecond: number[];
  /** The other threads' CPU in each second (ms). */
  otherMsPerSecond: number[];
}

/**
 * Samples a process's per-thread CPU (schedstat, ns) every second for `seconds`: where an idle
 * process's CPU goes over time (a 20 s average hides a job every 10 or 60 s).
 */
export async function cpuTimeline(pid: number, seconds: number): Promise<CpuTimeline> {
  const main = String(pid);
  let prev = threadTimes(pid);
  const t0 = performance.now();
  const first = prev;
  const mainMs: number[] = [];
  const otherMs: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = threadTimes(pid);
    let m = 0;
    let o = 0;
    for (const [tid, t] of now) {
      const d = (t.ns - (prev.get(tid)?.ns ?? 0)) / 1e6;
      if (tid === main) m += d;
      else o += d;
    }
    mainMs.push(Math.round(m * 10) / 10);
    otherMs.push(Math.round(o * 10) / 10);
    prev = now;
  }
  const wallMs = performance.now() - t0;
  const byThread: Record<string, number> = {};
  let total = 0;
  for (const [tid, t] of prev) {
    const d = (t.ns - (first.get(tid)?.ns ?? 0)) / 1e6;
    const name = tid === main ? 'main' : t.name;
    byThread[name] = (byThread[name] ?? 0) + d;
    total += d;
  }
  for (const k of Object.keys(byThread)) byThread[k] = Math.round((byThread[k]! / wallMs) * 1000) / 10;
  return { seconds, cpuPercent: Math.round((total / wallMs) * 1000) / 10, byThread, mainMsPerSecond: mainMs, otherMsPerSecond: otherMs };
}
