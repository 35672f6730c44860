// Victim selection on one node and the choice between candidate nodes, following upstream's
// order: fewest PDB violations, lowest highest-victim priority, smallest priority sum, fewest
// victims, latest start of the highest-priority victims.

import { labelSelectorFromObject } from '../../../machinery/labels.ts';
import { podPriority, podStartTime } from '../../framework/helpers.ts';
import type { NodeInfo, PodInfo } from '../../framework/node-info.ts';
import type { CycleState, FrameworkRunner, Pdb, Pod } from '../../framework/types.ts';
import type { Status } from '../../framework/status.ts';

export interface Candidate {
  name: string;
  victims: PodInfo[];
  numPDBViolations: number;
}

/** Higher priority first; equal priority: the one that started earlier is more important. */
export function moreImportant(a: Pod, b: Pod): number {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pb - pa;
  return podStartTime(a) - podStartTime(b);
}

/** Split victims into those whose eviction would break a PDB and those that would not. */
export function splitByPDBViolation(victims: PodInfo[], pdbs: Pdb[]): [PodInfo[], PodInfo[]] {
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const selectors = pdbs.map((p) => {
    try {
      return labelSelectorFromObject(p.spec?.selector ?? null);
    } catch {
      return labelSelectorFromObject(null);
    }
  });
  const violating: PodInfo[] = [];
  const ok: PodInfo[] = [];
  for (const pi of victims) {
    const pod = pi.pod;
    let violated = false;
    if (pod.metadata.labels && Object.keys(pod.metadata.labels).length) {
      pdbs.forEach((pdb, i) => {
        if (pdb.metadata.namespace !== pod.metadata.namespace) return;
        const sel = selectors[i];
        // An empty selector selects nothing for PDBs here, as upstream.
        if (sel.empty() || !sel.matches(pod.metadata.labels)) return;
        if (pdb.status?.disruptedPods && pod.metadata.name! in pdb.status.disruptedPods) return;
        allowed[i]--;
        if (allowed[i] < 0) violated = true;
      });
    }
    (violated ? violating : ok).push(pi);
  }
  return [violating, ok];
}

/**
 * Remove every lower-priority pod; if the preemptor then fits, put back as many as possible
 * (PDB-protected ones first, most important first). Returns the remaining victims or a status.
 */
export function selectVictimsOnNode(fwk: FrameworkRunner, state: CycleState, pod: Pod, nodeInfo: NodeInfo, pdbs: Pdb[]): Candidate | Status {
  const ni = nodeInfo.clone();
  const st = state.clone();
  const prio = podPriority(pod);
  const potential = ni.pods.filter((p) => podPriority(p.pod) < prio);
  for (const pi of potential) {
    ni.removePod(pi.pod);
    fwk.runPreFilterExtensionRemovePod(st, pod, pi, ni);
  }
  const fit = fwk.runFilterPlugins(st, pod, ni);
  if (fit) return fit;
  potential.sort((a, b) => moreImportant(a.pod, b.pod));
  const [violating, nonViolating] = splitByPDBViolation(potential, pdbs);
  const victims: PodInfo[] = [];
  let numPDBViolations = 0;
  const reprieve = (pi: PodInfo): boolean => {
    ni.addPodInfo(pi);
    fwk.runPreFilterExtensionAddPod(st, pod, pi, ni);
    if (!fwk.runFilterPlugins(st, pod, ni)) return true;
    ni.removePod(pi.pod);
    fwk.runPreFilterExtensionRemovePod(st, pod, pi, ni);
    victims.push(pi);
    return false;
  };
  for (const pi of violating) if (!reprieve(pi)) numPDBViolations++;
  for (const pi of nonViolating) reprieve(pi);
  victims.sort((a, b) => moreImportant(a.pod, b.pod));
  return { name: nodeInfo.name, victims, numPDBViolations };
}

const INT32_OFFSET = 2 ** 31;

/** Earliest start among the highest-priority victims. */
function earliestStartOfTop(victims: PodInfo[]): number {
  const top = podPriority(victims[0].pod);
  let t = Infinity;
  for (const v of victims) if (podPriority(v.pod) === top) t = Math.min(t, podStartTime(v.pod));
  return t;
}

export function pickOneNode(candidates: Candidate[]): Candidate | undefined {
  if (!candidates.length) return undefined;
  const empty = candidates.find((c) => c.victims.length === 0);
  if (empty) return empty;
  const narrow = (list: Candidate[], key: (c: Candidate) => number, preferHigh = false): Candidate[] => {
    let best = preferHigh ? -Infinity : Infinity;
    let out: Candidate[] = [];
    for (const c of list) {
      const k = key(c);
      if (preferHigh ? k > best : k < best) {
        best = k;
        out = [c];
      } else if (k === best) out.push(c);
    }
    return out;
  };
  let list = narrow(candidates, (c) => c.numPDBViolations);
  if (list.length > 1) list = narrow(list, (c) => podPriority(c.victims[0].pod));
  if (list.length > 1) list = narrow(list, (c) => c.victims.reduce((a, v) => a + podPriority(v.pod) + INT32_OFFSET, 0));
  if (list.length > 1) list = narrow(list, (c) => c.victims.length);
  if (list.length > 1) list = narrow(list, (c) => earliestStartOfTop(c.victims), true);
  return list[0];
}
