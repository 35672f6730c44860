// DefaultPreemption (PostFilter): when no node fits, find the node where evicting lower-priority
// pods helps at the least cost, evict them gracefully and nominate the node for the pod.

import { isTerminating, podPriority } from '../../framework/helpers.ts';
import { Code, Status, type MaybeStatus } from '../../framework/status.ts';
import { reasonHistogram } from '../../framework/schedule-pod.ts';
import type { CycleState, Handle, NodeToStatus, Pod, PluginFactory, PostFilterPlugin, PostFilterResult } from '../../framework/types.ts';
import { pickOneNode, selectVictimsOnNode, type Candidate } from './candidates.ts';

export const NAME = 'DefaultPreemption';
export const NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_VICTIMS = 'No preemption victims found for incoming pod';

export interface DefaultPreemptionArgs {
  minCandidateNodesPercentage?: number;
  minCandidateNodesAbsolute?: number;
}

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = NAME;
  private readonly pct: number;
  private readonly abs: number;

  constructor(
    private readonly handle: Handle,
    args: DefaultPreemptionArgs = {},
    private readonly random: () => number = Math.random,
  ) {
    this.pct = args.minCandidateNodesPercentage ?? 10;
    this.abs = args.minCandidateNodesAbsolute ?? 100;
  }

  /** Why the pod may not preempt, or undefined when it may. */
  eligibility(pod: Pod): string | undefined {
    if (pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
    const nominated = pod.status?.nominatedNodeName;
    if (nominated) {
      const ni = this.handle.snapshot().get(nominated);
      const prio = podPriority(pod);
      // Victims from an earlier preemption are still leaving: wait for them.
      if (ni?.pods.some((p) => isTerminating(p.pod) && podPriority(p.pod) < prio)) return 'not eligible due to a terminating pod on the nominated node.';
    }
    return undefined;
  }

  async postFilter(state: CycleState, pod: Pod, filtered: NodeToStatus): Promise<[PostFilterResult | undefined, MaybeStatus]> {
    const [result, st] = await this.preempt(state, pod, filtered);
    const msg = st?.message();
    if (st && msg) return [result, new Status(st.code, [`preemption: ${msg}`])];
    return [result, st];
  }

  async preempt(state: CycleState, pod: Pod, filtered: NodeToStatus): Promise<[PostFilterResult | undefined, MaybeStatus]> {
    const why = this.eligibility(pod);
    if (why) return [undefined, new Status(Code.Unschedulable, [why])];
    const all = this.handle.snapshot().list();
    const statuses = new Map<string, Status>();
    const potential = [];
    for (const ni of all) {
      const s = filtered.get(ni.name);
      if (s && s.code === Code.UnschedulableAndUnresolvable) statuses.set(ni.name, new Status(Code.UnschedulableAndUnresolvable, [NOT_HELPFUL]));
      else potential.push(ni);
    }
    const fail = (): [PostFilterResult, Status] => [{ nominatedNodeName: '' }, new Status(Code.Unschedulable, [`0/${all.length} nodes are available: ${reasonHistogram(statuses)}.`])];
    if (!potential.length) return fail();

    const pdbs = this.handle.pdbs();
    const fwk = this.handle.framework();
    const want = Math.min(potential.length, Math.max(this.abs, Math.trunc((potential.length * this.pct) / 100)));
    const offset = Math.floor(this.random() * potential.length);
    const candidates: Candidate[] = [];
    for (let i = 0; i < potential.length && candidates.length < want; i++) {
      const ni = potential[(offset + i) % potential.length];
      const r = selectVictimsOnNode(fwk, state, pod, ni, pdbs);
      if (r instanceof Status) {
        statuses.set(ni.name, new Status(r.code === Code.UnschedulableAndUnresolvable ? r.code : Code.Unschedulable, [NO_VICTIMS]));
        continue;
      }
      candidates.push(r);
    }
    const best = pickOneNode(candidates);
    if (!best) return fail();
    try {
      await Promise.all(best.victims.map((v) => this.evict(v.pod, pod, best.name)));
    } catch (e) {
      return [undefined, new Status(Code.Error, [], e as Error)];
    }
    return [{ nominatedNodeName: best.name }, undefined];
  }

  private async evict(victim: Pod, preemptor: Pod, node: string): Promise<void> {
    this.handle.event?.(victim, 'Normal', 'Preempted', `Preempted by pod ${preemptor.metadata.uid ?? preemptor.metadata.name} on node ${node}`);
    await this.handle.deletePod?.(victim, `${this.handle.schedulerName}: preempting to accommodate a higher priority pod`);
  }
}

export const factory: PluginFactory = ({ handle, args }) => new DefaultPreemption(handle, args);
