// The kubelet's stats Summary (upstream's stats/v1alpha1 `Summary`, served at /stats/summary):
// the node from its root cgroup, /proc and the root dir's filesystem; system containers (the
// kubelet, the runtime, the pods' parent cgroup); each pod and its running containers from CRI
// (ListPodSandboxStats, ListContainerStats: containerd reads the same cgroups cAdvisor would).

import { readFileSync } from 'node:fs';
import { rfc3339 } from '../../client/api-client.ts';
import type { CriClient } from '../cri/services.ts';
import type { ContainerStats, CpuUsage, MemoryUsage, FilesystemUsage, PodSandboxStats } from '../cri/types.ts';
import { fsInfo } from '../node/machine-info.ts';
import { cgroupCpuUsageNs, cgroupMemory, hostInterfaces, nodeMemory, processCounts, processUsage, type MemoryStats } from './host.ts';

export interface CPUStats {
  time: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds?: number;
}

export interface MemoryStatsJSON {
  time: string;
  availableBytes?: number;
  usageBytes?: number;
  workingSetBytes?: number;
  rssBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

export interface FsStats {
  time: string;
  availableBytes?: number;
  capacityBytes?: number;
  usedBytes?: number;
  inodesFree?: number;
  inodes?: number;
  inodesUsed?: number;
}

export interface ContainerStatsJSON {
  name: string;
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStatsJSON;
  rootfs?: FsStats;
  logs?: FsStats;
}

export interface PodStatsJSON {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerStatsJSON[];
  cpu?: CPUStats;
  memory?: MemoryStatsJSON;
  network?: Record<string, unknown>;
  'ephemeral-storage'?: FsStats;
  process_stats?: { process_count: number };
}

export interface Summary {
  node: {
    nodeName: string;
    systemContainers: ContainerStatsJSON[];
    startTime: string;
    cpu?: CPUStats;
    memory?: MemoryStatsJSON;
    network?: Record<string, unknown>;
    fs?: FsStats;
    runtime?: { imageFs?: FsStats; containerFs?: FsStats };
    rlimit?: { time: string; maxpid: number; curproc: number };
  };
  pods: PodStatsJSON[];
}

export interface SummaryOptions {
  nodeName: string;
  cri: CriClient;
  /** The kubelet's root dir (nodefs). */
  rootDir: string;
  /** Parent cgroup of every pod ('/kubepods'), reported as the "pods" system container. */
  podsCgroup?: string;
  /** The runtime's process, for the "runtime" system container. */
  runtimePid?: () => number | undefined;
  memoryCapacityBytes: number;
  /** When this kubelet started (the kubelet system container's startTime). */
  startedAt?: Date;
  now?: () => Date;
}

function ts(nanos: number | undefined, fallback: Date): string {
  return rfc3339(nanos ? new Date(Math.floor(nanos / 1e6)) : fallback);
}

/** When the machine booted (the node's startTime). */
function bootTime(): Date {
  try {
    const up = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return new Date(Date.now() - up * 1000);
  } catch {
    return new Date();
  }
}

/** Collects Summaries; keeps the previous CPU sample of each cgroup to give usageNanoCores. */
export class SummaryCollector {
  private prevCpu = new Map<string, { at: number; ns: number }>();
  private readonly bootedAt = bootTime();
  private readonly startedAt: Date;

  constructor(private readonly o: SummaryOptions) {
    this.startedAt = o.startedAt ?? new Date();
  }

  /** CPU stats of a cumulative counter, with the rate since the last sample of this key. */
  private cpu(key: string, ns: number | undefined, at: Date): CPUStats | undefined {
    if (ns === undefined) return undefined;
    const prev = this.prevCpu.get(key);
    const t = at.getTime();
    this.prevCpu.set(key, { at: t, ns });
    const out: CPUStats = { time: rfc3339(at), usageCoreNanoSeconds: ns };
    if (prev && t > prev.at && ns >= prev.ns) out.usageNanoCores = Math.round(((ns - prev.ns) / (t - prev.at)) * 1e6);
    return out;
  }

  private mem(m: MemoryStats | undefined, at: Date, limit?: number): MemoryStatsJSON | undefined {
    if (!m) return undefined;
    const out: MemoryStatsJSON = { time: rfc3339(at), usageBytes: m.usageBytes, workingSetBytes: m.workingSetBytes, rssBytes: m.rssBytes, pageFaults: m.pageFaults ?? 0, majorPageFaults: m.majorPageFaults ?? 0 };
    const avail = m.availableBytes ?? (limit !== undefined ? Math.max(0, limit - m.workingSetBytes) : undefined);
    if (avail !== undefined) out.availableBytes = avail;
    return out;
  }

  async summary(): Promise<Summary> {
    const now = this.o.now?.() ?? new Date();
    const at = rfc3339(now);
    const fs = fsInfo(this.o.rootDir);
    const fsJSON: FsStats = { time: at, availableBytes: fs.availableBytes, capacityBytes: fs.capacityBytes, usedBytes: fs.usedBytes, inodesFree: fs.inodesFree, inodes: fs.inodes, inodesUsed: fs.inodes - fs.inodesFree };
    const ifaces = hostInterfaces().filter((i) => i.name !== 'lo');
    const dflt = ifaces[0];
    const procs = processCounts();

    const systemContainers: ContainerStatsJSON[] = [];
    const self = processUsage('self');
    if (self) systemContainers.push({ name: 'kubelet', startTime: rfc3339(this.startedAt), cpu: this.cpu('sys/kubelet', self.cpuNs, now), memory: { time: at, usageBytes: self.rssBytes, workingSetBytes: self.rssBytes, rssBytes: self.rssBytes } });
    const rtPid = this.o.runtimePid?.();
    const rt = rtPid ? processUsage(rtPid) : undefined;
    if (rt) systemContainers.push({ name: 'runtime', startTime: rfc3339(this.startedAt), cpu: this.cpu('sys/runtime', rt.cpuNs, now), memory: { time: at, usageBytes: rt.rssBytes, workingSetBytes: rt.rssBytes, rssBytes: rt.rssBytes } });
    if (this.o.podsCgroup) {
      const pm = cgroupMemory(this.o.podsCgroup);
      const pc = cgroupCpuUsageNs(this.o.podsCgroup);
      if (pm || pc !== undefined) systemContainers.push({ name: 'pods', startTime: rfc3339(this.startedAt), cpu: this.cpu('sys/pods', pc, now), memory: this.mem(pm, now, this.o.memoryCapacityBytes) });
    }

    let imageFs: FsStats | undefined;
    try {
      const info = await this.o.cri.imageFsInfo({ timeoutMs: 5000 });
      const f = info.imageFilesystems[0];
      if (f) {
        const mount = f.fsId?.mountpoint;
        const cap = mount ? fsInfo(mount) : fs;
        imageFs = { time: ts(f.timestamp, now), availableBytes: cap.availableBytes, capacityBytes: cap.capacityBytes, usedBytes: f.usedBytes?.value ?? 0, inodesFree: cap.inodesFree, inodes: cap.inodes, inodesUsed: f.inodesUsed?.value ?? 0 };
      }
    } catch {
      /* runtime down: no imageFs */
    }

    return {
      node: {
        nodeName: this.o.nodeName,
        systemContainers,
        startTime: rfc3339(this.bootedAt),
        cpu: this.cpu('node', cgroupCpuUsageNs('/'), now),
        memory: this.mem(nodeMemory(this.o.memoryCapacityBytes), now),
        network: dflt ? { time: at, name: dflt.name, rxBytes: dflt.rxBytes, rxErrors: dflt.rxErrors, txBytes: dflt.txBytes, txErrors: dflt.txErrors, interfaces: ifaces } : undefined,
        fs: fsJSON,
        runtime: imageFs ? { imageFs, containerFs: imageFs } : undefined,
        rlimit: { time: at, maxpid: procs.maxPid, curproc: procs.processes },
      },
      pods: await this.pods(now, fs),
    };
  }

  private async pods(now: Date, rootFs: ReturnType<typeof fsInfo>): Promise<PodStatsJSON[]> {
    const cri = this.o.cri;
    let sandboxes, containers, cstats: ContainerStats[], pstats: PodSandboxStats[];
    try {
      // Unfiltered lists, filtered here: the CRI client answers those from its item cache (the
      // relist asks for them every second), a filtered list is decoded afresh each scrape.
      let all;
      [all, containers, cstats, pstats] = await Promise.all([
        cri.listPodSandbox(undefined, { timeoutMs: 10_000 }),
        cri.listContainers(undefined, { timeoutMs: 10_000 }).then((cs) => cs.filter((c) => c.state === 'CONTAINER_RUNNING')),
        cri.listContainerStats(undefined, { timeoutMs: 10_000 }),
        cri.listPodSandboxStats(undefined, { timeoutMs: 10_000 }).catch(() => [] as PodSandboxStats[]),
      ]);
      sandboxes = all.filter((sb) => sb.state === 'SANDBOX_READY');
    } catch {
      return [];
    }
    const statsById = new Map(cstats.filter((s) => s.attributes).map((s) => [s.attributes!.id, s]));
    const podStatsById = new Map(pstats.filter((s) => s.attributes).map((s) => [s.attributes!.id, s]));
    // One sandbox per pod: the newest ready one.
    const byUid = new Map<string, (typeof sandboxes)[number]>();
    for (const sb of sandboxes) {
      const uid = sb.metadata?.uid;
      if (!uid) continue;
      const prev = byUid.get(uid);
      if (!prev || prev.createdAt < sb.createdAt) byUid.set(uid, sb);
    }
    const out: PodStatsJSON[] = [];
    for (const sb of byUid.values()) {
      const md = sb.metadata!;
      const cs: ContainerStatsJSON[] = [];
      let cpuSum = 0;
      let memSum = 0;
      let haveCpu = false;
      let haveMem = false;
      for (const c of containers.filter((x) => x.podSandboxId === sb.id)) {
        const s = statsById.get(c.id);
        const name = c.metadata?.name ?? c.labels['io.kubernetes.container.name'] ?? c.id;
        const entry: ContainerStatsJSON = { name, startTime: ts(c.createdAt, now) };
        const cpu = criCpu(s?.cpu, now);
        if (cpu) {
          entry.cpu = cpu;
          cpuSum += cpu.usageCoreNanoSeconds ?? 0;
          haveCpu = true;
        }
        const mem = criMemory(s?.memory, now);
        if (mem) {
          entry.memory = mem;
          memSum += mem.workingSetBytes ?? 0;
          haveMem = true;
        }
        const rootfs = criFs(s?.writableLayer, now, rootFs);
        if (rootfs) entry.rootfs = rootfs;
        cs.push(entry);
      }
      const ps = podStatsById.get(sb.id)?.linux;
      const pod: PodStatsJSON = { podRef: { name: md.name, namespace: md.namespace, uid: md.uid }, startTime: ts(sb.createdAt, now), containers: cs };
      pod.cpu = criCpu(ps?.cpu, now) ?? (haveCpu ? { time: rfc3339(now), usageCoreNanoSeconds: cpuSum } : undefined);
      pod.memory = criMemory(ps?.memory, now) ?? (haveMem ? { time: rfc3339(now), workingSetBytes: memSum } : undefined);
      if (ps?.network?.defaultInterface) {
        const d = ps.network.defaultInterface;
        const iface = (i: typeof d) => ({ name: i.name, rxBytes: i.rxBytes?.value ?? 0, rxErrors: i.rxErrors?.value ?? 0, txBytes: i.txBytes?.value ?? 0, txErrors: i.txErrors?.value ?? 0 });
        pod.network = { time: ts(ps.network.timestamp, now), ...iface(d), interfaces: ps.network.interfaces.map(iface) };
      }
      if (ps?.process?.processCount) pod.process_stats = { process_count: ps.process.processCount.value };
      const used = cs.reduce((n, c) => n + (c.rootfs?.usedBytes ?? 0), 0);
      pod['ephemeral-storage'] = { time: rfc3339(now), availableBytes: rootFs.availableBytes, capacityBytes: rootFs.capacityBytes, usedBytes: used, inodesFree: rootFs.inodesFree, inodes: rootFs.inodes, inodesUsed: cs.reduce((n, c) => n + (c.rootfs?.inodesUsed ?? 0), 0) };
      out.push(pod);
    }
    return out;
  }
}

function criCpu(c: CpuUsage | null | undefined, now: Date): CPUStats | undefined {
  if (!c?.usageCoreNanoSeconds) return undefined;
  const out: CPUStats = { time: ts(c.timestamp, now), usageCoreNanoSeconds: c.usageCoreNanoSeconds.value };
  if (c.usageNanoCores) out.usageNanoCores = c.usageNanoCores.value;
  return out;
}

function criMemory(m: MemoryUsage | null | undefined, now: Date): MemoryStatsJSON | undefined {
  if (!m?.workingSetBytes) return undefined;
  const out: MemoryStatsJSON = { time: ts(m.timestamp, now), workingSetBytes: m.workingSetBytes.value };
  if (m.availableBytes) out.availableBytes = m.availableBytes.value;
  if (m.usageBytes) out.usageBytes = m.usageBytes.value;
  if (m.rssBytes) out.rssBytes = m.rssBytes.value;
  if (m.pageFaults) out.pageFaults = m.pageFaults.value;
  if (m.majorPageFaults) out.majorPageFaults = m.majorPageFaults.value;
  return out;
}

function criFs(f: FilesystemUsage | null | undefined, now: Date, fs: ReturnType<typeof fsInfo>): FsStats | undefined {
  if (!f) return undefined;
  return { time: ts(f.timestamp, now), availableBytes: fs.availableBytes, capacityBytes: fs.capacityBytes, usedBytes: f.usedBytes?.value ?? 0, inodesFree: fs.inodesFree, inodes: fs.inodes, inodesUsed: f.inodesUsed?.value ?? 0 };
}
