// tmpfs mounts for memory-backed volumes (emptyDir medium: Memory, and the tmpfs under secret and
// projected volumes), through mount(8)/umount(8) as upstream's mount-utils does. Needs root (or
// CAP_SYS_ADMIN); canMount() says whether this process may.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ShellRunner } from './shell-runner.ts';

export interface Mounter {
  /** Mount a tmpfs at dir (which must exist); sizeBytes > 0 caps it. */
  mountTmpfs(dir: string, sizeBytes?: number): Promise<void>;
  unmount(dir: string): Promise<void>;
  /** Mount points at or under dir, deepest first. */
  mountPointsUnder(dir: string): Promise<string[]>;
}

/** Mount points listed in /proc/self/mountinfo (octal escapes such as \040 decoded). */
export async function listMountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length > 4) out.push(f[4].replace(/\\([0-7]{3})/g, (_m, o) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/**
 * mount(8) and umount(8), run through a few long-lived shells (shell-runner.ts says why): more
 * than one, so that a burst of pods does not queue behind one slow mount.
 */
export class SystemMounter implements Mounter {
  private readonly shells = Array.from({ length: 4 }, () => new ShellRunner());

  private get shell(): ShellRunner {
    return this.shells.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  async mountTmpfs(dir: string, sizeBytes?: number): Promise<void> {
    const args = ['-t', 'tmpfs'];
    if (sizeBytes && sizeBytes > 0) args.push('-o', `size=${Math.floor(sizeBytes)}`);
    args.push('tmpfs', dir);
    let r;
    try {
      r = await this.shell.run(['mount', ...args]);
    } catch (e) {
      r = { code: -1, output: (e as Error).message };
    }
    if (r.code !== 0) throw new Error(`mount failed: ${r.output.trim() || `exit status ${r.code}`}\nMounting command: mount\nMounting arguments: ${args.join(' ')}`);
  }

  async unmount(dir: string): Promise<void> {
    let r;
    try {
      r = await this.shell.run(['umount', dir]);
    } catch (e) {
      r = { code: -1, output: (e as Error).message };
    }
    if (r.code !== 0) throw new Error(`unmount failed: ${r.output.trim() || `exit status ${r.code}`}\nUnmounting arguments: ${dir}`);
  }

  /** Ends the helper shell. */
  close(): void {
    for (const s of this.shells) s.close();
  }

  async mountPointsUnder(dir: string): Promise<string[]> {
    const base = resolve(dir);
    return (await listMountPoints()).filter((m) => m === base || m.startsWith(base + '/')).sort((a, b) => b.length - a.length);
  }
}

/** Whether this process can mount: root, and a mount(8) that works (checked once by the caller's choice of Mounter). */
export function canMount(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
