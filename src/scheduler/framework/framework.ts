// A profile's plugins, run extension point by extension point in configured order. Score plugins
// carry weights; a plugin skipped at PreFilter/PreScore is not run at Filter/Score for that pod.

import { Code, Status, asStatus, type MaybeStatus } from './status.ts';
import type { NodeInfo, PodInfo } from './node-info.ts';
import {
  CycleState,
  MAX_NODE_SCORE,
  type BindPlugin,
  type FilterPlugin,
  type FrameworkRunner,
  type NodeScore,
  type NodeToStatus,
  type PermitPlugin,
  type Plugin,
  type Pod,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreBindPlugin,
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type ReservePlugin,
  type ScorePlugin,
} from './types.ts';

export interface ProfilePlugins {
  preFilter: PreFilterPlugin[];
  filter: FilterPlugin[];
  postFilter: PostFilterPlugin[];
  preScore: PreScorePlugin[];
  score: Array<{ plugin: ScorePlugin; weight: number }>;
  reserve: ReservePlugin[];
  permit: PermitPlugin[];
  preBind: PreBindPlugin[];
  bind: BindPlugin[];
}

export function emptyProfilePlugins(): ProfilePlugins {
  return { preFilter: [], filter: [], postFilter: [], preScore: [], score: [], reserve: [], permit: [], preBind: [], bind: [] };
}

function tag(s: MaybeStatus, plugin: Plugin): Status | undefined {
  if (!s || s.code === Code.Success) return undefined;
  return s.withPlugin(plugin.name);
}

function invalidScore(plugin: string, v: number): Status {
  return new Status(Code.Error, [], new Error(`plugin "${plugin}" returns an invalid score ${v}, it should in the range of [0, ${MAX_NODE_SCORE}] after normalizing`));
}

export class Framework implements FrameworkRunner {
  constructor(
    readonly schedulerName: string,
    readonly plugins: ProfilePlugins,
    /** Profile percentageOfNodesToScore (0 = adaptive). */
    readonly percentageOfNodesToScore = 0,
  ) {}

  hasFilterPlugins(): boolean {
    return this.plugins.filter.length > 0;
  }
  hasScorePlugins(): boolean {
    return this.plugins.score.length > 0;
  }

  /** PreFilter: intersect node restrictions; the first rejection ends the cycle. */
  runPreFilterPlugins(state: CycleState, pod: Pod, nodes: NodeInfo[]): [PreFilterResult | undefined, Status | undefined] {
    let result: PreFilterResult | undefined;
    for (const p of this.plugins.preFilter) {
      let r: PreFilterResult | undefined;
      let s: MaybeStatus;
      try {
        [r, s] = p.preFilter(state, pod, nodes);
      } catch (e) {
        return [undefined, asStatus(e).withPlugin(p.name)];
      }
      if (s?.code === Code.Skip) {
        state.skipFilter.add(p.name);
        continue;
      }
      const st = tag(s, p);
      if (st) return [undefined, st];
      if (r?.nodeNames) {
        const plugins = [...(result?.plugins ?? []), p.name];
        if (!result?.nodeNames) result = { nodeNames: new Set(r.nodeNames), plugins };
        else result = { nodeNames: new Set([...result.nodeNames].filter((n) => r!.nodeNames!.has(n))), plugins };
        if (result.nodeNames!.size === 0) {
          return [undefined, new Status(Code.UnschedulableAndUnresolvable, [`node(s) didn't satisfy plugin(s) [${plugins.join(' ')}] simultaneously`]).withPlugin(p.name)];
        }
      }
    }
    state.activeFilters = this.plugins.filter.filter((p) => !state.skipFilter.has(p.name));
    return [result, undefined];
  }

  runFilterPlugins(state: CycleState, pod: Pod, node: NodeInfo): Status | undefined {
    const filters = state.activeFilters ?? this.plugins.filter.filter((p) => !state.skipFilter.has(p.name));
    for (let i = 0; i < filters.length; i++) {
      const p = filters[i];
      let s: MaybeStatus;
      try {
        s = p.filter(state, pod, node);
      } catch (e) {
        return asStatus(e).withPlugin(p.name);
      }
      const st = tag(s, p);
      if (st) return st;
    }
    return undefined;
  }

  runPreFilterExtensionAddPod(state: CycleState, pod: Pod, toAdd: PodInfo, node: NodeInfo): MaybeStatus {
    for (const p of this.plugins.preFilter) {
      if (state.skipFilter.has(p.name)) continue;
      const s = tag(p.preFilterExtensions?.()?.addPod(state, pod, toAdd, node), p);
      if (s) return s;
    }
    return undefined;
  }

  runPreFilterExtensionRemovePod(state: CycleState, pod: Pod, toRemove: PodInfo, node: NodeInfo): MaybeStatus {
    for (const p of this.plugins.preFilter) {
      if (state.skipFilter.has(p.name)) continue;
      const s = tag(p.preFilterExtensions?.()?.removePod(state, pod, toRemove, node), p);
      if (s) return s;
    }
    return undefined;
  }

  /** PostFilter plugins run until one succeeds or one gives up for good. */
  async runPostFilterPlugins(state: CycleState, pod: Pod, filtered: NodeToStatus): Promise<[PostFilterResult | undefined, Status]> {
    const reasons: string[] = [];
    let result: PostFilterResult | undefined;
    let rejector = '';
    for (const p of this.plugins.postFilter) {
      let r: PostFilterResult | undefined;
      let s: MaybeStatus;
      try {
        [r, s] = await p.postFilter(state, pod, filtered);
      } catch (e) {
        return [undefined, asStatus(e).withPlugin(p.name)];
      }
      if (!s || s.code === Code.Success) return [r, new Status(Code.Success).withPlugin(p.name)];
      if (s.code === Code.UnschedulableAndUnresolvable) return [r, s.withPlugin(p.name)];
      if (s.code !== Code.Unschedulable) return [undefined, s.withPlugin(p.name)];
      reasons.push(...s.reasons);
      if (r?.nominatedNodeName !== undefined) result = r;
      rejector ||= p.name;
    }
    return [result, new Status(Code.Unschedulable, reasons).withPlugin(rejector)];
  }

  runPreScorePlugins(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status | undefined {
    for (const p of this.plugins.preScore) {
      const s = p.preScore(state, pod, nodes);
      if (s?.code === Code.Skip) {
        state.skipScore.add(p.name);
        continue;
      }
      const st = tag(s, p);
      if (st) return st;
    }
    return undefined;
  }

  /** Weighted sum of normalised plugin scores per node, in node order. */
  runScorePlugins(state: CycleState, pod: Pod, nodes: NodeInfo[]): [NodeScore[], Status | undefined] {
    const n = nodes.length;
    const sums = new Float64Array(n);
    const totals = (): NodeScore[] => nodes.map((node, i) => ({ name: node.name, score: sums[i] }));
    for (const { plugin, weight } of this.plugins.score) {
      if (state.skipScore.has(plugin.name)) continue;
      // Only plugins that normalise need the per-node records; the rest add straight into sums.
      const scores: NodeScore[] | undefined = plugin.normalizeScore ? new Array(n) : undefined;
      for (let i = 0; i < n; i++) {
        const [v, s] = plugin.score(state, pod, nodes[i]);
        if (s && s.code !== Code.Success) return [totals(), s.withPlugin(plugin.name)];
        if (scores) scores[i] = { name: nodes[i].name, score: v };
        else if (v > MAX_NODE_SCORE || v < 0) return [totals(), invalidScore(plugin.name, v)];
        else sums[i] += v * weight;
      }
      if (!scores) continue;
      const st = tag(plugin.normalizeScore!(state, pod, scores), plugin);
      if (st) return [totals(), st];
      for (let i = 0; i < n; i++) {
        const v = scores[i].score;
        if (v > MAX_NODE_SCORE || v < 0) return [totals(), invalidScore(plugin.name, v)];
        sums[i] += v * weight;
      }
    }
    return [totals(), undefined];
  }

  runReservePluginsReserve(state: CycleState, pod: Pod, nodeName: string): Status | undefined {
    for (const p of this.plugins.reserve) {
      const s = tag(p.reserve(state, pod, nodeName), p);
      if (s) return s;
    }
    return undefined;
  }

  /** Unreserve in reverse order, as upstream. */
  runReservePluginsUnreserve(state: CycleState, pod: Pod, nodeName: string): void {
    for (let i = this.plugins.reserve.length - 1; i >= 0; i--) this.plugins.reserve[i].unreserve(state, pod, nodeName);
  }

  /** Returns a rejection, or the longest wait requested (0 = go). */
  runPermitPlugins(state: CycleState, pod: Pod, nodeName: string): [Status | undefined, number] {
    let wait = 0;
    for (const p of this.plugins.permit) {
      const [s, timeout] = p.permit(state, pod, nodeName);
      if (s?.code === Code.Wait) {
        wait = Math.max(wait, timeout);
        continue;
      }
      const st = tag(s, p);
      if (st) return [st, 0];
    }
    return [undefined, wait];
  }

  async runPreBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<Status | undefined> {
    for (const p of this.plugins.preBind) {
      const st = tag(await p.preBind(state, pod, nodeName), p);
      if (st) return st;
    }
    return undefined;
  }

  async runBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<Status | undefined> {
    for (const p of this.plugins.bind) {
      let s: MaybeStatus;
      try {
        s = await p.bind(state, pod, nodeName);
      } catch (e) {
        return asStatus(e).withPlugin(p.name);
      }
      if (s?.code === Code.Skip) continue;
      return tag(s, p);
    }
    return new Status(Code.Error, [], new Error('no bind plugin handled the pod'));
  }
}
