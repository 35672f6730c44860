// The node's own usage, from the root cgroup and /proc (what cAdvisor reports for the "/"
// container): cumulative CPU time, memory working set, processes, and a process's own cgroup
// usage (the kubelet's and the runtime's system containers).

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readMeminfo } from '../node/machine-info.ts';

const CGROUP_ROOT = '/sys/fs/cgroup';

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** True on the unified hierarchy (cgroup v2 only). */
export function isCgroupV2(): boolean {
  return read(join(CGROUP_ROOT, 'cgroup.controllers')) !== undefined;
}

function statFile(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.split(/\s+/);
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

/** Cumulative CPU time of a cgroup ('/' = the node) in nanoseconds, or undefined when unreadable. */
export function cgroupCpuUsageNs(path: string): number | undefined {
  if (isCgroupV2()) {
    const s = statFile(read(join(CGROUP_ROOT, path, 'cpu.stat')));
    if (s.usage_usec !== undefined) return s.usage_usec * 1000;
    if (path === '/') return procStatCpuNs();
    return undefined;
  }
  const v = read(join(CGROUP_ROOT, 'cpuacct', path, 'cpuacct.usage'));
  return v === undefined ? (path === '/' ? procStatCpuNs() : undefined) : Number(v.trim());
}

/** Busy CPU time of the whole machine from /proc/stat (everything but idle and iowait). */
export function procStatCpuNs(text = read('/proc/stat') ?? ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy * 10_000_000; // USER_HZ is 100 on Linux
}

export interface MemoryStats {
  usageBytes: number;
  workingSetBytes: number;
  rssBytes: number;
  availableBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

/** The node's memory as cAdvisor computes it for "/": usage minus inactive file pages is the working set. */
export function nodeMemory(capacityBytes?: number): MemoryStats {
  const m = readMeminfo();
  const total = capacityBytes ?? m.MemTotal ?? 0;
  const usage = Math.max(0, total - (m.MemFree ?? 0));
  const workingSet = Math.max(0, usage - (m['Inactive(file)'] ?? 0));
  const vm = statFile(read('/proc/vmstat'));
  return {
    usageBytes: usage,
    workingSetBytes: workingSet,
    rssBytes: m.AnonPages ?? 0,
    availableBytes: Math.max(0, total - workingSet),
    pageFaults: vm.pgfault,
    majorPageFaults: vm.pgmajfault,
  };
}

/** A cgroup's memory (v1 or v2), or undefined when it does not exist. */
export function cgroupMemory(path: string): MemoryStats | undefined {
  if (isCgroupV2()) {
    const cur = read(join(CGROUP_ROOT, path, 'memory.current'));
    if (cur === undefined) return undefined;
    const s = statFile(read(join(CGROUP_ROOT, path, 'memory.stat')));
    const usage = Number(cur.trim());
    return { usageBytes: usage, workingSetBytes: Math.max(0, usage - (s.inactive_file ?? 0)), rssBytes: s.anon ?? 0, pageFaults: s.pgfault, majorPageFaults: s.pgmajfault };
  }
  const u = read(join(CGROUP_ROOT, 'memory', path, 'memory.usage_in_bytes'));
  if (u === undefined) return undefined;
  const s = statFile(read(join(CGROUP_ROOT, 'memory', path, 'memory.stat')));
  const usage = Number(u.trim());
  return {
    usageBytes: usage,
    workingSetBytes: Math.max(0, usage - (s.total_inactive_file ?? 0)),
    rssBytes: s.total_rss ?? 0,
    pageFaults: s.total_pgfault,
    majorPageFaults: s.total_pgmajfault,
  };
}

/** The cgroup (memory hierarchy, or the unified one) a process is in. */
export function processCgroup(pid: number | 'self' = 'self'): string {
  const lines = (read(`/proc/${pid}/cgroup`) ?? '').trim().split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes('memory'));
  const line = v1 ?? lines.find((l) => l.startsWith('0::'));
  return line?.split(':').slice(2).join(':') || '/';
}

/** A process's own CPU time (utime + stime) in nanoseconds and resident memory. */
export function processUsage(pid: number | 'self' = 'self'): { cpuNs: number; rssBytes: number } | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuNs = (Number(f[11]) + Number(f[12])) * 10_000_000;
  const status = read(`/proc/${pid}/status`) ?? '';
  const rss = /VmRSS:\s+(\d+) kB/.exec(status);
  return { cpuNs, rssBytes: rss ? Number(rss[1]) * 1024 : 0 };
}

/**
 * pid_max and the number of processes (for pid.available and the summary's rlimit): as upstream,
 * the kernel's count of tasks from /proc/loadavg's fourth field ("running/total"), which is what
 * exhausts pid_max (threads take pids too), instead of listing /proc (thousands of entries on a
 * busy machine, read every 10 s).
 */
export function processCounts(): { maxPid: number; processes: number } {
  const maxPid = Number(read('/proc/sys/kernel/pid_max')?.trim() ?? 32768);
  const total = /^\S+ \S+ \S+ \d+\/(\d+)/.exec(read('/proc/loadavg') ?? '')?.[1];
  if (total) return { maxPid, processes: Number(total) };
  let processes = 0;
  try {
    for (const e of readdirSync('/proc')) if (e.charCodeAt(0) >= 48 && e.charCodeAt(0) <= 57) processes++;
  } catch {
    /* no /proc */
  }
  return { maxPid, processes };
}

/** Network counters of the host's interfaces from /proc/net/dev. */
export function hostInterfaces(): { name: string; rxBytes: number; rxErrors: number; txBytes: number; txErrors: number }[] {
  const lines = (read('/proc/net/dev') ?? '').split('\n').slice(2);
  const out = [];
  for (const l of lines) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(l);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    out.push({ name: m[1]!, rxBytes: f[0]!, rxErrors: f[2]!, txBytes: f[8]!, txErrors: f[10]! });
  }
  return out;
}
