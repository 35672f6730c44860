// The pod conditions a kubelet owns, merged into those the pod has (upstream status/generate.go
// and status_manager's mergePodStatus): shared by the real kubelet (core/pod-status.ts) and the
// simulated one (simulated/pod-status.ts).

import { rfc3339 } from '../../machinery/time.ts';

/** The condition types the kubelet owns; others (PodScheduled, DisruptionTarget, readiness gates) are kept. */
export const KUBELET_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady'];

export interface KubeletCondition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
}

/**
 * Our conditions first (in the kubelet's order), then PodScheduled (the scheduler's, or True now
 * when it has none), then everyone else's as they are. A condition whose status did not flip
 * keeps its lastTransitionTime. `lastProbeTime: null` as upstream's kubelet writes it.
 */
export function mergeConditions(existing: any[] | undefined, ours: KubeletCondition[], now: Date): any[] {
  const ts = rfc3339(now);
  const old = new Map<string, any>();
  for (const c of existing ?? []) if (c && typeof c.type === 'string') old.set(c.type, c);
  const out: any[] = ours.map((c) => {
    const prev = old.get(c.type);
    const cond: any = { type: c.type, status: c.status, lastProbeTime: null };
    cond.lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : ts;
    if (c.reason) cond.reason = c.reason;
    if (c.message) cond.message = c.message;
    return cond;
  });
  out.push(old.get('PodScheduled') ?? { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: ts });
  for (const c of existing ?? []) if (c && c.type !== 'PodScheduled' && !KUBELET_CONDITIONS.includes(c.type)) out.push(c);
  return out;
}
