// Requests and limits as cgroup settings (upstream kuberuntime_container_linux.go and
// cm/helpers_linux.go): cpu shares from the request, CFS quota from the limit, memory limit,
// oom_score_adj from the QoS class; and the pod's cgroup parent under /kubepods.

import { parseQuantity, quantityToMilli, quantityValue } from '../../machinery/quantity.ts';
import type { Container, Pod, ResourceList } from './api-types.ts';
import type { LinuxContainerResources } from './cri-types.ts';
import { containerOOMScoreAdjust, podQOS } from './qos.ts';

export const MIN_SHARES = 2;
export const MAX_SHARES = 262144;
export const SHARES_PER_CPU = 1024;
/** CFS period in µs (100 ms), and the smallest quota the kernel accepts (1 ms). */
export const QUOTA_PERIOD = 100_000;
export const MIN_QUOTA_PERIOD = 1000;

export function milliCPUToShares(milliCPU: number): number {
  if (milliCPU === 0) return MIN_SHARES;
  const shares = Math.trunc((milliCPU * SHARES_PER_CPU) / 1000);
  return Math.min(Math.max(shares, MIN_SHARES), MAX_SHARES);
}

/** 0 (no quota) without a limit; at least MIN_QUOTA_PERIOD otherwise. */
export function milliCPUToQuota(milliCPU: number, period = QUOTA_PERIOD): number {
  if (milliCPU === 0) return 0;
  const quota = Math.trunc((milliCPU * period) / 1000);
  return Math.max(quota, MIN_QUOTA_PERIOD);
}

function milli(v: string | number | undefined): number {
  return v === undefined ? 0 : quantityToMilli(parseQuantity(String(v)));
}

function value(v: string | number | undefined): number {
  return v === undefined ? 0 : quantityValue(parseQuantity(String(v)));
}

export interface LinuxResourceOptions {
  /** Enforce CPU limits with CFS quota (the kubelet's --cpu-cfs-quota, default true). */
  cpuCFSQuota?: boolean;
  cpuCFSQuotaPeriod?: number;
}

/** cpu request (if set), cpu limit and memory limit → shares, quota/period, memory bytes. */
export function linuxResources(cpuRequestMilli: number | undefined, cpuLimitMilli: number, memoryLimit: number, opts: LinuxResourceOptions = {}): LinuxContainerResources {
  const r: LinuxContainerResources = {};
  // A limit without a request means request = limit (the API server defaults it; older objects may not be).
  r.cpuShares = milliCPUToShares(cpuRequestMilli === undefined ? cpuLimitMilli : cpuRequestMilli);
  if (memoryLimit !== 0) r.memoryLimitInBytes = memoryLimit;
  if (opts.cpuCFSQuota ?? true) {
    const period = opts.cpuCFSQuotaPeriod ?? QUOTA_PERIOD;
    r.cpuQuota = milliCPUToQuota(cpuLimitMilli, period);
    r.cpuPeriod = period;
  }
  return r;
}

/** 2Mi → "2MB", 1Gi → "1GB": the page size names the runtime expects (upstream HugePageUnitSizeFromByteSize). */
export function hugePageUnitSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let size = bytes;
  while (size >= 1024 && size % 1024 === 0 && i < units.length - 1) {
    size /= 1024;
    i++;
  }
  return `${size}${units[i]}`;
}

function hugepageLimits(limits: ResourceList | undefined): { pageSize: string; limit: number }[] | undefined {
  const out: { pageSize: string; limit: number }[] = [];
  for (const [name, v] of Object.entries(limits ?? {})) {
    if (!name.startsWith('hugepages-')) continue;
    try {
      out.push({ pageSize: hugePageUnitSize(value(name.slice('hugepages-'.length))), limit: value(v) });
    } catch {
      // not a valid page size: the API server would not have accepted it
    }
  }
  return out.length ? out : undefined;
}

export interface ContainerResourceOptions extends LinuxResourceOptions {
  /** The node's memory capacity in bytes (for the Burstable oom_score_adj formula). */
  memoryCapacity: number;
}

/** LinuxContainerResources for one container (generateLinuxContainerResources). */
export function containerLinuxResources(pod: Pod, container: Container, opts: ContainerResourceOptions): LinuxContainerResources {
  const req = container.resources?.requests;
  const lim = container.resources?.limits;
  const r = linuxResources(req?.cpu !== undefined ? milli(req.cpu) : undefined, milli(lim?.cpu), value(lim?.memory), opts);
  r.oomScoreAdj = containerOOMScoreAdjust(pod, container, opts.memoryCapacity);
  const huge = hugepageLimits(lim);
  if (huge) r.hugepageLimits = huge;
  return r;
}

type Totals = Map<string, number>;

function add(into: Totals, list: ResourceList | undefined, amount: (v: string | number) => number, names: string[]): void {
  for (const n of names) if (list?.[n] !== undefined) into.set(n, (into.get(n) ?? 0) + amount(list[n]));
}

/**
 * Pod-level amounts as upstream's resource helpers compute them: regular containers and sidecars
 * summed, the largest init container (plus the sidecars started before it) if larger. A resource
 * no container sets is absent from the result.
 */
export function podAmounts(pod: Pod, kind: 'requests' | 'limits'): { cpuMilli?: number; memory?: number } {
  const names = ['cpu', 'memory'];
  const amount = (n: string) => (v: string | number) => (n === 'cpu' ? milli(v) : value(v));
  const sum: Totals = new Map();
  for (const c of pod.spec.containers ?? []) for (const n of names) add(sum, c.resources?.[kind], amount(n), [n]);
  const sidecars: Totals = new Map();
  const initMax: Totals = new Map();
  for (const c of pod.spec.initContainers ?? []) {
    const own: Totals = new Map();
    for (const n of names) add(own, c.resources?.[kind], amount(n), [n]);
    let effective: Totals;
    if (c.restartPolicy === 'Always') {
      for (const [n, v] of own) {
        sum.set(n, (sum.get(n) ?? 0) + v);
        sidecars.set(n, (sidecars.get(n) ?? 0) + v);
      }
      effective = sidecars;
    } else {
      effective = new Map(own);
      for (const [n, v] of sidecars) effective.set(n, (effective.get(n) ?? 0) + v);
    }
    for (const [n, v] of effective) initMax.set(n, Math.max(initMax.get(n) ?? 0, v));
  }
  for (const [n, v] of initMax) sum.set(n, Math.max(sum.get(n) ?? 0, v));
  return { cpuMilli: sum.get('cpu'), memory: sum.get('memory') };
}

/** The pod's memory limit if every container sets one (what a pod cgroup would enforce), else undefined. */
export function podMemoryLimit(pod: Pod): number | undefined {
  const all = [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])];
  if (!all.length || all.some((c) => value(c.resources?.limits?.memory) === 0)) return undefined;
  return podAmounts(pod, 'limits').memory;
}

/** LinuxPodSandboxConfig.resources: the pod's totals without overhead (calculateSandboxResources). */
export function sandboxLinuxResources(pod: Pod, opts: LinuxResourceOptions = {}): LinuxContainerResources {
  const req = podAmounts(pod, 'requests');
  const lim = podAmounts(pod, 'limits');
  return linuxResources(req.cpuMilli, lim.cpuMilli ?? 0, lim.memory ?? 0, opts);
}

/** LinuxPodSandboxConfig.overhead from spec.overhead, or undefined. */
export function sandboxOverhead(pod: Pod, opts: LinuxResourceOptions = {}): LinuxContainerResources | undefined {
  const o = pod.spec.overhead;
  if (!o) return undefined;
  return linuxResources(o.cpu !== undefined ? milli(o.cpu) : undefined, milli(o.cpu), value(o.memory), opts);
}

export type CgroupDriver = 'cgroupfs' | 'systemd';

/**
 * The pod's cgroup parent as the runtime wants it: cgroupfs `/kubepods/burstable/pod<uid>`,
 * `/kubepods/besteffort/pod<uid>` or `/kubepods/pod<uid>` (Guaranteed); systemd the slice name
 * `kubepods-burstable-pod<uid with _>.slice`.
 */
export function podCgroupParent(pod: Pod, driver: CgroupDriver = 'cgroupfs'): string {
  const qos = podQOS(pod);
  const uid = pod.metadata.uid ?? '';
  const tier = qos === 'Guaranteed' ? [] : [qos.toLowerCase()];
  if (driver === 'systemd') return ['kubepods', ...tier, `pod${uid.replace(/-/g, '_')}`].join('-') + '.slice';
  return ['', 'kubepods', ...tier, `pod${uid}`].join('/');
}
