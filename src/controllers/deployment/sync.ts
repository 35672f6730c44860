// Scaling, cleanup and status shared by both strategies (upstream deployment sync.go/progress.go).

import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import { RS_REF } from '../replicaset/index.ts';
import type { DeploymentSync } from './index.ts';
import { asDeployment, hasProgressDeadline, writeStatus } from './index.ts';
import {
  activeRSs,
  byCreation,
  getCondition,
  isRollingUpdate,
  maxReplicasAnnotation,
  maxSurge,
  maxUnavailable,
  newCondition,
  removeCondition,
  replicasOf,
  revisionOf,
  setCondition,
  setReplicasAnnotations,
  stableStringify,
  sumSpecReplicas,
  sumStatus,
  desiredReplicasAnnotation,
} from './util.ts';

/** How big the new RS may be now (upstream NewRSNewReplicas). */
export function newRSNewReplicas(d: KObject, allRSs: KObject[], newRS: KObject): number {
  if (!isRollingUpdate(d)) return replicasOf(d);
  const current = sumSpecReplicas(allRSs);
  const maxTotal = replicasOf(d) + maxSurge(d);
  if (current >= maxTotal) return replicasOf(newRS);
  const up = Math.min(maxTotal - current, replicasOf(d) - replicasOf(newRS));
  return replicasOf(newRS) + up;
}

/**
 * Set an RS's size (and the desired/max annotations); records ScalingReplicaSet when the size
 * changed. Returns the RS as written.
 */
export async function scaleReplicaSet(s: DeploymentSync, rs: KObject, newScale: number): Promise<KObject> {
  const d = s.d;
  const oldScale = replicasOf(rs);
  const copy = structuredClone(rs);
  const annotationsChanged = setReplicasAnnotations(copy, replicasOf(d), replicasOf(d) + maxSurge(d));
  if (oldScale === newScale && !annotationsChanged) return rs;
  copy.spec.replicas = newScale;
  const updated = await s.client.update<KObject>({ ...RS_REF, namespace: rs.metadata.namespace, name: rs.metadata.name! }, copy);
  if (oldScale !== newScale) {
    const op = oldScale < newScale ? 'up' : 'down';
    s.recorder.event(asDeployment(d), 'Normal', 'ScalingReplicaSet', `Scaled ${op} replica set ${rs.metadata.name} to ${newScale} from ${oldScale}`);
  }
  return updated;
}

const replaceIn = (list: KObject[], rs: KObject) => list.map((x) => (x.metadata.uid === rs.metadata.uid ? rs : x));

/** Upstream's rounding (math.Round: halves away from zero). */
const goRound = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

/** Scale for a changed replica count, proportionally across active RSs during a rollout. */
export async function scale(s: DeploymentSync, newRS: KObject | undefined, oldRSs: KObject[]): Promise<{ newRS: KObject | undefined; oldRSs: KObject[] }> {
  const d = s.d;
  const want = replicasOf(d);
  const all = [...oldRSs, ...(newRS ? [newRS] : [])];
  const active = activeRSs(all);
  const put = (rs: KObject) => {
    if (newRS && rs.metadata.uid === newRS.metadata.uid) newRS = rs;
    else oldRSs = replaceIn(oldRSs, rs);
  };

  // One active (or, with none, the newest) RS takes the whole count.
  let single: KObject | undefined;
  if (active.length === 0) single = newRS ?? [...oldRSs].sort(byCreation).at(-1);
  else if (active.length === 1) single = active[0];
  if (single || active.length <= 1) {
    if (single && replicasOf(single) !== want) put(await scaleReplicaSet(s, single, want));
    return { newRS, oldRSs };
  }

  // A saturated new RS: old ones go to zero.
  if (newRS && desiredReplicasAnnotation(newRS) === want && replicasOf(newRS) === want && (newRS.status?.availableReplicas ?? 0) === want) {
    for (const rs of activeRSs(oldRSs)) put(await scaleReplicaSet(s, rs, 0));
    return { newRS, oldRSs };
  }

  if (!isRollingUpdate(d)) return { newRS, oldRSs };
  const allowed = want > 0 ? want + maxSurge(d) : 0;
  const toAdd = allowed - sumSpecReplicas(active);
  const sorted = [...active].sort((a, b) => {
    const bySize = replicasOf(b) - replicasOf(a);
    if (bySize !== 0) return bySize;
    // Scaling up favours newer RSs, scaling down older ones.
    return toAdd > 0 ? byCreation(b, a) : byCreation(a, b);
  });
  const sizes = new Map<string, number>();
  let added = 0;
  for (const rs of sorted) {
    let proportion = 0;
    if (toAdd !== 0 && replicasOf(rs) !== 0 && toAdd !== added) {
      const frac = fraction(rs, d, allowed);
      const left = toAdd - added;
      proportion = toAdd > 0 ? Math.min(frac, left) : Math.max(frac, left);
    }
    sizes.set(rs.metadata.uid!, replicasOf(rs) + proportion);
    added += proportion;
  }
  if (toAdd !== 0 && added !== toAdd && sorted.length) {
    const first = sorted[0]!.metadata.uid!;
    sizes.set(first, Math.max(0, sizes.get(first)! + toAdd - added));
  }
  for (const rs of sorted) put(await scaleReplicaSet(s, rs, sizes.get(rs.metadata.uid!)!));
  return { newRS, oldRSs };
}

/** The change to an RS's size that keeps its share of the deployment (upstream getReplicaSetFraction). */
function fraction(rs: KObject, d: KObject, deploymentReplicas: number): number {
  if (replicasOf(d) === 0) return -replicasOf(rs);
  const annotated = maxReplicasAnnotation(rs) ?? d.status?.replicas ?? 0;
  if (!annotated) return 0;
  return goRound((replicasOf(rs) * deploymentReplicas) / annotated) - replicasOf(rs);
}

/** Delete the oldest scaled-down RSs beyond revisionHistoryLimit. */
export async function cleanupDeployment(s: DeploymentSync, oldRSs: KObject[]): Promise<void> {
  const limit = s.d.spec?.revisionHistoryLimit;
  if (limit === undefined || limit === null) return;
  const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
  const diff = alive.length - limit;
  if (diff <= 0) return;
  alive.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  for (const rs of alive.slice(0, diff)) {
    if ((rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0) continue;
    if ((rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
    try {
      await s.client.delete({ ...RS_REF, namespace: rs.metadata.namespace, name: rs.metadata.name! }, { preconditions: { uid: rs.metadata.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** Status from the ReplicaSets (upstream calculateStatus). */
export function calculateStatus(d: KObject, allRSs: (KObject | undefined)[], newRS: KObject | undefined): any {
  const available = sumStatus(allRSs, 'availableReplicas');
  const total = sumSpecReplicas(allRSs);
  const status: any = {
    observedGeneration: d.metadata.generation,
    replicas: sumStatus(allRSs, 'replicas'),
    updatedReplicas: sumStatus([newRS], 'replicas'),
    readyReplicas: sumStatus(allRSs, 'readyReplicas'),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (d.status?.conditions) status.conditions = structuredClone(d.status.conditions);
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, newCondition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'));
  } else {
    setCondition(status, newCondition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'));
  }
  return status;
}

const sameStatus = (a: any, b: any) => stableStringify(a ?? {}) === stableStringify(b ?? {});

export async function syncDeploymentStatus(s: DeploymentSync, allRSs: (KObject | undefined)[], newRS: KObject | undefined): Promise<void> {
  const status = calculateStatus(s.d, allRSs, newRS);
  if (sameStatus(s.d.status, status)) return;
  await writeStatus(s, status);
}

/** All replicas updated and available, and the spec observed (upstream DeploymentComplete). */
export function deploymentComplete(d: KObject, status: any): boolean {
  const want = replicasOf(d);
  return (
    (status?.updatedReplicas ?? 0) === want &&
    (status?.replicas ?? 0) === want &&
    (status?.availableReplicas ?? 0) === want &&
    (status?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
}

function deploymentProgressing(d: KObject, status: any): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (
    (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

function deploymentTimedOut(d: KObject, status: any, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getCondition(status, 'Progressing');
  if (!cond) return false;
  if (cond.reason === 'ProgressDeadlineExceeded') return true;
  if (cond.reason === 'NewReplicaSetAvailable') return false;
  const from = Date.parse(cond.lastUpdateTime ?? '');
  if (Number.isNaN(from)) return false;
  return from + d.spec.progressDeadlineSeconds * 1000 < now;
}

/** Status plus the Progressing and ReplicaFailure conditions (upstream syncRolloutStatus). */
export async function syncRolloutStatus(s: DeploymentSync, allRSs: (KObject | undefined)[], newRS: KObject | undefined): Promise<void> {
  const d = s.d;
  const status = calculateStatus(d, allRSs, newRS);
  if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
  const cur = getCondition(status, 'Progressing');
  const complete = status.replicas === status.updatedReplicas && cur?.reason === 'NewReplicaSetAvailable';
  const now = Date.now();
  if (hasProgressDeadline(d) && !complete) {
    const rsName = JSON.stringify(newRS?.metadata.name ?? '');
    if (deploymentComplete(d, status)) {
      if (newRS) setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet ${rsName} has successfully progressed.`));
    } else if (deploymentProgressing(d, status)) {
      const c = newCondition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet ${rsName} is progressing.`);
      // Progress refreshes lastUpdateTime (the deadline clock) but keeps the transition time.
      if (cur?.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
      removeCondition(status, 'Progressing');
      setCondition(status, c);
    } else if (deploymentTimedOut(d, status, now)) {
      setCondition(status, newCondition('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet ${rsName} has timed out progressing.`));
    }
  }
  const failure = allRSs.map((rs) => getCondition(rs?.status, 'ReplicaFailure')).find((c) => c?.status === 'True');
  if (failure) {
    setCondition(status, { type: 'ReplicaFailure', status: 'True', lastUpdateTime: failure.lastTransitionTime, lastTransitionTime: failure.lastTransitionTime, reason: failure.reason, message: failure.message });
  } else removeCondition(status, 'ReplicaFailure');

  if (!sameStatus(d.status, status)) await writeStatus(s, status);
  requeueStuck(s, status, now);
}

/** A rollout that is not finished gets another look when its progress deadline would pass. */
function requeueStuck(s: DeploymentSync, status: any, now: number): void {
  const d = s.d;
  if (!hasProgressDeadline(d)) return;
  const cond = getCondition(status, 'Progressing');
  if (!cond || cond.reason === 'NewReplicaSetAvailable' || cond.reason === 'ProgressDeadlineExceeded') return;
  if (cond.status === 'True' && cond.reason === 'NewReplicaSetAvailable') return;
  const from = Date.parse(cond.lastUpdateTime ?? '');
  if (Number.isNaN(from)) return;
  const after = from + d.spec.progressDeadlineSeconds * 1000 - now;
  s.requeueAfter(Math.max(after, 0) + 1000);
}
