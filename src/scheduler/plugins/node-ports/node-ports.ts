// Rejects nodes where a hostPort the pod wants is already taken (same protocol and port, on the
// same IP or where either side listens on 0.0.0.0).

import { podHostPorts, type HostPort } from '../../framework/node-info.ts';
import { skip, unschedulable, type MaybeStatus } from '../../framework/status.ts';
import type { ClusterEvent, CycleState, EnqueueExtensions, FilterPlugin, NodeInfo, Pod, PluginFactory, PreFilterPlugin, PreFilterResult } from '../../framework/types.ts';

export const NAME = 'NodePorts';
export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";
const KEY = 'PreFilter' + NAME;

export class NodePorts implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NAME;
  preFilter(state: CycleState, pod: Pod): [PreFilterResult | undefined, MaybeStatus] {
    const ports = podHostPorts(pod);
    if (!ports.length) return [undefined, skip()];
    state.write(KEY, ports);
    return [undefined, undefined];
  }
  filter(state: CycleState, pod: Pod, node: NodeInfo): MaybeStatus {
    const ports = state.read<HostPort[]>(KEY) ?? podHostPorts(pod);
    for (const p of ports) if (node.usedPorts.conflicts(p)) return unschedulable(ERR_REASON);
    return undefined;
  }
  eventsToRegister(): ClusterEvent[] {
    return ['NodeAdd', 'AssignedPodDelete'];
  }
}

export const factory: PluginFactory = () => new NodePorts();
