// Atomic projection of a set of files into a directory, upstream's AtomicWriter
// (pkg/volume/util/atomic_writer.go): the real files live in a hidden timestamped directory,
// `..data` is a symlink to it, and each top-level name is a symlink through `..data`. An update
// writes a new timestamped directory and renames a new `..data_tmp` symlink over `..data`, so a
// reader sees either the whole old set or the whole new one, never a mix.
//
// Paths starting with `..` are reserved. Calls on one directory must not overlap (the volume
// manager runs one operation per pod at a time).

import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rename, rm, stat, symlink, unlink, writeFile, chmod } from 'node:fs/promises';
import { posix, join } from 'node:path';

export interface FileProjection {
  data: Buffer;
  /** File mode bits, e.g. 0o644. */
  mode: number;
}

export type Payload = Map<string, FileProjection>;

const DATA_DIR = '..data';
const NEW_DATA_DIR = '..data_tmp';
const MAX_FILE_NAME_LENGTH = 255;
const MAX_PATH_LENGTH = 4096;

/** Upstream's validatePath: relative, no '..' element, not starting with '..', length limits. */
export function validatePath(p: string): void {
  if (p === '') throw new Error(`invalid path: must not be empty: ""`);
  if (p.startsWith('/')) throw new Error(`invalid path: must be relative path: ${p}`);
  if (p.length > MAX_PATH_LENGTH) throw new Error(`invalid path: must be less than or equal to ${MAX_PATH_LENGTH} characters`);
  const items = p.split('/');
  for (const item of items) {
    if (item === '..') throw new Error(`invalid path: must not contain '..': ${p}`);
    if (item.length > MAX_FILE_NAME_LENGTH) throw new Error(`invalid path: filenames must be less than or equal to ${MAX_FILE_NAME_LENGTH} characters`);
  }
  if (items[0].startsWith('..') && items[0].length > 2) throw new Error(`invalid path: must not start with '..': ${p}`);
}

function cleanPayload(payload: Payload): Payload {
  const out: Payload = new Map();
  for (const [p, f] of payload) {
    validatePath(p);
    out.set(posix.normalize(p).replace(/\/+$/, ''), f);
  }
  return out;
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Every path (files and directories) under dir, relative to it. */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(join(dir, prefix), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    out.push(rel);
    if (e.isDirectory()) out.push(...(await walk(dir, rel)));
  }
  return out;
}

async function fileDiffers(path: string, f: FileProjection): Promise<boolean> {
  try {
    const [data, st] = await Promise.all([readFile(path), stat(path)]);
    return !data.equals(f.data) || (st.mode & 0o7777) !== (f.mode & 0o7777);
  } catch {
    return true;
  }
}

function timestampPrefix(d = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.`;
}

/**
 * Project payload into targetDir (which must exist). Returns false when nothing had to change.
 * Files no longer in the payload disappear with the swap.
 */
export async function atomicWrite(targetDir: string, payload: Payload): Promise<boolean> {
  const clean = cleanPayload(payload);
  const dataDirPath = join(targetDir, DATA_DIR);
  let oldTsDir = '';
  try {
    oldTsDir = await readlink(dataDirPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const oldTsPath = oldTsDir ? join(targetDir, oldTsDir) : '';

  let toRemove: string[] = [];
  if (oldTsDir) {
    const wanted = new Set<string>();
    for (const p of clean.keys()) for (let sub = p; sub !== '.' && sub !== ''; sub = posix.dirname(sub)) wanted.add(sub);
    toRemove = (await walk(oldTsPath)).filter((p) => !wanted.has(p));
    let changed = false;
    for (const [p, f] of clean) {
      if (await fileDiffers(join(oldTsPath, p), f)) {
        changed = true;
        break;
      }
    }
    if (!changed && toRemove.length === 0) {
      // The content is current; make sure the visible links exist (a crash could have left them out).
      await createVisibleLinks(targetDir, clean);
      return false;
    }
  }

  const tsDir = await mkdtemp(join(targetDir, timestampPrefix()));
  try {
    await chmod(tsDir, 0o755);
    for (const [p, f] of clean) {
      const full = join(tsDir, p);
      await mkdir(posix.dirname(full), { recursive: true });
      await writeFile(full, f.data, { mode: f.mode });
      await chmod(full, f.mode); // writeFile's mode is subject to the umask
    }
    const newDataDirPath = join(targetDir, NEW_DATA_DIR);
    await rm(newDataDirPath, { force: true });
    await symlink(posix.basename(tsDir), newDataDirPath);
    await rename(newDataDirPath, dataDirPath);
  } catch (e) {
    await rm(tsDir, { recursive: true, force: true });
    await rm(join(targetDir, NEW_DATA_DIR), { force: true });
    throw e;
  }

  await createVisibleLinks(targetDir, clean);
  // Only top-level names are links; deeper paths went away with the old timestamped directory.
  for (const p of toRemove) {
    if (p.includes('/')) continue;
    await unlink(join(targetDir, p)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
  if (oldTsPath) await rm(oldTsPath, { recursive: true, force: true });
  return true;
}

/** `name -> ..data/name` for each top-level name of the payload. */
async function createVisibleLinks(targetDir: string, payload: Payload): Promise<void> {
  const tops = new Set([...payload.keys()].map((p) => p.split('/')[0]));
  for (const top of tops) {
    const link = join(targetDir, top);
    if (await exists(link)) continue;
    await symlink(posix.join(DATA_DIR, top), link);
  }
}

/** The projected files as they are now (following ..data), for tests and diagnostics. */
export async function readProjection(targetDir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  let ts: string;
  try {
    ts = await readlink(join(targetDir, DATA_DIR));
  } catch {
    return out;
  }
  const base = join(targetDir, ts);
  for (const p of await walk(base)) {
    const st = await stat(join(base, p));
    if (st.isFile()) out.set(p, await readFile(join(base, p)));
  }
  return out;
}
