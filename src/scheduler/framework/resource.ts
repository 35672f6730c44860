// Resource amounts as plain numbers (milli-CPU, bytes, counts) so the hot filter/score paths never
// touch Quantity objects. Pod requests are computed the way upstream's resource helper does.

import { parseQuantity, quantityToMilli, quantityValue } from '../../machinery/quantity.ts';
import type { Pod } from './types.ts';

export const CPU = 'cpu';
export const MEMORY = 'memory';
export const EPHEMERAL_STORAGE = 'ephemeral-storage';
export const PODS = 'pods';

/** Upstream's defaults used for scoring when a container requests no cpu / memory. */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  allowedPodNumber: number;
  /** Extended resources, hugepages, attachable volumes: whole units (bytes for hugepages). */
  scalar: Map<string, number>;
}

export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, allowedPodNumber: 0, scalar: new Map() };
}

export function cloneResource(r: Resource): Resource {
  // Built field by field so every Resource shares one hidden class (keeps hot filters monomorphic).
  return { milliCPU: r.milliCPU, memory: r.memory, ephemeralStorage: r.ephemeralStorage, allowedPodNumber: r.allowedPodNumber, scalar: new Map(r.scalar) };
}

const quantityCache = new Map<string, number>();

/** Parse a quantity to a number: milli-units for cpu, whole units otherwise. Invalid -> 0. */
export function amount(name: string, v: unknown): number {
  if (typeof v === 'number') return name === CPU ? v * 1000 : v;
  if (typeof v !== 'string') return 0;
  const key = name === CPU ? `m:${v}` : v;
  let n = quantityCache.get(key);
  if (n === undefined) {
    try {
      const q = parseQuantity(v);
      n = name === CPU ? quantityToMilli(q) : quantityValue(q);
    } catch {
      n = 0;
    }
    if (quantityCache.size < 10_000) quantityCache.set(key, n);
  }
  return n;
}

/** A resource list (requests, allocatable, overhead) as a Resource. */
export function resourceFromList(list: Record<string, unknown> | undefined | null): Resource {
  const r = emptyResource();
  if (!list) return r;
  for (const [name, v] of Object.entries(list)) addOne(r, name, amount(name, v));
  return r;
}

function addOne(r: Resource, name: string, n: number): void {
  switch (name) {
    case CPU: r.milliCPU += n; break;
    case MEMORY: r.memory += n; break;
    case EPHEMERAL_STORAGE: r.ephemeralStorage += n; break;
    case PODS: r.allowedPodNumber += n; break;
    default: if (isScalarResourceName(name)) r.scalar.set(name, (r.scalar.get(name) ?? 0) + n);
  }
}

/** Extended and prefixed native (domain-qualified), hugepages-* and attachable-volumes-* resources. */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith('hugepages-') || name.startsWith('attachable-volumes-')) return true;
  // Domain-qualified names: extended resources and prefixed native ones (both tracked as scalars).
  return name.includes('/') && !name.startsWith('requests.');
}

export function addResource(into: Resource, r: Resource): void {
  into.milliCPU += r.milliCPU;
  into.memory += r.memory;
  into.ephemeralStorage += r.ephemeralStorage;
  into.allowedPodNumber += r.allowedPodNumber;
  for (const [k, v] of r.scalar) into.scalar.set(k, (into.scalar.get(k) ?? 0) + v);
}

function maxResource(into: Resource, r: Resource): void {
  into.milliCPU = Math.max(into.milliCPU, r.milliCPU);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  for (const [k, v] of r.scalar) into.scalar.set(k, Math.max(into.scalar.get(k) ?? 0, v));
}

function containerRequests(c: any, nonZero: boolean): Resource {
  const res = c?.resources ?? {};
  // API defaulting copies limits into missing requests; do the same for objects that skipped it.
  const list: Record<string, unknown> = { ...(res.limits ?? {}), ...(res.requests ?? {}) };
  const r = resourceFromList(list);
  if (nonZero) {
    if (!(CPU in list)) r.milliCPU = DEFAULT_MILLI_CPU_REQUEST;
    if (!(MEMORY in list)) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * Effective requests of a pod: sum of app containers and sidecars, the largest of that and any
 * single init container (plus the sidecars started before it), plus pod overhead.
 * nonZero substitutes 100m / 200Mi for containers that request no cpu / memory (scoring only).
 */
export function podRequests(pod: Pod, nonZero = false): Resource {
  const spec = pod.spec ?? {};
  const reqs = emptyResource();
  for (const c of spec.containers ?? []) addResource(reqs, containerRequests(c, nonZero));
  const sidecars = emptyResource();
  const initMax = emptyResource();
  for (const c of spec.initContainers ?? []) {
    const cr = containerRequests(c, nonZero);
    let effective: Resource;
    if (c.restartPolicy === 'Always') {
      addResource(reqs, cr);
      addResource(sidecars, cr);
      effective = sidecars;
    } else {
      effective = cloneResource(cr);
      addResource(effective, sidecars);
    }
    maxResource(initMax, effective);
  }
  maxResource(reqs, initMax);
  if (spec.overhead) addResource(reqs, resourceFromList(spec.overhead));
  return reqs;
}
