// Rejects every node but the one named in spec.nodeName, when set.

import { unresolvable, type MaybeStatus } from '../../framework/status.ts';
import type { ClusterEvent, CycleState, EnqueueExtensions, FilterPlugin, NodeInfo, Pod, PluginFactory } from '../../framework/types.ts';

export const NAME = 'NodeName';
export const ERR_REASON = "node(s) didn't match the requested node name";

export class NodeName implements FilterPlugin, EnqueueExtensions {
  readonly name = NAME;
  filter(_s: CycleState, pod: Pod, node: NodeInfo): MaybeStatus {
    const want = pod.spec?.nodeName;
    if (!want || want === node.name) return undefined;
    return unresolvable(ERR_REASON);
  }
  eventsToRegister(): ClusterEvent[] {
    return ['NodeAdd'];
  }
}

export const factory: PluginFactory = () => new NodeName();
