// Filters nodes without room for the pod's requests (cpu, memory, ephemeral-storage, pod count,
// extended resources) and scores the rest with the configured strategy.

import { CPU, EPHEMERAL_STORAGE, MEMORY, podRequests, type Resource } from '../../framework/resource.ts';
import { unschedulable, type MaybeStatus } from '../../framework/status.ts';
import { PACKED_STRIDE, P_ALLOC_CPU, P_ALLOC_EPHEMERAL, P_ALLOC_MEMORY, P_ALLOC_PODS, P_PODS, P_REQ_CPU, P_REQ_EPHEMERAL, P_REQ_MEMORY } from '../../framework/node-info.ts';
import type {
  ClusterEvent,
  CycleState,
  EnqueueExtensions,
  FilterPlugin,
  NodeInfo,
  Pod,
  PluginFactory,
  PreFilterPlugin,
  PreFilterResult,
  PreScorePlugin,
  ScorePlugin,
} from '../../framework/types.ts';
import { DEFAULT_RESOURCES, allocatableAndRequested, type ResourceSpec } from './resource-allocation.ts';
import { leastAllocated, mostAllocated, requestedToCapacityRatio, type Scorer, type ShapePoint } from './scorers.ts';

export const NAME = 'NodeResourcesFit';
const PRE_FILTER_KEY = 'PreFilter' + NAME;
const PRE_SCORE_KEY = 'PreScore' + NAME;

export interface NodeResourcesFitArgs {
  ignoredResources?: string[];
  ignoredResourceGroups?: string[];
  scoringStrategy?: {
    type?: 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';
    resources?: ResourceSpec[];
    requestedToCapacityRatio?: { shape?: ShapePoint[] };
  };
}

export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
}

function short(out: InsufficientResource[], name: string, want: number, alloc: number, used: number): void {
  if (want > 0 && want > alloc - used) out.push({ resourceName: name, reason: `Insufficient ${name}`, requested: want, used, capacity: alloc });
}

function ignoredScalar(name: string, ignored: Set<string>, ignoredGroups: Set<string>): boolean {
  if (ignored.has(name)) return true;
  const slash = name.indexOf('/');
  return slash > 0 && ignoredGroups.has(name.slice(0, slash));
}

/** Everything the node lacks for the pod (upstream fitsRequest). */
export function fitsRequest(podReq: Resource, node: NodeInfo, ignored: Set<string> = new Set(), ignoredGroups: Set<string> = new Set()): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const allowed = node.allocatable.allowedPodNumber;
  if (node.pods.length + 1 > allowed) {
    out.push({ resourceName: 'pods', reason: 'Too many pods', requested: 1, used: node.pods.length, capacity: allowed });
  }
  if (podReq.milliCPU === 0 && podReq.memory === 0 && podReq.ephemeralStorage === 0 && podReq.scalar.size === 0) return out;
  short(out, CPU, podReq.milliCPU, node.allocatable.milliCPU, node.requested.milliCPU);
  short(out, MEMORY, podReq.memory, node.allocatable.memory, node.requested.memory);
  short(out, EPHEMERAL_STORAGE, podReq.ephemeralStorage, node.allocatable.ephemeralStorage, node.requested.ephemeralStorage);
  for (const [name, want] of podReq.scalar) {
    if (ignoredScalar(name, ignored, ignoredGroups)) continue;
    short(out, name, want, node.allocatable.scalar.get(name) ?? 0, node.requested.scalar.get(name) ?? 0);
  }
  return out;
}

/** Allocation-free check of the common case; fitsRequest explains a failure. */
export function fits(podReq: Resource, node: NodeInfo, ignored: Set<string>, ignoredGroups: Set<string>): boolean {
  const p = node.packed;
  if (p !== undefined && podReq.scalar.size === 0) {
    const b = node.slot * PACKED_STRIDE;
    if (p[b + P_PODS] + 1 > p[b + P_ALLOC_PODS]) return false;
    if (podReq.milliCPU > 0 && podReq.milliCPU > p[b + P_ALLOC_CPU] - p[b + P_REQ_CPU]) return false;
    if (podReq.memory > 0 && podReq.memory > p[b + P_ALLOC_MEMORY] - p[b + P_REQ_MEMORY]) return false;
    if (podReq.ephemeralStorage > 0 && podReq.ephemeralStorage > p[b + P_ALLOC_EPHEMERAL] - p[b + P_REQ_EPHEMERAL]) return false;
    return true;
  }
  const a = node.allocatable;
  const r = node.requested;
  if (node.pods.length + 1 > a.allowedPodNumber) return false;
  if (podReq.milliCPU > 0 && podReq.milliCPU > a.milliCPU - r.milliCPU) return false;
  if (podReq.memory > 0 && podReq.memory > a.memory - r.memory) return false;
  if (podReq.ephemeralStorage > 0 && podReq.ephemeralStorage > a.ephemeralStorage - r.ephemeralStorage) return false;
  if (podReq.scalar.size) {
    for (const [name, want] of podReq.scalar) {
      if (want <= 0 || ignoredScalar(name, ignored, ignoredGroups)) continue;
      if (want > (a.scalar.get(name) ?? 0) - (r.scalar.get(name) ?? 0)) return false;
    }
  }
  return true;
}

export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  private readonly ignored: Set<string>;
  private readonly ignoredGroups: Set<string>;
  private readonly resources: ResourceSpec[];
  private readonly scorer: Scorer;
  private readonly scratch: [number[], number[]] = [[], []];

  constructor(args: NodeResourcesFitArgs = {}) {
    this.ignored = new Set(args.ignoredResources ?? []);
    this.ignoredGroups = new Set(args.ignoredResourceGroups ?? []);
    const strategy = args.scoringStrategy ?? {};
    this.resources = strategy.resources?.length ? strategy.resources.map((r) => ({ name: r.name, weight: r.weight ?? 1 })) : DEFAULT_RESOURCES;
    switch (strategy.type ?? 'LeastAllocated') {
      case 'LeastAllocated':
        this.scorer = leastAllocated(this.resources);
        break;
      case 'MostAllocated':
        this.scorer = mostAllocated(this.resources);
        break;
      case 'RequestedToCapacityRatio': {
        const shape = strategy.requestedToCapacityRatio?.shape ?? [
          { utilization: 0, score: 10 },
          { utilization: 100, score: 0 },
        ];
        this.scorer = requestedToCapacityRatio(this.resources, shape);
        break;
      }
      default:
        throw new Error(`scoring strategy ${strategy.type} is not supported`);
    }
  }

  preFilter(state: CycleState, pod: Pod): [PreFilterResult | undefined, MaybeStatus] {
    state.write(PRE_FILTER_KEY, podRequests(pod));
    return [undefined, undefined];
  }

  filter(state: CycleState, pod: Pod, node: NodeInfo): MaybeStatus {
    const req = state.read<Resource>(PRE_FILTER_KEY) ?? podRequests(pod);
    if (fits(req, node, this.ignored, this.ignoredGroups)) return undefined;
    const insufficient = fitsRequest(req, node, this.ignored, this.ignoredGroups);
    if (!insufficient.length) return undefined;
    return unschedulable(...insufficient.map((r) => r.reason));
  }

  preScore(state: CycleState, pod: Pod): MaybeStatus {
    state.write(PRE_SCORE_KEY, podRequests(pod, true));
    return undefined;
  }

  score(state: CycleState, pod: Pod, node: NodeInfo): [number, MaybeStatus] {
    const req = state.read<Resource>(PRE_SCORE_KEY) ?? podRequests(pod, true);
    const [alloc, requested] = allocatableAndRequested(node, req, this.resources, false, this.scratch);
    return [this.scorer(requested, alloc), undefined];
  }

  eventsToRegister(): ClusterEvent[] {
    return ['NodeAdd', 'NodeUpdate', 'AssignedPodDelete', 'AssignedPodUpdate'];
  }
}

export const factory: PluginFactory = ({ args }) => new NodeResourcesFit(args);
