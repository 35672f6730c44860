// Which nodes a DaemonSet pod belongs on: nodeSelector, required node affinity and taints against
// tolerations (including the ones upstream adds to every daemon pod).

import type { KObject } from '../../api/types.ts';

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

/** Tolerations upstream's DaemonSet controller adds to its pods, so they survive node trouble. */
export function daemonPodTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

/** Add the daemon tolerations not already present (same key, operator, value and effect). */
export function withDaemonTolerations(existing: Toleration[] | undefined, hostNetwork: boolean): Toleration[] {
  const out = [...(existing ?? [])];
  for (const t of daemonPodTolerations(hostNetwork)) {
    const same = out.some((o) => (o.key ?? '') === t.key && (o.operator ?? 'Equal') === t.operator && (o.effect ?? '') === t.effect && (o.value ?? '') === (t.value ?? ''));
    if (!same) out.push(t);
  }
  return out;
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  const op = t.operator ?? 'Equal';
  if (!t.key) return op === 'Exists';
  if (t.key !== taint.key) return false;
  return op === 'Exists' || (t.value ?? '') === (taint.value ?? '');
}

function untolerated(node: KObject, tolerations: Toleration[], effects: string[]): Taint | undefined {
  return (node.spec?.taints ?? []).find((taint: Taint) => effects.includes(taint.effect) && !tolerations.some((t) => tolerates(t, taint)));
}

function requirementMatches(req: any, get: (key: string) => string | undefined): boolean {
  const v = get(req.key);
  const values: string[] = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return v !== undefined && values.includes(v);
    case 'NotIn':
      return v === undefined || !values.includes(v);
    case 'Exists':
      return v !== undefined;
    case 'DoesNotExist':
      return v === undefined;
    case 'Gt':
    case 'Lt': {
      if (v === undefined || !/^-?\d+$/.test(v) || values.length !== 1) return false;
      return req.operator === 'Gt' ? Number(v) > Number(values[0]) : Number(v) < Number(values[0]);
    }
    default:
      return false;
  }
}

/** Upstream nodeSelectorTerms semantics: any term matches; a term needs all its requirements. */
export function nodeMatchesSelectorTerms(node: KObject, terms: any[]): boolean {
  const labels = node.metadata.labels ?? {};
  const fields: Record<string, string> = { 'metadata.name': node.metadata.name ?? '' };
  return terms.some((term) => {
    const exprs = term?.matchExpressions ?? [];
    const flds = term?.matchFields ?? [];
    if (!exprs.length && !flds.length) return false;
    return exprs.every((r: any) => requirementMatches(r, (k) => labels[k])) && flds.every((r: any) => requirementMatches(r, (k) => fields[k]));
  });
}

export interface Eligibility {
  /** A new daemon pod should be placed here. */
  shouldRun: boolean;
  /** An existing daemon pod may stay (only NoExecute taints evict). */
  shouldContinueRunning: boolean;
}

export function nodeEligibility(node: KObject, podSpec: any): Eligibility {
  const labels = node.metadata.labels ?? {};
  const selOk = Object.entries(podSpec?.nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
  const terms = podSpec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const affOk = !Array.isArray(terms) || nodeMatchesSelectorTerms(node, terms);
  const tols = withDaemonTolerations(podSpec?.tolerations, !!podSpec?.hostNetwork);
  const fits = selOk && affOk;
  return {
    shouldRun: fits && !untolerated(node, tols, ['NoSchedule', 'NoExecute']),
    shouldContinueRunning: fits && !untolerated(node, tols, ['NoExecute']),
  };
}

/** The node a daemon pod is bound or aimed at (nodeName, else its matchFields metadata.name term). */
export function targetNodeName(pod: KObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term?.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/** Upstream ReplaceDaemonSetPodNodeNameNodeAffinity: pin a pod to one node through required affinity. */
export function pinToNode(spec: any, node: string): void {
  spec.affinity ??= {};
  spec.affinity.nodeAffinity ??= {};
  spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
  };
}
