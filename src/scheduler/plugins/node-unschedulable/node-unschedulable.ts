// Rejects nodes marked spec.unschedulable unless the pod tolerates the unschedulable taint.

import { tolerationsTolerate } from '../../framework/helpers.ts';
import { unresolvable, type MaybeStatus } from '../../framework/status.ts';
import type { ClusterEvent, CycleState, EnqueueExtensions, FilterPlugin, NodeInfo, Pod, PluginFactory } from '../../framework/types.ts';

export const NAME = 'NodeUnschedulable';
export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
const UNSCHEDULABLE_TAINT = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

export class NodeUnschedulable implements FilterPlugin, EnqueueExtensions {
  readonly name = NAME;
  filter(_s: CycleState, pod: Pod, node: NodeInfo): MaybeStatus {
    if (!node.unschedulable) return undefined;
    if (tolerationsTolerate(pod.spec?.tolerations, UNSCHEDULABLE_TAINT)) return undefined;
    return unresolvable(ERR_REASON_UNSCHEDULABLE);
  }
  eventsToRegister(): ClusterEvent[] {
    return ['NodeAdd', 'NodeUpdate'];
  }
}

export const factory: PluginFactory = () => new NodeUnschedulable();
