// Reading and writing the small files the control plane keeps under its data dir (certificates,
// keys, kubeconfigs): an absent file is a normal answer, and a write never leaves half a file.

import { randomBytes } from 'node:crypto';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';

/** The file's text, or undefined when it does not exist (other errors are thrown). */
export async function readFileIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Writes through a temporary file beside it and a rename, so that a concurrent reader (another
 * process starting, a kubectl) sees the old file or the new one, never half of one; `mode` is set
 * on the new file even where the umask would narrow it, or an existing file had another.
 */
export async function writeFileAtomic(file: string, data: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode);
  await rename(tmp, file);
}
