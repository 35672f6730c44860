// Pod cgroups (cgroupfs driver): runc creates `<root>/kubepods/[burstable|besteffort/]pod<uid>` in
// every hierarchy for the pod's containers but never removes it; the kubelet does once the pod is
// gone (upstream pod_container_manager.go). Only empty cgroups can be removed (rmdir), so a pod
// whose processes still exit is retried at the next housekeeping.

import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

const CGROUP_FS = '/sys/fs/cgroup';
const QOS_TIERS = ['', 'burstable', 'besteffort'];

/** Each hierarchy's mount (cgroup v1: one per controller; v2: the one unified tree). */
function hierarchies(): string[] {
  if (existsSync(join(CGROUP_FS, 'cgroup.controllers'))) return [CGROUP_FS];
  try {
    return readdirSync(CGROUP_FS, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(CGROUP_FS, e.name));
  } catch {
    return [];
  }
}

function removeTree(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeTree(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    /* busy or gone */
  }
}

/** Removes the pod's cgroups in every hierarchy (best effort). */
export async function removePodCgroups(cgroupRoot: string, uid: string): Promise<void> {
  for (const h of hierarchies()) for (const tier of QOS_TIERS) removeTree(join(h, cgroupRoot, 'kubepods', tier, `pod${uid}`));
}

/** UIDs that have a pod cgroup under the root in some hierarchy. */
export function podCgroupUids(cgroupRoot: string): Set<string> {
  const out = new Set<string>();
  for (const h of hierarchies()) {
    for (const tier of QOS_TIERS) {
      try {
        for (const e of readdirSync(join(h, cgroupRoot, 'kubepods', tier), { withFileTypes: true })) {
          if (e.isDirectory() && e.name.startsWith('pod')) out.add(e.name.slice(3));
        }
      } catch {
        /* no such tier here */
      }
    }
  }
  return out;
}
