// Creating and removing volume directories on this machine, for volumes on the node the
// provisioner runs beside. Only a direct child of a configured base directory, named as the
// provisioner names volumes, is ever removed.

import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';

export async function createVolumeDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o777 });
  // mkdir's mode passes through the umask; containers running as any user may write here, as k3s's
  // helper pod makes them (mkdir -m 0777).
  await chmod(dir, 0o777);
}

/** Whether `dir` is `<base>/<pvName>_...`, the only shape this provisioner deletes. */
export function isVolumeDir(dir: string, base: string, pvName: string): boolean {
  const resolved = path.resolve(dir);
  return path.dirname(resolved) === path.resolve(base) && path.basename(resolved).startsWith(`${pvName}_`);
}

export async function removeVolumeDir(dir: string, base: string, pvName: string): Promise<void> {
  if (!isVolumeDir(dir, base, pvName)) throw new Error(`refusing to delete ${dir}: not a volume directory under ${base}`);
  const st = await lstat(dir).catch(() => undefined);
  if (!st) return;
  if (st.isSymbolicLink()) throw new Error(`refusing to delete ${dir}: it is a symbolic link`);
  await rm(dir, { recursive: true, force: true });
}
