// CPU and memory of another process, from /proc: for benchmarks that measure a child (the kubelet,
// `mizzen up`) from outside, as `ps`/`top` would.

import { readFileSync } from 'node:fs';
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
