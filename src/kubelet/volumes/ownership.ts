// fsGroup: volumes the kubelet manages (emptyDir, configMap, secret, downwardAPI, projected) are
// handed to the pod's fsGroup, as upstream's SetVolumeOwnership does: group-owned by fsGroup,
// group read (and write unless read-only) added, directories setgid and group-searchable.
// Symlinks are re-owned but not chmod-ed (they have no mode of their own).

import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const RW_MASK = 0o660;
const RO_MASK = 0o440;
const EXEC_MASK = 0o110;
const SETGID = 0o2000;

export async function setVolumeOwnership(dir: string, fsGroup: number, readOnly: boolean): Promise<void> {
  const visit = async (p: string): Promise<void> => {
    const st = await lstat(p);
    await lchown(p, -1, fsGroup);
    if (st.isSymbolicLink()) return;
    let mask = readOnly ? RO_MASK : RW_MASK;
    if (st.isDirectory()) mask |= SETGID | EXEC_MASK;
    await chmod(p, (st.mode & 0o7777) | mask);
    if (st.isDirectory()) for (const name of await readdir(p)) await visit(join(p, name));
  };
  await visit(dir);
}
