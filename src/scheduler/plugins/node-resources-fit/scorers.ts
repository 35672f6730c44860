// Scoring strategies of NodeResourcesFit: LeastAllocated, MostAllocated and
// RequestedToCapacityRatio (a piecewise-linear function of utilisation).

import { MAX_NODE_SCORE } from '../../framework/types.ts';
import type { ResourceSpec } from './resource-allocation.ts';

export type Scorer = (requested: number[], allocatable: number[]) => number;

function weighted(resources: ResourceSpec[], per: (req: number, alloc: number) => number): Scorer {
  return (requested, allocatable) => {
    let score = 0;
    let weights = 0;
    for (let i = 0; i < requested.length; i++) {
      if (allocatable[i] === 0) continue;
      score += per(requested[i], allocatable[i]) * resources[i].weight;
      weights += resources[i].weight;
    }
    return weights === 0 ? 0 : Math.trunc(score / weights);
  };
}

/** Favours nodes with more room left. */
export function leastAllocated(resources: ResourceSpec[]): Scorer {
  return weighted(resources, (req, cap) => (req > cap ? 0 : Math.trunc(((cap - req) * MAX_NODE_SCORE) / cap)));
}

/** Favours fuller nodes (bin packing). */
export function mostAllocated(resources: ResourceSpec[]): Scorer {
  return weighted(resources, (req, cap) => Math.trunc((Math.min(req, cap) * MAX_NODE_SCORE) / cap));
}

export interface ShapePoint {
  utilization: number;
  score: number;
}

/** Piecewise-linear interpolation over points sorted by utilisation; flat beyond both ends. */
export function brokenLinear(shape: ShapePoint[]): (p: number) => number {
  return (p) => {
    for (let i = 0; i < shape.length; i++) {
      if (p <= shape[i].utilization) {
        if (i === 0) return shape[0].score;
        const a = shape[i - 1];
        const b = shape[i];
        return a.score + Math.trunc(((b.score - a.score) * (p - a.utilization)) / (b.utilization - a.utilization));
      }
    }
    return shape[shape.length - 1].score;
  };
}

/** Shape scores are 0..10 in the config; scaled to 0..100. */
export function requestedToCapacityRatio(resources: ResourceSpec[], shape: ShapePoint[]): Scorer {
  const scaled = [...shape].sort((a, b) => a.utilization - b.utilization).map((p) => ({ utilization: p.utilization, score: p.score * (MAX_NODE_SCORE / 10) }));
  const f = brokenLinear(scaled);
  const perResource = (req: number, cap: number) => (cap === 0 || req > cap ? f(100) : f(Math.trunc((req * 100) / cap)));
  return (requested, allocatable) => {
    let score = 0;
    let weights = 0;
    for (let i = 0; i < requested.length; i++) {
      if (allocatable[i] === 0) continue;
      const s = perResource(requested[i], allocatable[i]);
      if (s > 0) {
        score += s * resources[i].weight;
        weights += resources[i].weight;
      }
    }
    return weights === 0 ? 0 : Math.round(score / weights);
  };
}
