// Favours nodes whose resource usage fractions stay close to each other after placing the pod:
// score = (1 - standard deviation of the fractions) * 100.

import { podRequests, type Resource } from '../../framework/resource.ts';
import { skip, type MaybeStatus } from '../../framework/status.ts';
import { MAX_NODE_SCORE, type CycleState, type NodeInfo, type Pod, type PluginFactory, type PreScorePlugin, type ScorePlugin } from '../../framework/types.ts';
import { DEFAULT_RESOURCES, allocatableAndRequested, resourceOf, type ResourceSpec } from '../node-resources-fit/resource-allocation.ts';

export const NAME = 'NodeResourcesBalancedAllocation';
const KEY = 'PreScore' + NAME;

export function balancedScore(requested: number[], allocatable: number[]): number {
  // The common case, two resources, without building the fractions list.
  if (requested.length === 2 && allocatable[0] !== 0 && allocatable[1] !== 0) {
    const f0 = Math.min(1, requested[0] / allocatable[0]);
    const f1 = Math.min(1, requested[1] / allocatable[1]);
    return Math.trunc((1 - Math.abs((f0 - f1) / 2)) * MAX_NODE_SCORE);
  }
  const fractions: number[] = [];
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    fractions.push(Math.min(1, requested[i] / allocatable[i]));
  }
  let std = 0;
  if (fractions.length === 2) {
    std = Math.abs((fractions[0] - fractions[1]) / 2);
  } else if (fractions.length > 2) {
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    const variance = fractions.reduce((a, f) => a + (f - mean) * (f - mean), 0) / fractions.length;
    std = Math.sqrt(variance);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

export class NodeResourcesBalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  private readonly resources: ResourceSpec[];
  private readonly scratch: [number[], number[]] = [[], []];

  constructor(args: { resources?: ResourceSpec[] } = {}) {
    this.resources = args.resources?.length ? args.resources : DEFAULT_RESOURCES;
  }

  preScore(state: CycleState, pod: Pod): MaybeStatus {
    const req = podRequests(pod);
    // A pod that requests none of the resources cannot change the balance.
    if (this.resources.every((r) => resourceOf(req, r.name) === 0)) return skip();
    state.write(KEY, req);
    return undefined;
  }

  score(state: CycleState, pod: Pod, node: NodeInfo): [number, MaybeStatus] {
    const req = state.read<Resource>(KEY) ?? podRequests(pod);
    const [alloc, requested] = allocatableAndRequested(node, req, this.resources, true, this.scratch);
    return [balancedScore(requested, alloc), undefined];
  }
}

export const factory: PluginFactory = ({ args }) => new NodeResourcesBalancedAllocation(args);
