// hostPath volumes: nothing is mounted by the kubelet; the path is checked against its `type`
// (upstream pkg/volume/hostpath checkType) and given to the runtime as the bind-mount source.

import { mkdir, open, stat } from 'node:fs/promises';

/** Upstream's ValidatePathNoBacksteps. */
export function pathHasBacksteps(p: string): boolean {
  return p.split('/').includes('..');
}

async function statOrUndefined(p: string) {
  try {
    return await stat(p);
  } catch {
    return undefined;
  }
}

/**
 * Check (and for *OrCreate, create) the path as `type` asks; throws upstream's messages.
 * "" (or unset) does no check.
 */
export async function checkHostPathType(path: string, type: string | undefined): Promise<void> {
  if (pathHasBacksteps(path)) throw new Error(`invalid HostPath \`${path}\`: must not contain '..'`);
  if (!type) return;
  const st = await statOrUndefined(path);
  switch (type) {
    case 'DirectoryOrCreate':
      if (!st) {
        await mkdir(path, { recursive: true, mode: 0o755 });
        return;
      }
    // falls through
    case 'Directory':
      if (!st?.isDirectory()) throw new Error(`hostPath type check failed: ${path} is not a directory`);
      return;
    case 'FileOrCreate':
      if (!st) {
        const fh = await open(path, 'a', 0o644);
        await fh.close();
        return;
      }
    // falls through
    case 'File':
      if (!st?.isFile()) throw new Error(`hostPath type check failed: ${path} is not a file`);
      return;
    case 'Socket':
      if (!st?.isSocket()) throw new Error(`hostPath type check failed: ${path} is not a socket file`);
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) throw new Error(`hostPath type check failed: ${path} is not a character device`);
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) throw new Error(`hostPath type check failed: ${path} is not a block device`);
      return;
    default:
      throw new Error(`${type} is an invalid volume type`);
  }
}
