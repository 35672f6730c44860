// What a node would have requested and can allocate of one resource if the pod landed there:
// the input of every resource-based scoring strategy.

import { CPU, EPHEMERAL_STORAGE, MEMORY, isScalarResourceName, type Resource } from '../../framework/resource.ts';
import type { NodeInfo } from '../../framework/types.ts';
import { PACKED_STRIDE, P_ALLOC_CPU, P_ALLOC_MEMORY, P_NONZERO_CPU, P_NONZERO_MEMORY, P_REQ_CPU, P_REQ_MEMORY } from '../../framework/node-info.ts';

export interface ResourceSpec {
  name: string;
  weight: number;
}

export const DEFAULT_RESOURCES: ResourceSpec[] = [
  { name: CPU, weight: 1 },
  { name: MEMORY, weight: 1 },
];

export function resourceOf(r: Resource, name: string): number {
  switch (name) {
    case CPU: return r.milliCPU;
    case MEMORY: return r.memory;
    case EPHEMERAL_STORAGE: return r.ephemeralStorage;
    default: return r.scalar.get(name) ?? 0;
  }
}

/**
 * [allocatable, requested-after-placement] per resource. useRequested picks the plain sums;
 * otherwise the non-zero scoring defaults. An extended resource the pod does not ask for is
 * [0, 0] so that it does not count.
 */
export function allocatableAndRequested(
  node: NodeInfo,
  podReq: Resource,
  resources: ResourceSpec[],
  useRequested: boolean,
  // Scoring runs for hundreds of nodes per pod; callers may pass arrays to fill instead.
  out: [number[], number[]] = [[], []],
): [number[], number[]] {
  const base = useRequested ? node.requested : node.nonZeroRequested;
  const [alloc, req] = out;
  if (alloc.length !== resources.length) alloc.length = req.length = resources.length;
  // cpu and memory from the snapshot's packed numbers when there are some (see PACKED_STRIDE).
  const packed = node.packed;
  const b = node.slot * PACKED_STRIDE;
  for (let i = 0; i < resources.length; i++) {
    const name = resources[i].name;
    if (packed !== undefined && name === CPU) {
      alloc[i] = packed[b + P_ALLOC_CPU];
      req[i] = packed[b + (useRequested ? P_REQ_CPU : P_NONZERO_CPU)] + podReq.milliCPU;
      continue;
    }
    if (packed !== undefined && name === MEMORY) {
      alloc[i] = packed[b + P_ALLOC_MEMORY];
      req[i] = packed[b + (useRequested ? P_REQ_MEMORY : P_NONZERO_MEMORY)] + podReq.memory;
      continue;
    }
    const p = resourceOf(podReq, name);
    if (p === 0 && isScalarResourceName(name)) {
      alloc[i] = 0;
      req[i] = 0;
      continue;
    }
    alloc[i] = resourceOf(node.allocatable, name);
    req[i] = resourceOf(base, name) + p;
  }
  return out;
}
