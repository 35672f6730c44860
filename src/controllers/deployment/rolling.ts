// RollingUpdate: grow the new RS within maxSurge, shrink old ones within maxUnavailable
// (upstream rolling.go). Each sync takes at most one step; RS and pod events bring the next.

import type { KObject } from '../../api/types.ts';
import { getAllReplicaSetsAndSyncRevision, type DeploymentSync } from './index.ts';
import { cleanupDeployment, deploymentComplete, newRSNewReplicas, scaleReplicaSet, syncRolloutStatus } from './sync.ts';
import { activeRSs, byCreation, maxUnavailable, replicasOf, sumSpecReplicas, sumStatus } from './util.ts';

export async function rolloutRolling(s: DeploymentSync, rsList: KObject[]): Promise<void> {
  const got = await getAllReplicaSetsAndSyncRevision(s, rsList, true);
  let newRS = got.newRS!;
  let oldRSs = got.oldRSs;

  // Scale up the new RS if we can.
  const upTo = reconcileNewTarget(s.d, [...oldRSs, newRS], newRS);
  if (upTo !== undefined) {
    newRS = await scaleReplicaSet(s, newRS, upTo);
    await syncRolloutStatus(s, [...oldRSs, newRS], newRS);
    return;
  }

  // Scale down old RSs if we can.
  const down = await reconcileOldReplicaSets(s, oldRSs, newRS);
  oldRSs = down.oldRSs;
  if (down.scaled) {
    await syncRolloutStatus(s, [...oldRSs, newRS], newRS);
    return;
  }

  if (deploymentComplete(s.d, s.d.status)) await cleanupDeployment(s, oldRSs);
  await syncRolloutStatus(s, [...oldRSs, newRS], newRS);
}

/** The size the new RS should move to now, or undefined if it stays. */
function reconcileNewTarget(d: KObject, allRSs: KObject[], newRS: KObject): number | undefined {
  const want = replicasOf(d);
  const cur = replicasOf(newRS);
  if (cur === want) return undefined;
  if (cur > want) return want;
  const next = newRSNewReplicas(d, allRSs, newRS);
  return next === cur ? undefined : next;
}

async function reconcileOldReplicaSets(s: DeploymentSync, oldRSs: KObject[], newRS: KObject): Promise<{ scaled: boolean; oldRSs: KObject[] }> {
  const d = s.d;
  const active = activeRSs(oldRSs);
  if (sumSpecReplicas(active) === 0) return { scaled: false, oldRSs };
  let allPods = sumSpecReplicas([...oldRSs, newRS]);
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return { scaled: false, oldRSs };

  const replace = (rs: KObject) => (oldRSs = oldRSs.map((x) => (x.metadata.uid === rs.metadata.uid ? rs : x)));

  // First drop unhealthy old replicas: they cost availability nothing.
  let cleaned = 0;
  for (const rs of [...active].sort(byCreation)) {
    if (cleaned >= maxScaledDown) break;
    const unhealthy = replicasOf(rs) - (rs.status?.availableReplicas ?? 0);
    if (replicasOf(rs) === 0 || unhealthy <= 0) continue;
    const n = Math.min(maxScaledDown - cleaned, unhealthy);
    replace(await scaleReplicaSet(s, rs, replicasOf(rs) - n));
    cleaned += n;
  }
  allPods -= cleaned;

  // Then healthy ones, as far as availability allows.
  const all = [...oldRSs, newRS];
  const availableNow = sumStatus(all, 'availableReplicas');
  let scaledDown = 0;
  if (availableNow > minAvailable) {
    const total = availableNow - minAvailable;
    for (const rs of activeRSs(oldRSs).sort(byCreation)) {
      if (scaledDown >= total) break;
      if (replicasOf(rs) === 0) continue;
      const n = Math.min(replicasOf(rs), total - scaledDown);
      replace(await scaleReplicaSet(s, rs, replicasOf(rs) - n));
      scaledDown += n;
    }
  }
  return { scaled: cleaned + scaledDown > 0, oldRSs };
}
