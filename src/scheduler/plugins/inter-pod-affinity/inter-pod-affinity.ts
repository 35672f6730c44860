// InterPodAffinity: required pod affinity / anti-affinity of the incoming pod, existing pods'
// required anti-affinity against it, and preferred terms (both directions) for scoring.

import { newPodInfo, termMatches, type AffinityTerm, type PodInfo } from '../../framework/node-info.ts';
import { candidatePods } from '../../framework/helpers.ts';
import { skip, unresolvable, unschedulable, type MaybeStatus } from '../../framework/status.ts';
import {
  MAX_NODE_SCORE,
  type ClusterEvent,
  type CycleState,
  type EnqueueExtensions,
  type FilterPlugin,
  type Handle,
  type NodeInfo,
  type NodeScore,
  type Pod,
  type PluginFactory,
  type PreFilterExtensions,
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type ScorePlugin,
} from '../../framework/types.ts';

export const NAME = 'InterPodAffinity';
export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
const PRE_FILTER_KEY = 'PreFilter' + NAME;
const PRE_SCORE_KEY = 'PreScore' + NAME;

export interface InterPodAffinityArgs {
  hardPodAffinityWeight?: number;
}

/** Matching pods per topology key and value. Nested maps, so lookups build no strings. */
class Counts {
  readonly byKey = new Map<string, Map<string, number>>();
  add(key: string, value: string, delta: number): void {
    let m = this.byKey.get(key);
    if (!m) this.byKey.set(key, (m = new Map()));
    const n = (m.get(value) ?? 0) + delta;
    if (n === 0) {
      m.delete(value);
      if (m.size === 0) this.byKey.delete(key);
    } else m.set(value, n);
  }
  bump(node: NodeInfo, key: string, delta: number): void {
    const v = node.node?.metadata.labels?.[key];
    if (v !== undefined) this.add(key, v, delta);
  }
  count(key: string, value: string): number {
    return this.byKey.get(key)?.get(value) ?? 0;
  }
  get empty(): boolean {
    return this.byKey.size === 0;
  }
  copy(): Counts {
    const c = new Counts();
    for (const [k, m] of this.byKey) c.byKey.set(k, new Map(m));
    return c;
  }
}

class FilterState {
  constructor(
    public podInfo: PodInfo,
    public existingAnti: Counts,
    public affinity: Counts,
    public antiAffinity: Counts,
  ) {}
  /** The snapshot nodes' values of the topology keys above, by slot (SnapshotLister.labelValues). */
  valuesBySlot?: Map<string, (string | undefined)[]>;
  clone(): FilterState {
    const c = new FilterState(this.podInfo, this.existingAnti.copy(), this.affinity.copy(), this.antiAffinity.copy());
    c.valuesBySlot = this.valuesBySlot;
    return c;
  }
}

/**
 * A node's value of a topology key: from the snapshot's arrays for a node of this cycle's snapshot
 * (filtering reads it for hundreds of nodes per pod), else from its labels.
 */
function topologyValue(st: FilterState, node: NodeInfo, key: string): string | undefined {
  const values = node.packed !== undefined ? st.valuesBySlot?.get(key) : undefined;
  return values ? values[node.slot] : node.node?.metadata.labels?.[key];
}

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  private readonly hardWeight: number;

  constructor(
    private readonly handle: Handle | undefined,
    args: InterPodAffinityArgs = {},
  ) {
    this.hardWeight = args.hardPodAffinityWeight ?? 1;
  }

  private nsLabels(ns: string | undefined): Record<string, string> | undefined {
    return this.handle?.namespaceLabels(ns ?? '');
  }

  /** Apply one existing pod's contribution to the filter counts. */
  private account(st: FilterState, pod: Pod, nsLabels: Record<string, string> | undefined, existing: PodInfo, node: NodeInfo, delta: number): void {
    for (const t of existing.requiredAntiAffinity) if (termMatches(t, pod, nsLabels)) st.existingAnti.bump(node, t.topologyKey, delta);
    const exNs = this.nsLabels(existing.pod.metadata.namespace);
    for (const t of st.podInfo.requiredAffinity) if (termMatches(t, existing.pod, exNs)) st.affinity.bump(node, t.topologyKey, delta);
    for (const t of st.podInfo.requiredAntiAffinity) if (termMatches(t, existing.pod, exNs)) st.antiAffinity.bump(node, t.topologyKey, delta);
  }

  preFilter(state: CycleState, pod: Pod, nodes: NodeInfo[]): [PreFilterResult | undefined, MaybeStatus] {
    const pi = newPodInfo(pod);
    const st = new FilterState(pi, new Counts(), new Counts(), new Counts());
    const nsLabels = this.nsLabels(pod.metadata.namespace);
    const snapshot = this.handle?.snapshot();
    if (snapshot?.antiAffinityGroups) {
      // Identical terms are grouped with their counts per topology value: test each once.
      for (const g of snapshot.antiAffinityGroups(pod.metadata.labels ?? {})) {
        if (!termMatches(g.term, pod, nsLabels)) continue;
        for (const [v, n] of g.counts) st.existingAnti.add(g.term.topologyKey, v, n);
      }
    } else {
      const withAnti = snapshot ? snapshot.havePodsWithRequiredAntiAffinity() : nodes.filter((n) => n.podsWithRequiredAntiAffinity.length);
      for (const ni of withAnti) {
        for (const ex of ni.podsWithRequiredAntiAffinity) {
          for (const t of ex.requiredAntiAffinity) if (termMatches(t, pod, nsLabels)) st.existingAnti.bump(ni, t.topologyKey, 1);
        }
      }
    }
    const countTerms = (terms: AffinityTerm[], into: Counts) => {
      for (const t of terms) {
        const refs = t.nsSelector.selectsNothing ? candidatePods(snapshot, t.namespaces, t.selector) : undefined;
        if (refs) {
          for (const { pi: ex, ni } of refs) if (termMatches(t, ex.pod, this.nsLabels(ex.pod.metadata.namespace))) into.bump(ni, t.topologyKey, 1);
          continue;
        }
        for (const ni of nodes) {
          for (const ex of ni.pods) if (termMatches(t, ex.pod, this.nsLabels(ex.pod.metadata.namespace))) into.bump(ni, t.topologyKey, 1);
        }
      }
    };
    countTerms(pi.requiredAffinity, st.affinity);
    countTerms(pi.requiredAntiAffinity, st.antiAffinity);
    if (!pi.requiredAffinity.length && !pi.requiredAntiAffinity.length && st.existingAnti.empty) return [undefined, skip()];
    if (snapshot?.labelValues && nodes === snapshot.list()) {
      const keys = new Set([...pi.requiredAffinity, ...pi.requiredAntiAffinity].map((t) => t.topologyKey));
      for (const k of st.existingAnti.byKey.keys()) keys.add(k);
      st.valuesBySlot = new Map([...keys].map((k) => [k, snapshot.labelValues!(k)]));
    }
    state.write(PRE_FILTER_KEY, st);
    return [undefined, undefined];
  }

  preFilterExtensions(): PreFilterExtensions {
    const update = (state: CycleState, pod: Pod, other: PodInfo, node: NodeInfo, delta: number): MaybeStatus => {
      const st = state.read<FilterState>(PRE_FILTER_KEY);
      if (st) this.account(st, pod, this.nsLabels(pod.metadata.namespace), other, node, delta);
      return undefined;
    };
    return { addPod: (s, p, o, n) => update(s, p, o, n, 1), removePod: (s, p, o, n) => update(s, p, o, n, -1) };
  }

  filter(state: CycleState, pod: Pod, node: NodeInfo): MaybeStatus {
    const st = state.read<FilterState>(PRE_FILTER_KEY);
    if (!st) return undefined;
    if (!this.satisfiesAffinity(st, pod, node)) return unresolvable(ERR_REASON_AFFINITY);
    for (const t of st.podInfo.requiredAntiAffinity) {
      const v = topologyValue(st, node, t.topologyKey);
      if (v !== undefined && st.antiAffinity.count(t.topologyKey, v) > 0) return unschedulable(ERR_REASON_ANTI_AFFINITY);
    }
    for (const [k, m] of st.existingAnti.byKey) {
      const v = topologyValue(st, node, k);
      if (v !== undefined && (m.get(v) ?? 0) > 0) return unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
    }
    return undefined;
  }

  private satisfiesAffinity(st: FilterState, pod: Pod, node: NodeInfo): boolean {
    let podsExist = true;
    for (const t of st.podInfo.requiredAffinity) {
      const v = topologyValue(st, node, t.topologyKey);
      if (v === undefined) return false; // every topology key must be on the node
      if (st.affinity.count(t.topologyKey, v) <= 0) podsExist = false;
    }
    if (podsExist) return true;
    // The first pod of a group that is affine to itself: allowed when no pod matches anywhere.
    const ns = this.nsLabels(pod.metadata.namespace);
    return st.affinity.empty && st.podInfo.requiredAffinity.every((t) => termMatches(t, pod, ns));
  }

  preScore(state: CycleState, pod: Pod, nodes: NodeInfo[]): MaybeStatus {
    const pi = newPodInfo(pod);
    const hasPref = pi.preferredAffinity.length + pi.preferredAntiAffinity.length > 0;
    const all = this.handle?.snapshot().list() ?? nodes;
    const source = hasPref ? all : (this.handle?.snapshot().havePodsWithAffinity() ?? nodes.filter((n) => n.podsWithAffinity.length));
    if (!hasPref && source.length === 0) return skip();
    const scores = new Map<string, Map<string, number>>();
    const add = (node: NodeInfo, key: string, w: number) => {
      const v = node.node?.metadata.labels?.[key];
      if (v === undefined || w === 0) return;
      let m = scores.get(key);
      if (!m) scores.set(key, (m = new Map()));
      m.set(v, (m.get(v) ?? 0) + w);
    };
    const nsLabels = this.nsLabels(pod.metadata.namespace);
    for (const ni of source) {
      if (!hasPref && ni.scoredAffinityPods === 0) continue;
      for (const ex of hasPref ? ni.pods : ni.podsWithAffinity) {
        // Existing pods count only through their own required affinity and preferred terms
        // (their required anti-affinity is a filter matter), so most are skipped cheaply.
        if (!pi.preferredAffinity.length && !pi.preferredAntiAffinity.length && !ex.requiredAffinity.length && !ex.preferredAffinity.length && !ex.preferredAntiAffinity.length) continue;
        const exNs = this.nsLabels(ex.pod.metadata.namespace);
        for (const t of pi.preferredAffinity) if (termMatches(t, ex.pod, exNs)) add(ni, t.topologyKey, t.weight);
        for (const t of pi.preferredAntiAffinity) if (termMatches(t, ex.pod, exNs)) add(ni, t.topologyKey, -t.weight);
        if (this.hardWeight > 0) for (const t of ex.requiredAffinity) if (termMatches(t, pod, nsLabels)) add(ni, t.topologyKey, this.hardWeight);
        for (const t of ex.preferredAffinity) if (termMatches(t, pod, nsLabels)) add(ni, t.topologyKey, t.weight);
        for (const t of ex.preferredAntiAffinity) if (termMatches(t, pod, nsLabels)) add(ni, t.topologyKey, -t.weight);
      }
    }
    // Nothing matched: every node would score 0, exactly what skipping gives.
    if (scores.size === 0) return skip();
    state.write(PRE_SCORE_KEY, scores);
    return undefined;
  }

  score(state: CycleState, _pod: Pod, node: NodeInfo): [number, MaybeStatus] {
    const scores = state.read<Map<string, Map<string, number>>>(PRE_SCORE_KEY);
    if (!scores) return [0, undefined];
    const labels = node.node?.metadata.labels ?? {};
    let s = 0;
    for (const [key, m] of scores) {
      const v = labels[key];
      if (v !== undefined) s += m.get(v) ?? 0;
    }
    return [s, undefined];
  }

  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): MaybeStatus {
    const m = state.read<Map<string, Map<string, number>>>(PRE_SCORE_KEY);
    if (!m || m.size === 0) return undefined;
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      min = Math.min(min, s.score);
      max = Math.max(max, s.score);
    }
    const diff = max - min;
    for (const s of scores) s.score = diff > 0 ? Math.trunc((MAX_NODE_SCORE * (s.score - min)) / diff) : 0;
    return undefined;
  }

  eventsToRegister(): ClusterEvent[] {
    return ['AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete', 'NodeAdd', 'NodeUpdate', 'NamespaceChange'];
  }
}

export type { AffinityTerm };
export const factory: PluginFactory = ({ handle, args }) => new InterPodAffinity(handle, args);
