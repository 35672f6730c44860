// Taints: NoSchedule and NoExecute taints the pod does not tolerate reject the node;
// untolerated PreferNoSchedule taints lower its score.

import type { Toleration } from '../../../api/core/taints.ts';
import { findUntoleratedTaint, normalize, tolerationsTolerate } from '../../framework/helpers.ts';
import { unresolvable, type MaybeStatus } from '../../framework/status.ts';
import type { ClusterEvent, CycleState, EnqueueExtensions, FilterPlugin, NodeInfo, NodeScore, Pod, PluginFactory, PreScorePlugin, ScorePlugin } from '../../framework/types.ts';

export const NAME = 'TaintToleration';
const KEY = 'PreScore' + NAME;

const hardEffect = (e: string) => e === 'NoSchedule' || e === 'NoExecute';

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;

  filter(_s: CycleState, pod: Pod, node: NodeInfo): MaybeStatus {
    const taint = node.taints.length ? findUntoleratedTaint(node.taints, pod.spec?.tolerations, hardEffect) : undefined;
    if (!taint) return undefined;
    return unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
  }

  preScore(state: CycleState, pod: Pod): MaybeStatus {
    // Only tolerations that can apply to PreferNoSchedule taints matter for scoring.
    const tols = (pod.spec?.tolerations ?? []).filter((t: Toleration) => !t.effect || t.effect === 'PreferNoSchedule');
    state.write(KEY, tols);
    return undefined;
  }

  score(state: CycleState, pod: Pod, node: NodeInfo): [number, MaybeStatus] {
    const tols = state.read<Toleration[]>(KEY) ?? pod.spec?.tolerations ?? [];
    let n = 0;
    for (const taint of node.taints) {
      if (taint.effect === 'PreferNoSchedule' && !tolerationsTolerate(tols, taint)) n++;
    }
    return [n, undefined];
  }

  normalizeScore(_s: CycleState, _p: Pod, scores: NodeScore[]): MaybeStatus {
    normalize(true)(scores);
    return undefined;
  }

  eventsToRegister(): ClusterEvent[] {
    return ['NodeAdd', 'NodeUpdate'];
  }
}

export const factory: PluginFactory = () => new TaintToleration();
