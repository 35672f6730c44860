// Recreate: scale every old RS to zero, wait until their pods are gone, then bring up the new RS
// at full size (upstream recreate.go).

import type { KObject } from '../../api/types.ts';
import { getAllReplicaSetsAndSyncRevision, type DeploymentSync } from './index.ts';
import { cleanupDeployment, deploymentComplete, scaleReplicaSet, syncRolloutStatus } from './sync.ts';
import { activeRSs, replicasOf, sumStatus } from './util.ts';

export async function rolloutRecreate(s: DeploymentSync, rsList: KObject[]): Promise<void> {
  let { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(s, rsList, false);

  let scaledDown = false;
  for (const rs of activeRSs(oldRSs)) {
    const updated = await scaleReplicaSet(s, rs, 0);
    oldRSs = oldRSs.map((x) => (x.metadata.uid === updated.metadata.uid ? updated : x));
    scaledDown = true;
  }
  if (scaledDown) {
    await syncRolloutStatus(s, [...oldRSs, newRS], newRS);
    return;
  }
  if (oldPodsRunning(s, newRS, oldRSs)) {
    await syncRolloutStatus(s, [...oldRSs, newRS], newRS);
    return;
  }
  if (!newRS) ({ newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(s, rsList, true));
  if (newRS && replicasOf(newRS) !== replicasOf(s.d)) newRS = await scaleReplicaSet(s, newRS, replicasOf(s.d));
  if (deploymentComplete(s.d, s.d.status)) await cleanupDeployment(s, oldRSs);
  await syncRolloutStatus(s, [...oldRSs, newRS], newRS);
}

/** Any pod of an old RS not yet finished (upstream oldPodsRunning). */
function oldPodsRunning(s: DeploymentSync, newRS: KObject | undefined, oldRSs: KObject[]): boolean {
  if (sumStatus(oldRSs, 'replicas') > 0) return true;
  for (const [uid, pods] of s.podsByRS()) {
    if (newRS && uid === newRS.metadata.uid) continue;
    for (const p of pods) {
      const phase = p.status?.phase;
      if (phase === 'Failed' || phase === 'Succeeded') continue;
      return true;
    }
  }
  return false;
}
