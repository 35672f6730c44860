// Ownership of a data file. The authoritative lock is SQLite's exclusive locking mode (an OS file
// lock that dies with the process, so kill -9 never leaves a stale lock behind); the `<file>.lock`
// side file only records which pid holds it, so the CLI can tell the user who is in the way.

import fs from 'node:fs';

export class StoreLockedError extends Error {
  readonly code = 'ELOCKED';
  constructor(
    readonly file: string,
    readonly pid: number,
  ) {
    super(`data directory is in use: ${file} is locked by process ${pid} (is another "mizzen up" running?)`);
    this.name = 'StoreLockedError';
  }
}

export function lockFilePath(file: string): string {
  return `${file}.lock`;
}

/** The pid recorded in the lock file, or 0 if there is none (or it is unreadable). */
export function readLockPid(file: string): number {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockFilePath(file), 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
}

/** True if a process with this pid exists (EPERM means it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Record ourselves as the owner; called only once the real (SQLite) lock is held. */
export function writeLockPid(file: string): void {
  const path = lockFilePath(file);
  const tmp = `${path}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${process.pid}\n`);
  fs.renameSync(tmp, path);
}

/** Remove the lock file if it still names us. */
export function removeLockPid(file: string): void {
  if (readLockPid(file) !== process.pid) return;
  try {
    fs.unlinkSync(lockFilePath(file));
  } catch {
    // already gone
  }
}
