// One scheduling decision: PreFilter, Filter over a rotating window of nodes (stopping once enough
// feasible nodes were found, as percentageOfNodesToScore says), PreScore, Score, then a random
// pick among the best.

import { Code, Status } from './status.ts';
import type { Framework } from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import type { CycleState, NodeScore, NodeToStatus, Pod, SnapshotLister } from './types.ts';

export const MIN_FEASIBLE_NODES_TO_FIND = 100;
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/** How many feasible nodes to look for before scoring (upstream's adaptive rule when percentage is 0). */
export function numFeasibleNodesToFind(percentage: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let pct = percentage;
  if (pct <= 0) pct = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND, 50 - Math.trunc(numAllNodes / 125));
  if (pct >= 100) return numAllNodes;
  const n = Math.trunc((numAllNodes * pct) / 100);
  return Math.max(n, MIN_FEASIBLE_NODES_TO_FIND);
}

export interface Diagnosis {
  nodeToStatus: NodeToStatus;
  /** Status applied to every node not in nodeToStatus (PreFilter rejections). */
  absentStatus?: Status;
  unschedulablePlugins: Set<string>;
  preFilterMsg: string;
  postFilterMsg: string;
}

export class FitError extends Error {
  constructor(
    readonly pod: Pod,
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    super('');
    // Error() sets an own `message`; drop it so the getter below renders the current diagnosis.
    delete (this as { message?: string }).message;
  }

  override get message(): string {
    return fitErrorMessage(this.numAllNodes, this.diagnosis);
  }
}

/** "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) ... . preemption: ..." */
export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMsg) msg += ` ${d.preFilterMsg}.`;
  else msg += ` ${reasonHistogram(d.nodeToStatus)}.`;
  if (d.postFilterMsg) msg += ` ${d.postFilterMsg}`;
  return msg;
}

export function reasonHistogram(statuses: Iterable<[string, Status]> | NodeToStatus): string {
  const counts = new Map<string, number>();
  for (const [, s] of statuses) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${r}`).sort().join(', ');
}

export const ERR_NO_NODES = 'no nodes available to schedule pods';

export interface ScheduleResult {
  suggestedHost: string;
  evaluatedNodes: number;
  feasibleNodes: number;
}

/** Rotating start index so successive pods look at different nodes first. */
export class NodeWindow {
  next = 0;
}

export function schedulePod(
  fwk: Framework,
  state: CycleState,
  pod: Pod,
  snapshot: SnapshotLister,
  window: NodeWindow,
  random: () => number = Math.random,
): ScheduleResult {
  const all = snapshot.list();
  if (all.length === 0) throw new Error(ERR_NO_NODES);
  const diagnosis: Diagnosis = { nodeToStatus: new Map(), unschedulablePlugins: new Set(), preFilterMsg: '', postFilterMsg: '' };

  const [pre, preStatus] = fwk.runPreFilterPlugins(state, pod, all);
  if (preStatus) {
    if (!preStatus.isRejected()) throw preStatus.error ?? new Error(preStatus.message());
    diagnosis.preFilterMsg = preStatus.message();
    diagnosis.absentStatus = preStatus;
    for (const n of all) diagnosis.nodeToStatus.set(n.name, preStatus);
    if (preStatus.plugin) diagnosis.unschedulablePlugins.add(preStatus.plugin);
    throw new FitError(pod, all.length, diagnosis);
  }

  // A nominated node (from an earlier preemption) is tried first and taken if it fits.
  const nominated = pod.status?.nominatedNodeName;
  if (nominated) {
    const ni = snapshot.get(nominated);
    if (ni && (!pre?.nodeNames || pre.nodeNames.has(nominated))) {
      const s = fwk.runFilterPlugins(state, pod, ni);
      if (!s) return { suggestedHost: nominated, evaluatedNodes: 1, feasibleNodes: 1 };
    }
  }

  let candidates = all;
  if (pre?.nodeNames) {
    candidates = [];
    for (const name of pre.nodeNames) {
      const ni = snapshot.get(name);
      if (ni) candidates.push(ni);
    }
    // Nodes excluded by PreFilter count as unresolvable for the message and preemption.
    const excluded = new Status(Code.UnschedulableAndUnresolvable, [`node(s) didn't satisfy plugin(s) [${(pre.plugins ?? []).join(' ')}]`]);
    for (const n of all) if (!pre.nodeNames.has(n.name)) diagnosis.nodeToStatus.set(n.name, excluded);
  }

  const toFind = fwk.hasFilterPlugins() ? numFeasibleNodesToFind(fwk.percentageOfNodesToScore, candidates.length) : candidates.length;
  const feasible: NodeInfo[] = [];
  const n = candidates.length;
  const start = n ? window.next % n : 0;
  let processed = 0;
  for (let i = 0; i < n && feasible.length < toFind; i++) {
    const ni = candidates[(start + i) % n];
    processed++;
    const s = fwk.runFilterPlugins(state, pod, ni);
    if (!s) {
      feasible.push(ni);
      continue;
    }
    if (s.code === Code.Error) throw s.error ?? new Error(s.message());
    diagnosis.nodeToStatus.set(ni.name, s);
    if (s.plugin) diagnosis.unschedulablePlugins.add(s.plugin);
  }
  if (n) window.next = (start + processed) % n;

  if (feasible.length === 0) throw new FitError(pod, all.length, diagnosis);
  if (feasible.length === 1) return { suggestedHost: feasible[0].name, evaluatedNodes: processed, feasibleNodes: 1 };

  const ps = fwk.runPreScorePlugins(state, pod, feasible);
  if (ps) throw ps.error ?? new Error(ps.message());
  const [scores, ss] = fwk.runScorePlugins(state, pod, feasible);
  if (ss) throw ss.error ?? new Error(ss.message());
  return { suggestedHost: selectHost(scores, random), evaluatedNodes: processed, feasibleNodes: feasible.length };
}

/** Highest total wins; ties are broken uniformly at random (reservoir sampling). */
export function selectHost(scores: NodeScore[], random: () => number = Math.random): string {
  if (scores.length === 0) throw new Error('empty priorityList');
  let best = scores[0].name;
  let max = scores[0].score;
  let ties = 1;
  for (let i = 1; i < scores.length; i++) {
    const s = scores[i];
    if (s.score > max) {
      max = s.score;
      best = s.name;
      ties = 1;
    } else if (s.score === max) {
      ties++;
      if (random() * ties < 1) best = s.name;
    }
  }
  return best;
}
