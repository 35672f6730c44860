// What a pod on a simulated node uses, for `kubectl top` and autoscaling without real containers.
//
// The annotations `mizzen.dev/simulate-cpu` and `mizzen.dev/simulate-memory` hold quantities,
// either one for the whole pod (`250m`, split over its containers in proportion to their
// requests, evenly when none request any) or per container (`app=250m,sidecar=10m`; containers not
// named use the default). Without an annotation a container uses a small fraction of its request
// (DEFAULT_FRACTION), or a token amount when it requests nothing.

import type { KObject } from '../api/types.ts';
import { parseQuantity, type Quantity } from '../machinery/quantity.ts';

export const SIMULATE_CPU_ANNOTATION = 'mizzen.dev/simulate-cpu';
export const SIMULATE_MEMORY_ANNOTATION = 'mizzen.dev/simulate-memory';
/** A container without an annotation uses this share of its request. */
export const DEFAULT_FRACTION = 0.1;
/** Usage of a container that requests nothing: 1m CPU and 4 MiB. */
const NO_REQUEST_CPU_NANO = 1_000_000;
const NO_REQUEST_MEMORY = 4 * 1024 * 1024;

export interface ContainerUsage {
  name: string;
  cpuNanoCores: number;
  memoryBytes: number;
}

function toNumber(q: Quantity): number {
  return Number(q.nanos) / 1e9;
}

function request(c: any, resource: 'cpu' | 'memory'): number {
  const v = c?.resources?.requests?.[resource] ?? c?.resources?.limits?.[resource];
  if (v === undefined || v === null) return 0;
  try {
    return toNumber(parseQuantity(String(v)));
  } catch {
    return 0;
  }
}

/** A whole-pod amount, or per-container amounts; undefined when absent or malformed. */
function parseAnnotation(v: string | undefined): { pod?: number; perContainer?: Map<string, number> } | undefined {
  if (v === undefined) return undefined;
  const text = v.trim();
  try {
    if (!text.includes('=')) return { pod: toNumber(parseQuantity(text)) };
    const per = new Map<string, number>();
    for (const part of text.split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) return undefined;
      per.set(part.slice(0, eq).trim(), toNumber(parseQuantity(part.slice(eq + 1).trim())));
    }
    return { perContainer: per };
  } catch {
    return undefined;
  }
}

/** One resource for each container, in units (cores or bytes). */
function amounts(containers: any[], resource: 'cpu' | 'memory', annotation: string | undefined, fallback: number): number[] {
  const reqs = containers.map((c) => request(c, resource));
  const defaults = reqs.map((r) => (r > 0 ? r * DEFAULT_FRACTION : fallback));
  const a = parseAnnotation(annotation);
  if (!a) return defaults;
  if (a.perContainer) return containers.map((c, i) => a.perContainer!.get(c?.name) ?? defaults[i]!);
  const total = reqs.reduce((s, r) => s + r, 0);
  return reqs.map((r) => (total > 0 ? (a.pod! * r) / total : a.pod! / containers.length));
}

/** Usage of each (regular) container of a pod on a simulated node. */
export function simulatedPodUsage(pod: KObject): ContainerUsage[] {
  const containers: any[] = Array.isArray(pod.spec?.containers) ? pod.spec.containers : [];
  if (!containers.length) return [];
  const ann = pod.metadata.annotations ?? {};
  const cpu = amounts(containers, 'cpu', ann[SIMULATE_CPU_ANNOTATION], NO_REQUEST_CPU_NANO / 1e9);
  const mem = amounts(containers, 'memory', ann[SIMULATE_MEMORY_ANNOTATION], NO_REQUEST_MEMORY);
  return containers.map((c, i) => ({ name: String(c?.name ?? ''), cpuNanoCores: Math.round(cpu[i]! * 1e9), memoryBytes: Math.round(mem[i]!) }));
}
