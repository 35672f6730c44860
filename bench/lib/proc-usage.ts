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
 * (shared libraries, ICU data, a mapped database), the main malloc heap, the malloc arenas of the
 * other threads (glibc maps each as a 64 MB-aligned region of 64 MB, partly accessible), thread
 * stacks, and the rest of the anonymous memory (V8's heap pages, its code range, large mallocs
 * served by mmap); with the thread count and the number of arenas.
 */
export function rssByMapping(pid: number): { nodeBinaryMB: number; filesMB: number; mallocHeapMB: number; arenasMB: number; stacksMB: number; anonMB: number; threads: number; arenas: number } {
  const maps: { start: number; end: number; perms: string; name: string; rssKB: number }[] = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) maps.push({ start: parseInt(head[1], 16), end: parseInt(head[2], 16), perms: head[3], name: head[4], rssKB: 0 });
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && maps.length) maps[maps.length - 1].rssKB = Number(rss[1]);
  }
  // A glibc arena: 64 MB reserved at a 64 MB boundary, its used part readable and writable, the
  // rest inaccessible (so: anonymous mappings that tile exactly [start, start + 64 MB), the first
  // rw at the boundary, the last one the inaccessible rest unless the arena is full). V8's own
  // 256 KB pages land on such a boundary by chance only, without such a tail.
  const ARENA = 64 * 1024 * 1024;
  const inArena = new Set<number>();
  let arenas = 0;
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i];
    if (m.name !== '' || m.start % ARENA !== 0 || !m.perms.startsWith('rw')) continue;
    let j = i;
    while (j + 1 < maps.length && maps[j + 1].name === '' && maps[j + 1].start === maps[j].end && maps[j].end < m.start + ARENA) j++;
    if (maps[j].end !== m.start + ARENA || (j > i ? !maps[j].perms.startsWith('---') : false)) continue;
    arenas++;
    for (let k = i; k <= j; k++) inArena.add(k);
  }
  const sums = { nodeBinaryMB: 0, filesMB: 0, mallocHeapMB: 0, arenasMB: 0, stacksMB: 0, anonMB: 0 };
  maps.forEach((m, i) => {
    const name = m.name;
    const kind: keyof typeof sums = inArena.has(i)
      ? 'arenasMB'
      : name === '[stack]' || name.startsWith('[stack:')
        ? 'stacksMB'
        : name === '' || name.startsWith('[anon')
          ? 'anonMB'
          : name === '[heap]'
            ? 'mallocHeapMB'
            : name === process.execPath || /\/node$/.test(name)
              ? 'nodeBinaryMB'
              : name.startsWith('/')
                ? 'filesMB'
                : 'anonMB';
    sums[kind] += m.rssKB / 1024;
  });
  const threads = Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { nodeBinaryMB: mb(sums.nodeBinaryMB), filesMB: mb(sums.filesMB), mallocHeapMB: mb(sums.mallocHeapMB), arenasMB: mb(sums.arenasMB), stacksMB: mb(sums.stacksMB), anonMB: mb(sums.anonMB), threads, arenas };
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
