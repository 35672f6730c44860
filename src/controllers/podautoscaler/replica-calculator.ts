// How many replicas a resource metric asks for (upstream pkg/controller/podautoscaler's replica
// calculator, rewritten): pods are grouped into ready ones with a sample, unready ones (CPU samples
// taken while a pod was starting are not trusted), missing ones (no sample) and ignored ones
// (deleted or failed). Within the tolerance nothing changes; when pods are missing or unready the
// ratio is recomputed conservatively (missing pods count as using 100 % when scaling down and 0 %
// when scaling up; unready pods as 0 % when scaling up), and a recomputed ratio that would flip the
// direction keeps the current count.

import type { KObject } from '../../api/types.ts';

export const DEFAULT_TOLERANCE = 0.1;
/** --horizontal-pod-autoscaler-cpu-initialization-period (5 m). */
export const DEFAULT_CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
/** --horizontal-pod-autoscaler-initial-readiness-delay (30 s). */
export const DEFAULT_INITIAL_READINESS_DELAY_MS = 30_000;

/** One pod's sample: milli-units (millicores, or milli-bytes for memory, as upstream). */
export interface PodSample {
  value: number;
  timestampMs: number;
  windowMs: number;
}

export interface CalculatorOptions {
  tolerance: number;
  cpuInitializationPeriodMs: number;
  initialReadinessDelayMs: number;
  now: number;
}

export class MetricError extends Error {}

interface Groups {
  readyCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

function podReady(pod: KObject): any {
  return (pod.status?.conditions ?? []).find((c: any) => c?.type === 'Ready');
}

export function groupPods(pods: KObject[], metrics: Map<string, PodSample>, resource: string, o: CalculatorOptions): Groups {
  const g: Groups = { readyCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const name = pod.metadata.name!;
    if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed') {
      g.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      g.unready.add(name);
      continue;
    }
    const m = metrics.get(name);
    if (!m) {
      g.missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const cond = podReady(pod);
      const start = Date.parse(pod.status?.startTime ?? '');
      let unready: boolean;
      if (!cond || Number.isNaN(start)) unready = true;
      else {
        const transition = Date.parse(cond.lastTransitionTime ?? '') || 0;
        if (start + o.cpuInitializationPeriodMs > o.now) {
          // Starting: a sample is trusted once the pod is ready and a whole window followed that.
          unready = cond.status === 'False' || m.timestampMs < transition + m.windowMs;
        } else {
          // Ignore pods that are unready and have never been ready.
          unready = cond.status === 'False' && start + o.initialReadinessDelayMs > transition;
        }
      }
      if (unready) {
        g.unready.add(name);
        continue;
      }
    }
    g.readyCount++;
  }
  return g;
}

/** Sum of the pods' container requests for a resource, in milli-units; throws when one lacks it. */
export function podRequests(pods: KObject[], resource: string, container?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of pod.spec?.containers ?? []) {
      if (container && c.name !== container) continue;
      const v = c.resources?.requests?.[resource];
      if (v === undefined || v === null) throw new MetricError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
      sum += milli(String(v));
    }
    out.set(pod.metadata.name!, sum);
  }
  return out;
}

/** Milli-units of a quantity string (1 → 1000, 500m → 500, 1Ki → 1024000). */
export function milli(q: string): number {
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  const suffix: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6 };
  const f = suffix[m[2]!];
  return f === undefined ? NaN : Math.ceil(n * f * 1000 - 1e-9);
}

function utilizationRatio(metrics: Map<string, PodSample>, requests: Map<string, number>, target: number): { ratio: number; utilization: number; rawAverage: number } {
  let used = 0;
  let requested = 0;
  for (const [name, m] of metrics) {
    const r = requests.get(name);
    if (r === undefined) continue;
    used += m.value;
    requested += r;
  }
  if (requested === 0) throw new MetricError('no metrics returned matched known pods');
  const utilization = Math.trunc((used * 100) / requested);
  return { ratio: utilization / target, utilization, rawAverage: Math.trunc(used / metrics.size) };
}

export interface ReplicaResult {
  replicas: number;
  /** Utilization in percent (utilization targets) or the average in milli-units. */
  utilization: number;
  rawAverage: number;
}

/**
 * The samples that count for a calculation (both targets): not of ignored or unready pods, nor of
 * pods the selector no longer matches; with the pods' grouping.
 */
function countedSamples(pods: KObject[], samples: Map<string, PodSample>, resource: string, o: CalculatorOptions): { metrics: Map<string, PodSample>; g: Groups } {
  if (!pods.length) throw new MetricError('no pods returned by selector while calculating replica count');
  const metrics = new Map(samples);
  const g = groupPods(pods, metrics, resource, o);
  for (const n of g.ignored) metrics.delete(n);
  for (const n of g.unready) metrics.delete(n);
  const names = new Set(pods.map((p) => p.metadata.name!));
  for (const n of [...metrics.keys()]) if (!names.has(n)) metrics.delete(n);
  if (!metrics.size) throw new MetricError('did not receive metrics for targeted pods (pods might be unready)');
  return { metrics, g };
}

/** The replica count for a Utilization target (upstream GetResourceReplicas). */
export function resourceReplicas(currentReplicas: number, targetUtilization: number, resource: string, pods: KObject[], samples: Map<string, PodSample>, o: CalculatorOptions, container?: string): ReplicaResult {
  const { metrics, g } = countedSamples(pods, samples, resource, o);
  const requests = podRequests(pods, resource, container);
  const first = utilizationRatio(metrics, requests, targetUtilization);
  const scaleUpWithUnready = g.unready.size > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= o.tolerance) return { replicas: currentReplicas, utilization: first.utilization, rawAverage: first.rawAverage };
    return { replicas: Math.ceil(first.ratio * g.readyCount), utilization: first.utilization, rawAverage: first.rawAverage };
  }
  if (g.missing.size) {
    for (const n of g.missing) {
      if (first.ratio < 1) metrics.set(n, { value: requests.get(n) ?? 0, timestampMs: 0, windowMs: 0 });
      else if (first.ratio > 1) metrics.set(n, { value: 0, timestampMs: 0, windowMs: 0 });
    }
  }
  if (scaleUpWithUnready) for (const n of g.unready) metrics.set(n, { value: 0, timestampMs: 0, windowMs: 0 });
  const next = utilizationRatio(metrics, requests, targetUtilization);
  const keep = { replicas: currentReplicas, utilization: first.utilization, rawAverage: first.rawAverage };
  if (Math.abs(1 - next.ratio) <= o.tolerance || (first.ratio < 1 && next.ratio > 1) || (first.ratio > 1 && next.ratio < 1)) return keep;
  const replicas = Math.ceil(next.ratio * metrics.size);
  if ((next.ratio < 1 && replicas > currentReplicas) || (next.ratio > 1 && replicas < currentReplicas)) return keep;
  return { replicas, utilization: first.utilization, rawAverage: first.rawAverage };
}

/** The replica count for an AverageValue target in milli-units (upstream GetRawResourceReplicas). */
export function averageValueReplicas(currentReplicas: number, targetMilli: number, resource: string, pods: KObject[], samples: Map<string, PodSample>, o: CalculatorOptions): ReplicaResult {
  const { metrics, g } = countedSamples(pods, samples, resource, o);
  const avg = (m: Map<string, PodSample>) => [...m.values()].reduce((s, x) => s + x.value, 0) / m.size;
  const usage = Math.trunc(avg(metrics));
  const ratio = usage / targetMilli;
  const scaleUpWithUnready = g.unready.size > 0 && ratio > 1;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1 - ratio) <= o.tolerance) return { replicas: currentReplicas, utilization: usage, rawAverage: usage };
    return { replicas: Math.ceil(ratio * g.readyCount), utilization: usage, rawAverage: usage };
  }
  for (const n of g.missing) {
    if (ratio < 1) metrics.set(n, { value: targetMilli, timestampMs: 0, windowMs: 0 });
    else metrics.set(n, { value: 0, timestampMs: 0, windowMs: 0 });
  }
  if (scaleUpWithUnready) for (const n of g.unready) metrics.set(n, { value: 0, timestampMs: 0, windowMs: 0 });
  const nextRatio = Math.trunc(avg(metrics)) / targetMilli;
  const keep = { replicas: currentReplicas, utilization: usage, rawAverage: usage };
  if (Math.abs(1 - nextRatio) <= o.tolerance || (ratio < 1 && nextRatio > 1) || (ratio > 1 && nextRatio < 1)) return keep;
  const replicas = Math.ceil(nextRatio * metrics.size);
  if ((nextRatio < 1 && replicas > currentReplicas) || (nextRatio > 1 && replicas < currentReplicas)) return keep;
  return { replicas, utilization: usage, rawAverage: usage };
}
