// nodeSelector and node affinity: required terms filter (ORed terms, ANDed expressions,
// matchFields on metadata.name), preferred terms score by the sum of matching weights.

import { RequiredNodeAffinity, compileNodeSelectorTerm, normalize, termMatchesNode, type CompiledTerm } from '../../framework/helpers.ts';
import { skip, unresolvable, type MaybeStatus } from '../../framework/status.ts';
import type {
  ClusterEvent,
  CycleState,
  EnqueueExtensions,
  FilterPlugin,
  NodeInfo,
  NodeScore,
  Pod,
  PluginFactory,
  PreFilterPlugin,
  PreFilterResult,
  PreScorePlugin,
  ScorePlugin,
} from '../../framework/types.ts';

export const NAME = 'NodeAffinity';
export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
const PRE_FILTER_KEY = 'PreFilter' + NAME;
const PRE_SCORE_KEY = 'PreScore' + NAME;

/** Node names the required terms pin the pod to via matchFields metadata.name In, if every term does. */
export function nodeNamesFromTerms(pod: Pod): Set<string> | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms?.length) return undefined;
  const union = new Set<string>();
  for (const t of terms) {
    let names: Set<string> | undefined;
    for (const f of t.matchFields ?? []) {
      if (f.key !== 'metadata.name' || f.operator !== 'In') continue;
      const vals = new Set<string>(f.values ?? []);
      names = names ? new Set([...names].filter((n) => vals.has(n))) : vals;
    }
    if (!names) return undefined;
    for (const n of names) union.add(n);
  }
  return union;
}

interface PreferredTerm {
  weight: number;
  term: CompiledTerm;
}

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;

  preFilter(state: CycleState, pod: Pod): [PreFilterResult | undefined, MaybeStatus] {
    const hasSelector = pod.spec?.nodeSelector && Object.keys(pod.spec.nodeSelector).length > 0;
    const hasRequired = !!pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (!hasSelector && !hasRequired) return [undefined, skip()];
    state.write(PRE_FILTER_KEY, new RequiredNodeAffinity(pod));
    const names = nodeNamesFromTerms(pod);
    if (names && names.size === 0) return [undefined, unresolvable(ERR_REASON_POD)];
    return [names ? { nodeNames: names } : undefined, undefined];
  }

  filter(state: CycleState, pod: Pod, node: NodeInfo): MaybeStatus {
    if (!node.node) return unresolvable('node not found');
    const req = state.read<RequiredNodeAffinity>(PRE_FILTER_KEY) ?? new RequiredNodeAffinity(pod);
    return req.match(node.node) ? undefined : unresolvable(ERR_REASON_POD);
  }

  preScore(state: CycleState, pod: Pod): MaybeStatus {
    const prefs = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    const terms: PreferredTerm[] = prefs.filter((p: any) => p.weight).map((p: any) => ({ weight: p.weight, term: compileNodeSelectorTerm(p.preference) }));
    if (!terms.length) return skip();
    state.write(PRE_SCORE_KEY, terms);
    return undefined;
  }

  score(state: CycleState, _pod: Pod, node: NodeInfo): [number, MaybeStatus] {
    const terms = state.read<PreferredTerm[]>(PRE_SCORE_KEY) ?? [];
    let s = 0;
    for (const t of terms) if (node.node && termMatchesNode(t.term, node.node)) s += t.weight;
    return [s, undefined];
  }

  normalizeScore(_s: CycleState, _p: Pod, scores: NodeScore[]): MaybeStatus {
    normalize(false)(scores);
    return undefined;
  }

  eventsToRegister(): ClusterEvent[] {
    return ['NodeAdd', 'NodeUpdate'];
  }
}

export const factory: PluginFactory = () => new NodeAffinity();
