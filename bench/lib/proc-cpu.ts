// CPU time of processes and threads from /proc, for "CPU per operation" figures: on a machine with
// few cores, the sum over every process of the CPU one operation costs bounds the rate
// (cores × 1000 ms / that sum), whatever the latency, so it is the figure that load from other
// work does not distort much.

import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** The fields of a /proc stat line after the command name (which may hold spaces): [0] is field 3, state. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a /proc stat line, in ms (fields 14 and 15). */
function statCpuMs(stat: string): number {
  const f = statFields(stat);
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

/** CPU ms a process has used so far (all its threads). */
export function processCpuMs(pid: number): number {
  return statCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** CPU ms used by the reaped children of this process (cutime + cstime): the short-lived client programs. */
export function reapedChildrenCpuMs(): number {
  const f = statFields(readFileSync('/proc/self/stat', 'utf8'));
  return (Number(f[13]) + Number(f[14])) * TICK_MS;
}

/** Each thread's id and /proc stat line (threads that end meanwhile left out). */
function threadStats(pid: number): [number, string][] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: [number, string][] = [];
  for (const tid of tids) {
    try {
      out.push([Number(tid), readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')]);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** CPU ms per thread name (threads of one name summed: libuv's pool, V8's GC helpers). */
export function threadCpuMs(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [tid, stat] of threadStats(pid)) {
    const name = tid === pid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).trim();
    out[name] = (out[name] ?? 0) + statCpuMs(stat);
  }
  return out;
}

/** CPU ms per thread id (the main thread's id is the pid), for telling threads of one name apart. */
export function threadCpuMsById(pid: number): Map<number, number> {
  return new Map(threadStats(pid).map(([tid, stat]) => [tid, statCpuMs(stat)]));
}

/** Each thread's name by id (e.g. the main thread's, a worker's, libuv's pool, V8's helpers). */
export function threadNamesById(pid: number): Map<number, string> {
  return new Map(threadStats(pid).map(([tid, stat]) => [tid, stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).trim()]));
}

/** Difference of two threadCpuMs() samples, per operation, in ms (threads that used none left out). */
export function perOpByThread(before: Record<string, number>, after: Record<string, number>, ops: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) out[k] = +(d / ops).toFixed(3);
  }
  return out;
}
