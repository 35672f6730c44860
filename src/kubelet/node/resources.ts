// A real node's capacity and allocatable, as upstream's kubelet computes them:
//   capacity     cpu (logical CPUs), memory (MemTotal), ephemeral-storage (the root dir's
//                filesystem), hugepages-<size>, pods (110 by default)
//   allocatable  capacity − kube-reserved − system-reserved − the hard eviction threshold
//                (memory.available 100Mi, nodefs.available 10 %), and memory also − huge pages.

import { Quantity, parseQuantity, quantityFromInt, subtractQuantities, type QuantityFormat } from '../../machinery/quantity.ts';
import type { MachineInfo } from './machine-info.ts';

export const DEFAULT_MAX_PODS = 110;

/** Upstream's default --eviction-hard on Linux. */
export const DEFAULT_EVICTION_HARD: Readonly<Record<string, string>> = Object.freeze({
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
  'imagefs.inodesFree': '5%',
});

export interface ResourceOptions {
  maxPods?: number;
  /** --kube-reserved / --system-reserved: `cpu=100m,memory=256Mi,ephemeral-storage=1Gi`. */
  kubeReserved?: Record<string, string>;
  systemReserved?: Record<string, string>;
  /** --eviction-hard (signal → quantity or percentage); default DEFAULT_EVICTION_HARD. */
  evictionHard?: Record<string, string>;
}

function q(bytes: number, format: QuantityFormat = 'BinarySI'): Quantity {
  return quantityFromInt(Math.max(0, Math.floor(bytes)), format);
}

export function nodeCapacity(m: MachineInfo, o: ResourceOptions = {}): Record<string, Quantity> {
  const cap: Record<string, Quantity> = {
    cpu: quantityFromInt(m.cpus),
    'ephemeral-storage': q(m.rootFs.capacityBytes),
    memory: q(m.memoryBytes),
    pods: quantityFromInt(o.maxPods ?? DEFAULT_MAX_PODS),
  };
  for (const [size, bytes] of Object.entries(m.hugepages)) cap[`hugepages-${size}`] = q(bytes);
  return cap;
}

/** A threshold's amount against a capacity: `100Mi`, or `10%` of the capacity. */
export function thresholdAmount(value: string, capacity: Quantity): Quantity {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(value);
  if (pct) return new Quantity((capacity.nanos * BigInt(Math.round(Number(pct[1]) * 1000))) / 100_000n, capacity.format);
  return parseQuantity(value);
}

export function nodeAllocatable(capacity: Record<string, Quantity>, o: ResourceOptions = {}): Record<string, Quantity> {
  const eviction = o.evictionHard ?? DEFAULT_EVICTION_HARD;
  const out: Record<string, Quantity> = {};
  for (const [name, cap] of Object.entries(capacity)) {
    let v = cap;
    for (const reserved of [o.kubeReserved, o.systemReserved]) if (reserved?.[name]) v = subtractQuantities(v, parseQuantity(reserved[name]!));
    if (name === 'memory' && eviction['memory.available']) v = subtractQuantities(v, thresholdAmount(eviction['memory.available'], cap));
    if (name === 'ephemeral-storage' && eviction['nodefs.available']) v = subtractQuantities(v, thresholdAmount(eviction['nodefs.available'], cap));
    if (name === 'memory') for (const [n, hp] of Object.entries(capacity)) if (n.startsWith('hugepages-')) v = subtractQuantities(v, hp);
    out[name] = v.nanos < 0n ? new Quantity(0n, v.format) : v;
  }
  return out;
}

export function quantitiesToStrings(r: Record<string, Quantity>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.toString()]));
}
