// Topology spread constraints of a pod (or the cluster defaults), compiled with their selectors.

import { LabelSelector, labelSelectorFromObject, type LabelRequirement } from '../../../machinery/labels.ts';
import { RequiredNodeAffinity, findUntoleratedTaint } from '../../framework/helpers.ts';
import type { Node, NodeInfo, Pod } from '../../framework/types.ts';

export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';

export interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: LabelSelector;
  minDomains: number;
  honorNodeAffinity: boolean;
  honorTaints: boolean;
}

export interface RawConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  labelSelector?: any;
  matchLabelKeys?: string[];
  minDomains?: number;
  nodeAffinityPolicy?: 'Honor' | 'Ignore';
  nodeTaintsPolicy?: 'Honor' | 'Ignore';
}

/** Upstream's system defaults, applied to pods without constraints that belong to a workload. */
export const SYSTEM_DEFAULT_CONSTRAINTS: RawConstraint[] = [
  { topologyKey: LABEL_ZONE, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
  { topologyKey: LABEL_HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
];

function compileSelector(pod: Pod, c: RawConstraint): LabelSelector {
  let sel: LabelSelector;
  try {
    sel = labelSelectorFromObject(c.labelSelector ?? null);
  } catch {
    sel = labelSelectorFromObject(null);
  }
  const labels = pod.metadata.labels ?? {};
  const extra: LabelRequirement[] = [];
  for (const k of c.matchLabelKeys ?? []) if (k in labels) extra.push({ key: k, operator: 'in', values: [labels[k]] });
  if (!extra.length || sel.selectsNothing) return sel;
  return new LabelSelector([...sel.requirements, ...extra]);
}

export function compileConstraints(pod: Pod, raw: RawConstraint[], action: string): Constraint[] {
  return raw
    .filter((c) => c.whenUnsatisfiable === action)
    .map((c) => ({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector: compileSelector(pod, c),
      minDomains: c.minDomains ?? 1,
      honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
      honorTaints: (c.nodeTaintsPolicy ?? 'Ignore') === 'Honor',
    }));
}

/** Default constraints with a selector built from the pod's services and controllers. */
export function defaultConstraints(pod: Pod, defaults: RawConstraint[], selectors: LabelSelector[], action: string): Constraint[] {
  const reqs = selectors.flatMap((s) => (s.selectsNothing ? [] : s.requirements));
  if (!reqs.length) return [];
  const sel = new LabelSelector(reqs);
  return compileConstraints(pod, defaults, action).map((c) => ({ ...c, selector: sel }));
}

export function nodeHasAllKeys(node: Node | undefined, constraints: Constraint[]): boolean {
  const labels = node?.metadata.labels ?? {};
  return constraints.every((c) => c.topologyKey in labels);
}

/** Whether a node counts for a constraint under its nodeAffinityPolicy / nodeTaintsPolicy. */
export function nodeIncluded(c: Constraint, pod: Pod, node: Node, affinity: RequiredNodeAffinity): boolean {
  if (c.honorNodeAffinity && !affinity.match(node)) return false;
  if (c.honorTaints && findUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, (e) => e === 'NoSchedule' || e === 'NoExecute')) return false;
  return true;
}

/** Pods on the node in `namespace`, not being deleted, whose labels the selector matches. */
export function countMatching(node: NodeInfo, selector: LabelSelector, namespace: string): number {
  let n = 0;
  for (const g of node.labelGroups.values()) if (g.namespace === namespace && selector.matches(g.labels)) n += g.count;
  return n;
}
