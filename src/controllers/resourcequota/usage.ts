// Quota usage arithmetic: what one pod (or other object) charges against a ResourceQuota.

import type { KObject } from '../../api/types.ts';
import { addQuantities, Quantity, quantityFromInt, quantityFromJSON } from '../../machinery/quantity.ts';

/** Compute resources a pod charges under `requests.*` / `limits.*` (and the bare aliases of requests). */
const computeResources = ['cpu', 'memory', 'ephemeral-storage'];

/**
 * Extended resources (`example.com/dongle`, outside the kubernetes.io namespaces) and huge pages are
 * charged under `requests.<name>` too, as upstream's pod evaluator does.
 */
export function isExtendedOrHugePages(r: string): boolean {
  if (r.startsWith('hugepages-')) return true;
  if (!r.includes('/')) return false;
  const domain = r.slice(0, r.indexOf('/'));
  return !(domain === 'kubernetes.io' || domain.endsWith('.kubernetes.io'));
}

/** Whether a pod still counts: not terminal, and not past the end of its deletion grace period. */
export function podCounts(pod: KObject, now = Date.now()): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const ts = pod.metadata.deletionTimestamp;
  const grace = pod.metadata.deletionGracePeriodSeconds;
  if (ts && grace !== undefined && now > Date.parse(ts) + grace * 1000) return false;
  return true;
}

function containerAmounts(containers: any[] | undefined, kind: 'requests' | 'limits', r: string): Quantity[] {
  return (containers ?? []).map((c) => (c?.resources?.[kind]?.[r] !== undefined ? quantityFromJSON(c.resources[kind][r]) : new Quantity(0n)));
}

/**
 * A pod's effective request or limit for one resource: the larger of the sum over app (and
 * sidecar) containers and the largest plain init container, plus the pod overhead.
 */
export function podAmount(pod: KObject, kind: 'requests' | 'limits', r: string): Quantity {
  const spec = pod.spec ?? {};
  const sidecars = (spec.initContainers ?? []).filter((c: any) => c?.restartPolicy === 'Always');
  const inits = (spec.initContainers ?? []).filter((c: any) => c?.restartPolicy !== 'Always');
  let sum = new Quantity(0n);
  for (const q of [...containerAmounts(spec.containers, kind, r), ...containerAmounts(sidecars, kind, r)]) sum = addQuantities(sum, q);
  for (const q of containerAmounts(inits, kind, r)) if (q.nanos > sum.nanos) sum = q;
  const overhead = spec.overhead?.[r];
  // Overhead always adds to requests, but only to limits that are set.
  if (overhead !== undefined && (kind === 'requests' || !sum.isZero())) sum = addQuantities(sum, quantityFromJSON(overhead));
  return sum;
}

/** True when no container sets any request or limit (the BestEffort QoS class). */
export function isBestEffort(pod: KObject): boolean {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  return all.every((c: any) => !Object.keys(c?.resources?.requests ?? {}).length && !Object.keys(c?.resources?.limits ?? {}).length);
}

/** Whether a pod falls under a quota's scopes and scopeSelector (PriorityClass and the four pod scopes). */
export function podMatchesQuota(pod: KObject, quota: KObject): boolean {
  if (!podMatchesScopes(pod, quota.spec?.scopes)) return false;
  for (const e of quota.spec?.scopeSelector?.matchExpressions ?? []) {
    if (e?.scopeName === 'PriorityClass') {
      const pc = pod.spec?.priorityClassName ?? '';
      const values: string[] = e.values ?? [];
      const ok =
        e.operator === 'In' ? values.includes(pc) : e.operator === 'NotIn' ? !values.includes(pc) : e.operator === 'Exists' ? pc !== '' : e.operator === 'DoesNotExist' ? pc === '' : false;
      if (!ok) return false;
    } else if (e?.operator === 'Exists' && !podMatchesScopes(pod, [e.scopeName])) return false;
    else if (e?.operator === 'DoesNotExist' && podMatchesScopes(pod, [e.scopeName])) return false;
  }
  return true;
}

/** Whether a pod falls under every scope of the quota (the four pod scopes; others never match). */
export function podMatchesScopes(pod: KObject, scopes: string[] | undefined): boolean {
  for (const s of scopes ?? []) {
    const terminating = pod.spec?.activeDeadlineSeconds !== undefined && pod.spec?.activeDeadlineSeconds !== null;
    if (s === 'Terminating' && !terminating) return false;
    if (s === 'NotTerminating' && terminating) return false;
    if (s === 'BestEffort' && !isBestEffort(pod)) return false;
    if (s === 'NotBestEffort' && isBestEffort(pod)) return false;
    if (!['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort'].includes(s)) return false;
  }
  return true;
}

/** The usage of the pod-related quota names among `names`, summed over `pods`. */
export function podUsage(pods: KObject[], names: string[], now = Date.now()): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  const counted = pods.filter((p) => podCounts(p, now));
  for (const name of names) {
    if (name === 'pods' || name === 'count/pods') {
      out.set(name, quantityFromInt(counted.length));
      continue;
    }
    const m = /^(requests|limits)\.(.+)$/.exec(name);
    const kind = m ? (m[1] as 'requests' | 'limits') : computeResources.includes(name) ? 'requests' : undefined;
    const r = m ? m[2] : name;
    if (!kind || !(computeResources.includes(r) || (kind === 'requests' && isExtendedOrHugePages(r)))) continue;
    let sum = new Quantity(0n);
    for (const p of counted) sum = addQuantities(sum, podAmount(p, kind, r));
    out.set(name, sum);
  }
  return out;
}

/** Persistent volume claim storage requests (`requests.storage`). */
export function pvcStorage(pvcs: KObject[]): Quantity {
  let sum = new Quantity(0n);
  for (const c of pvcs) {
    const q = c.spec?.resources?.requests?.storage;
    if (q !== undefined) sum = addQuantities(sum, quantityFromJSON(q));
  }
  return sum;
}

const simpleCounts = new Set(['services', 'configmaps', 'secrets', 'persistentvolumeclaims', 'replicationcontrollers', 'resourcequotas']);

/**
 * What one object charges against the quota names in `names` (pods through podUsage; services,
 * claims and object counts here). Objects of other resources charge their `count/<resource>.<group>`.
 */
export function objectUsage(group: string, plural: string, obj: KObject, names: string[]): Map<string, Quantity> {
  if (group === '' && plural === 'pods') return podCounts(obj) ? podUsage([obj], names) : new Map();
  const out = new Map<string, Quantity>();
  const count = group ? `count/${plural}.${group}` : `count/${plural}`;
  for (const name of names) {
    if (name === count || (group === '' && simpleCounts.has(plural) && name === plural)) out.set(name, quantityFromInt(1));
    else if (group === '' && plural === 'services') {
      if (name === 'services.loadbalancers') out.set(name, quantityFromInt(obj.spec?.type === 'LoadBalancer' ? 1 : 0));
      if (name === 'services.nodeports') {
        const np = obj.spec?.type === 'NodePort' || obj.spec?.type === 'LoadBalancer' ? (obj.spec?.ports ?? []).length : 0;
        out.set(name, quantityFromInt(np));
      }
    } else if (group === '' && plural === 'persistentvolumeclaims') {
      const cls = obj.spec?.storageClassName;
      const storage = pvcStorage([obj]);
      if (name === 'requests.storage') out.set(name, storage);
      else if (cls && name === `${cls}.storageclass.storage.k8s.io/requests.storage`) out.set(name, storage);
      else if (cls && name === `${cls}.storageclass.storage.k8s.io/persistentvolumeclaims`) out.set(name, quantityFromInt(1));
    }
  }
  return out;
}
