// Shared helpers: toleration matching, node selector terms, score normalisation, priorities.

import { LabelSelector, type LabelOperator, type LabelRequirement } from '../../machinery/labels.ts';
import { toleratesTaint, type Taint, type Toleration } from '../../api/core/taints.ts';
import { MAX_NODE_SCORE, type Node, type NodeScore, type Pod, type PodRef, type SnapshotLister } from './types.ts';

export function tolerationsTolerate(tols: Toleration[] | undefined, taint: Taint): boolean {
  return (tols ?? []).some((t) => toleratesTaint(t, taint));
}

/** First taint (of the given effects) that no toleration tolerates. */
export function findUntoleratedTaint(taints: Taint[] | undefined, tols: Toleration[] | undefined, effects: (e: string) => boolean): Taint | undefined {
  for (const taint of taints ?? []) {
    if (!effects(taint.effect)) continue;
    if (!tolerationsTolerate(tols, taint)) return taint;
  }
  return undefined;
}

const nodeOps: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!', Gt: 'gt', Lt: 'lt' };

/** A NodeSelectorTerm compiled to label and field selectors; an empty term matches nothing. */
export interface CompiledTerm {
  labels?: LabelSelector;
  fields?: LabelSelector;
  invalid: boolean;
}

function compileRequirements(reqs: any[] | undefined): LabelSelector | undefined | null {
  if (!reqs?.length) return undefined;
  const out: LabelRequirement[] = [];
  for (const r of reqs) {
    const op = nodeOps[r.operator];
    if (!op) return null;
    out.push({ key: r.key, operator: op, values: [...(r.values ?? [])] });
  }
  return new LabelSelector(out);
}

export function compileNodeSelectorTerm(term: any): CompiledTerm {
  const labels = compileRequirements(term?.matchExpressions);
  const fields = compileRequirements(term?.matchFields);
  if (labels === null || fields === null) return { invalid: true };
  return { labels, fields, invalid: !labels && !fields };
}

export function termMatchesNode(t: CompiledTerm, node: Node): boolean {
  if (t.invalid) return false;
  if (t.labels && !t.labels.matches(node.metadata.labels)) return false;
  if (t.fields && !t.fields.matches({ 'metadata.name': node.metadata.name ?? '' })) return false;
  return true;
}

/** Required node affinity of a pod: nodeSelector AND (any of the terms). */
export class RequiredNodeAffinity {
  private selector?: LabelSelector;
  private terms?: CompiledTerm[];

  constructor(pod: Pod) {
    const ns = pod.spec?.nodeSelector;
    if (ns && Object.keys(ns).length) {
      this.selector = new LabelSelector(Object.entries(ns).map(([key, v]) => ({ key, operator: 'in' as const, values: [String(v)] })));
    }
    const req = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (req) this.terms = (req.nodeSelectorTerms ?? []).map(compileNodeSelectorTerm);
  }

  /** False when the pod places no node constraint at all. */
  constrains(): boolean {
    return !!this.selector || !!this.terms;
  }

  match(node: Node): boolean {
    if (this.selector && !this.selector.matches(node.metadata.labels)) return false;
    if (this.terms) return this.terms.some((t) => termMatchesNode(t, node));
    return true;
  }
}

/**
 * Scale scores to 0..MAX_NODE_SCORE relative to the highest; reverse flips them (lower raw is
 * better). All-zero with reverse gives every node the maximum.
 */
export function defaultNormalizeScore(max: number, reverse: boolean, scores: NodeScore[]): void {
  let highest = 0;
  for (const s of scores) if (s.score > highest) highest = s.score;
  if (highest === 0) {
    if (reverse) for (const s of scores) s.score = max;
    return;
  }
  for (const s of scores) {
    let v = Math.trunc((max * s.score) / highest);
    if (reverse) v = max - v;
    s.score = v;
  }
}

export const normalize = (reverse: boolean) => (scores: NodeScore[]) => defaultNormalizeScore(MAX_NODE_SCORE, reverse, scores);

export function podPriority(pod: Pod): number {
  return typeof pod.spec?.priority === 'number' ? pod.spec.priority : 0;
}

/** When the pod started (status.startTime), else its creation; ms. */
export function podStartTime(pod: Pod): number {
  const t = pod.status?.startTime ?? pod.metadata.creationTimestamp;
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

export function isTerminating(pod: Pod): boolean {
  return !!pod.metadata.deletionTimestamp;
}

/** A key=value requirement every selected object must satisfy, for index lookups. */
export function equalityRequirement(sel: LabelSelector): [string, string] | undefined {
  if (sel.selectsNothing) return undefined;
  for (const r of sel.requirements) {
    if ((r.operator === 'in' || r.operator === '=' || r.operator === '==') && r.values.length === 1) return [r.key, r.values[0]];
  }
  return undefined;
}

/**
 * Pods in the given namespaces that may match sel, through the snapshot's label index; undefined
 * when the index cannot narrow the search, or finds more than `limit` pods (the caller scans every
 * node instead, which NodeInfo's per-label-group counts make cheaper than that many pods).
 */
export function candidatePods(snapshot: SnapshotLister | undefined, namespaces: Iterable<string>, sel: LabelSelector, limit = Infinity): PodRef[] | undefined {
  if (!snapshot?.podsWithLabel) return undefined;
  const eq = equalityRequirement(sel);
  if (!eq) return undefined;
  const out: PodRef[] = [];
  for (const ns of namespaces)
    for (const ref of snapshot.podsWithLabel(ns, eq[0], eq[1])) {
      if (out.length === limit) return undefined;
      out.push(ref);
    }
  return out;
}
