// Pod facts shared by the endpoints and endpointslice controllers (pod state itself: src/api/core/pod-state.ts).

import type { KObject } from '../../api/types.ts';
import { podCondition } from '../../api/core/pod-state.ts';

/**
 * Whether a pod belongs in a service's endpoints at all: it has an IP, is not terminating (unless
 * the caller keeps terminating pods) and cannot be finished for good given its restart policy.
 */
export function shouldPodBeInEndpoints(pod: KObject, includeTerminating: boolean): boolean {
  if (!pod.status?.podIP && !(pod.status?.podIPs ?? []).length) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  switch (pod.spec?.restartPolicy) {
    case 'Never':
      return phase !== 'Failed' && phase !== 'Succeeded';
    case 'OnFailure':
      return phase !== 'Succeeded';
    default:
      return true;
  }
}

/**
 * The container port a service port points at on this pod: a numeric targetPort as is, a named one
 * looked up among the containers' (and sidecars') ports with the same protocol.
 */
export function findPort(pod: KObject, servicePort: any): number | undefined {
  const target = servicePort?.targetPort ?? servicePort?.port;
  if (typeof target === 'number') return target;
  if (typeof target === 'string' && /^\d+$/.test(target)) return Number(target);
  const protocol = servicePort?.protocol ?? 'TCP';
  const sidecars = (pod.spec?.initContainers ?? []).filter((c: any) => c?.restartPolicy === 'Always');
  for (const c of [...(pod.spec?.containers ?? []), ...sidecars]) {
    for (const p of c?.ports ?? []) {
      if (p?.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** The pod's IPv4 address, if any (we publish IPv4 endpoints only). */
export function podIPv4(pod: KObject): string | undefined {
  const ips: string[] = [pod.status?.podIP, ...((pod.status?.podIPs ?? []) as any[]).map((p) => p?.ip)].filter((x) => typeof x === 'string' && x);
  return ips.find((ip) => !ip.includes(':'));
}

/** When the pod last changed in a way that matters to endpoints (its Ready condition's transition). */
export function podTriggerTime(pod: KObject): string | undefined {
  return podCondition(pod, 'Ready')?.lastTransitionTime ?? undefined;
}
