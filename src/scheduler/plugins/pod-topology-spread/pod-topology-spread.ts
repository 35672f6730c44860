// PodTopologySpread: DoNotSchedule constraints filter nodes whose domain would exceed maxSkew;
// ScheduleAnyway constraints (and the cluster defaults) score nodes with fewer matching pods higher.

import type { LabelSelector } from '../../../machinery/labels.ts';
import { RequiredNodeAffinity, candidatePods } from '../../framework/helpers.ts';
import type { PodInfo } from '../../framework/node-info.ts';
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
  type SnapshotLister,
} from '../../framework/types.ts';
import {
  LABEL_HOSTNAME,
  SYSTEM_DEFAULT_CONSTRAINTS,
  compileConstraints,
  countMatching,
  defaultConstraints,
  nodeHasAllKeys,
  nodeIncluded,
  type Constraint,
  type RawConstraint,
} from './constraints.ts';

export const NAME = 'PodTopologySpread';
export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + ' (missing required label)';
const PRE_FILTER_KEY = 'PreFilter' + NAME;
const PRE_SCORE_KEY = 'PreScore' + NAME;

export interface PodTopologySpreadArgs {
  defaultConstraints?: RawConstraint[];
  defaultingType?: 'System' | 'List';
}

const pairKey = (k: string, v: string) => `${k}\u0000${v}`;

/** Per constraint: matching pod count per topology value (every eligible domain present, maybe 0). */
class FilterState {
  constructor(
    public constraints: Constraint[],
    public counts: Map<string, number>[],
    public minByKey: number[],
  ) {}
  /** Whether each constraint's selector matches the incoming pod itself (fixed for the cycle). */
  selfMatch?: number[];
  /** Per constraint, the snapshot nodes' topology values by slot (SnapshotLister.labelValues). */
  valuesBySlot?: (string | undefined)[][];
  clone(): FilterState {
    const c = new FilterState(this.constraints, this.counts.map((m) => new Map(m)), [...this.minByKey]);
    c.selfMatch = this.selfMatch;
    c.valuesBySlot = this.valuesBySlot;
    return c;
  }
  recomputeMin(i: number): void {
    let min = Infinity;
    for (const n of this.counts[i].values()) if (n < min) min = n;
    this.minByKey[i] = min;
  }
}

interface ScoreState {
  constraints: Constraint[];
  ignored: Set<string>;
  pairCounts: Map<string, number>;
  weights: number[];
}

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  private readonly defaults: RawConstraint[];

  constructor(
    private readonly handle: Handle | undefined,
    args: PodTopologySpreadArgs = {},
  ) {
    this.defaults = (args.defaultingType ?? 'System') === 'System' ? SYSTEM_DEFAULT_CONSTRAINTS : (args.defaultConstraints ?? []);
  }

  private constraintsFor(pod: Pod, action: string): [Constraint[], boolean] {
    const own: RawConstraint[] = pod.spec?.topologySpreadConstraints ?? [];
    if (own.length) return [compileConstraints(pod, own, action), true];
    if (!this.defaults.length || !this.handle?.selectorsForPod) return [[], false];
    const sels: LabelSelector[] = this.handle.selectorsForPod(pod);
    return [defaultConstraints(pod, this.defaults, sels, action), false];
  }

  preFilter(state: CycleState, pod: Pod, nodes: NodeInfo[]): [PreFilterResult | undefined, MaybeStatus] {
    const [constraints] = this.constraintsFor(pod, 'DoNotSchedule');
    if (!constraints.length) return [undefined, skip()];
    const affinity = new RequiredNodeAffinity(pod);
    const ns = pod.metadata.namespace ?? '';
    const counts = constraints.map(() => new Map<string, number>());
    const snapshot = this.handle?.snapshot();
    // Without node affinity or honoured taints every node with the keys is eligible (the common case).
    const simple = !affinity.constrains() && constraints.every((c) => !c.honorTaints);
    const isEligible = (ni: NodeInfo, i: number): boolean => {
      const node = ni.node;
      if (!node || !nodeHasAllKeys(node, constraints)) return false;
      return simple || nodeIncluded(constraints[i], pod, node, affinity);
    };
    // Every eligible node registers its domain (with zero pods); pods are counted below.
    const cached = simple ? this.domains(snapshot, nodes, constraints) : undefined;
    if (cached) {
      constraints.forEach((c, i) => {
        for (const v of cached.get(c.topologyKey) ?? []) counts[i].set(v, 0);
      });
    } else for (const ni of nodes) {
      const labels = ni.node?.metadata.labels;
      if (!labels) continue;
      for (let i = 0; i < constraints.length; i++) {
        if (!isEligible(ni, i)) continue;
        const v = labels[constraints[i].topologyKey];
        if (!counts[i].has(v)) counts[i].set(v, 0);
      }
    }
    constraints.forEach((c, i) => {
      const m = counts[i];
      const add = (ni: NodeInfo, n: number) => {
        if (!n || !isEligible(ni, i)) return;
        const v = ni.node!.metadata.labels![c.topologyKey];
        m.set(v, (m.get(v) ?? 0) + n);
      };
      const refs = candidatePods(snapshot, [ns], c.selector, nodes.length);
      if (refs) {
        for (const { pi, ni } of refs) {
          if (!pi.pod.metadata.deletionTimestamp && c.selector.matches(pi.pod.metadata.labels)) add(ni, 1);
        }
      } else {
        for (const ni of nodes) if (ni.pods.length) add(ni, countMatching(ni, c.selector, ns));
      }
    });
    const st = new FilterState(constraints, counts, []);
    constraints.forEach((_, i) => st.recomputeMin(i));
    if (snapshot?.labelValues && nodes === snapshot.list()) st.valuesBySlot = constraints.map((c) => snapshot.labelValues!(c.topologyKey));
    state.write(PRE_FILTER_KEY, st);
    return [undefined, undefined];
  }

  private domainCache?: { snapshot: SnapshotLister; version: number; sig: string; values: Map<string, string[]> };

  /** Topology values of nodes carrying all the constraints' keys, cached until the node set changes. */
  private domains(snapshot: SnapshotLister | undefined, nodes: NodeInfo[], constraints: Constraint[]): Map<string, string[]> | undefined {
    if (!snapshot?.nodesVersion || nodes !== snapshot.list()) return undefined;
    const version = snapshot.nodesVersion();
    const keys = [...new Set(constraints.map((c) => c.topologyKey))].sort();
    const sig = keys.join('\u0000');
    const dc = this.domainCache;
    if (dc && dc.snapshot === snapshot && dc.version === version && dc.sig === sig) return dc.values;
    const sets = new Map(keys.map((k) => [k, new Set<string>()]));
    for (const ni of nodes) {
      const labels = ni.node?.metadata.labels;
      if (!labels || !keys.every((k) => k in labels)) continue;
      for (const k of keys) sets.get(k)!.add(labels[k]);
    }
    const values = new Map([...sets].map(([k, set]) => [k, [...set]]));
    this.domainCache = { snapshot, version, sig, values };
    return values;
  }

  preFilterExtensions(): PreFilterExtensions {
    const update = (state: CycleState, pod: Pod, other: PodInfo, node: NodeInfo, delta: number): MaybeStatus => {
      const st = state.read<FilterState>(PRE_FILTER_KEY);
      if (!st || !node.node || !nodeHasAllKeys(node.node, st.constraints)) return undefined;
      if (other.pod.metadata.namespace !== pod.metadata.namespace) return undefined;
      const affinity = new RequiredNodeAffinity(pod);
      st.constraints.forEach((c, i) => {
        if (!nodeIncluded(c, pod, node.node!, affinity) || !c.selector.matches(other.pod.metadata.labels)) return;
        const v = node.node!.metadata.labels![c.topologyKey];
        st.counts[i].set(v, (st.counts[i].get(v) ?? 0) + delta);
        st.recomputeMin(i);
      });
      return undefined;
    };
    return {
      addPod: (s, p, o, n) => update(s, p, o, n, 1),
      removePod: (s, p, o, n) => update(s, p, o, n, -1),
    };
  }

  filter(state: CycleState, pod: Pod, node: NodeInfo): MaybeStatus {
    const st = state.read<FilterState>(PRE_FILTER_KEY);
    if (!st || !st.constraints.length) return undefined;
    const podLabels = pod.metadata.labels;
    const selfMatch = (st.selfMatch ??= st.constraints.map((c) => (c.selector.matches(podLabels) ? 1 : 0)));
    // A node of this cycle's snapshot (packed, see NodeInfo.slot) has its values in an array:
    // cheaper than a lookup in each node's labels for the hundreds of nodes filtered per pod.
    const bySlot = node.packed !== undefined ? st.valuesBySlot : undefined;
    const labels = bySlot ? undefined : (node.node?.metadata.labels ?? {});
    for (let i = 0; i < st.constraints.length; i++) {
      const c = st.constraints[i];
      const value = bySlot ? bySlot[i][node.slot] : labels![c.topologyKey];
      if (value === undefined) return unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
      const self = selfMatch[i];
      let min = st.minByKey[i];
      if (!Number.isFinite(min)) min = 0;
      // Fewer domains than minDomains: the global minimum is treated as zero.
      if (st.counts[i].size < c.minDomains) min = 0;
      const match = st.counts[i].get(value) ?? 0;
      if (match + self - min > c.maxSkew) return unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
    }
    return undefined;
  }

  preScore(state: CycleState, pod: Pod, filtered: NodeInfo[]): MaybeStatus {
    const [constraints, own] = this.constraintsFor(pod, 'ScheduleAnyway');
    if (!constraints.length || !filtered.length) return skip();
    const ignored = new Set<string>();
    const pairCounts = new Map<string, number>();
    const sizes = constraints.map(() => new Set<string>());
    let hostnameSize = 0;
    for (const ni of filtered) {
      const node = ni.node!;
      if (own && !nodeHasAllKeys(node, constraints)) {
        ignored.add(ni.name);
        continue;
      }
      hostnameSize++;
      constraints.forEach((c, i) => {
        if (c.topologyKey === LABEL_HOSTNAME) return;
        const v = node.metadata.labels?.[c.topologyKey];
        if (v === undefined) return;
        pairCounts.set(pairKey(c.topologyKey, v), 0);
        sizes[i].add(v);
      });
    }
    const affinity = new RequiredNodeAffinity(pod);
    const ns = pod.metadata.namespace ?? '';
    const snapshot = this.handle?.snapshot();
    const eligible = (ni: NodeInfo, c: Constraint): string | undefined => {
      const node = ni.node;
      if (!node || (own && !nodeHasAllKeys(node, constraints))) return undefined;
      const v = node.metadata.labels?.[c.topologyKey];
      if (v === undefined) return undefined;
      const k = pairKey(c.topologyKey, v);
      if (!pairCounts.has(k) || !nodeIncluded(c, pod, node, affinity)) return undefined;
      return k;
    };
    const nodeCount = snapshot?.list().length ?? filtered.length;
    for (let i = 0; i < constraints.length; i++) {
      const c = constraints[i];
      // No filtered node has this key (e.g. no zones at all): there is nothing to count.
      if (c.topologyKey === LABEL_HOSTNAME || sizes[i].size === 0) continue;
      // Matching pods one by one, or nodes one by one, whichever is fewer (see candidatePods).
      const refs = candidatePods(snapshot, [ns], c.selector, nodeCount);
      if (refs) {
        for (const { pi, ni } of refs) {
          if (pi.pod.metadata.deletionTimestamp || !c.selector.matches(pi.pod.metadata.labels)) continue;
          const k = eligible(ni, c);
          if (k) pairCounts.set(k, pairCounts.get(k)! + 1);
        }
        continue;
      }
      for (const ni of snapshot?.list() ?? filtered) {
        const k = eligible(ni, c);
        if (k) pairCounts.set(k, pairCounts.get(k)! + countMatching(ni, c.selector, ns));
      }
    }
    const weights = constraints.map((c, i) => Math.log((c.topologyKey === LABEL_HOSTNAME ? hostnameSize : sizes[i].size) + 2));
    state.write(PRE_SCORE_KEY, { constraints, ignored, pairCounts, weights } satisfies ScoreState);
    return undefined;
  }

  score(state: CycleState, pod: Pod, node: NodeInfo): [number, MaybeStatus] {
    const st = state.read<ScoreState>(PRE_SCORE_KEY);
    if (!st || st.ignored.has(node.name)) return [0, undefined];
    const labels = node.node?.metadata.labels ?? {};
    let score = 0;
    st.constraints.forEach((c, i) => {
      const v = labels[c.topologyKey];
      if (v === undefined) return;
      const cnt = c.topologyKey === LABEL_HOSTNAME ? countMatching(node, c.selector, pod.metadata.namespace ?? '') : (st.pairCounts.get(pairKey(c.topologyKey, v)) ?? 0);
      score += cnt * st.weights[i] + (c.maxSkew - 1);
    });
    return [Math.round(score), undefined];
  }

  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): MaybeStatus {
    const st = state.read<ScoreState>(PRE_SCORE_KEY);
    if (!st) return undefined;
    let min = Infinity;
    let max = 0;
    for (const s of scores) {
      if (st.ignored.has(s.name)) continue;
      min = Math.min(min, s.score);
      max = Math.max(max, s.score);
    }
    for (const s of scores) {
      if (st.ignored.has(s.name)) s.score = 0;
      else if (max === 0) s.score = MAX_NODE_SCORE;
      else s.score = Math.trunc((MAX_NODE_SCORE * (max + min - s.score)) / max);
    }
    return undefined;
  }

  eventsToRegister(): ClusterEvent[] {
    return ['NodeAdd', 'NodeUpdate', 'NodeDelete', 'AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete'];
  }
}

export const factory: PluginFactory = ({ handle, args }) => new PodTopologySpread(handle, args);
