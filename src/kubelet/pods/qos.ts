// Pod QoS class and OOM score adjustment, as upstream's pkg/apis/core/v1/helper/qos and
// pkg/kubelet/qos/policy.go compute them.

import { parseQuantity, quantityValue } from '../../machinery/quantity.ts';
import type { Container, Pod, ResourceList } from './api-types.ts';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** Upstream's constants (pkg/kubelet/qos). */
export const GUARANTEED_OOM_SCORE_ADJ = -997;
export const BESTEFFORT_OOM_SCORE_ADJ = 1000;
/** Pods at or above this priority are critical (scheduling.SystemCriticalPriority). */
export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

const QOS_RESOURCES = ['cpu', 'memory'];

function nanos(v: string | number | undefined): bigint {
  if (v === undefined || v === null || v === '') return 0n;
  try {
    return parseQuantity(String(v)).nanos;
  } catch {
    return 0n;
  }
}

/** The class computed from the spec (upstream ComputePodQOS). */
export function computePodQOS(pod: Pod): QOSClass {
  const requests = new Map<string, bigint>();
  const limits = new Map<string, bigint>();
  let guaranteed = true;
  for (const c of [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])]) {
    for (const [name, v] of Object.entries(c.resources?.requests ?? {})) {
      if (!QOS_RESOURCES.includes(name)) continue;
      const n = nanos(v);
      if (n > 0n) requests.set(name, (requests.get(name) ?? 0n) + n);
    }
    const found = new Set<string>();
    for (const [name, v] of Object.entries(c.resources?.limits ?? {})) {
      if (!QOS_RESOURCES.includes(name)) continue;
      const n = nanos(v);
      if (n > 0n) {
        found.add(name);
        limits.set(name, (limits.get(name) ?? 0n) + n);
      }
    }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      if (limits.get(name) !== req) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/** The pod's class: status.qosClass once the API server has set it, else computed. */
export function podQOS(pod: Pod): QOSClass {
  const s = pod.status?.qosClass;
  return s === 'Guaranteed' || s === 'Burstable' || s === 'BestEffort' ? s : computePodQOS(pod);
}

export function isCriticalPod(pod: Pod): boolean {
  return typeof pod.spec.priority === 'number' && pod.spec.priority >= SYSTEM_CRITICAL_PRIORITY;
}

export function isNodeCriticalPod(pod: Pod): boolean {
  return isCriticalPod(pod) && pod.spec.priorityClassName === 'system-node-critical';
}

function memoryRequest(c: Container): number {
  const v = c.resources?.requests?.memory;
  return v === undefined ? 0 : quantityValue(parseQuantity(String(v)));
}

function isSidecar(pod: Pod, c: Container): boolean {
  return c.restartPolicy === 'Always' && (pod.spec.initContainers ?? []).some((i) => i.name === c.name);
}

/**
 * oom_score_adj for a container: -997 for Guaranteed (and node-critical) pods, 1000 for
 * BestEffort, and for Burstable 1000 - 1000*request/capacity clamped to [3, 999]; a sidecar gets
 * no more than the regular container with the smallest request.
 */
export function containerOOMScoreAdjust(pod: Pod, container: Container, memoryCapacity: number): number {
  if (isNodeCriticalPod(pod)) return GUARANTEED_OOM_SCORE_ADJ;
  const qos = podQOS(pod);
  if (qos === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === 'BestEffort') return BESTEFFORT_OOM_SCORE_ADJ;
  const formula = (req: number) => 1000 - Math.trunc((1000 * req) / memoryCapacity);
  let adj = formula(memoryRequest(container));
  if (isSidecar(pod, container)) {
    const regular = (pod.spec.containers ?? []).map(memoryRequest);
    const min = regular.length ? Math.min(...regular) : 0;
    adj = Math.min(adj, formula(min));
  }
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj === BESTEFFORT_OOM_SCORE_ADJ) return adj - 1;
  return adj;
}

/** Sum of the containers' amounts of one resource, or undefined when any container leaves it unset. */
export function sumIfAllSet(containers: Container[], kind: 'limits' | 'requests', name: string): bigint | undefined {
  let total = 0n;
  for (const c of containers) {
    const v = (c.resources?.[kind] as ResourceList | undefined)?.[name];
    if (v === undefined) return undefined;
    total += nanos(v);
  }
  return total;
}
