// Getting images into containerd without a registry: `ctr images import` into the CRI's
// namespace (k8s.io), where the CRI plugin sees them at once.
//
// Why ctr and not containerd's own API: an import is client-side work in containerd (write each
// blob through the content service, create an image record per name, unpack the layers through
// the diff and snapshot services); doing it here would mean speaking five more gRPC services for
// what the `ctr` in the same Debian package already does in ~0.1 s. The cost: it works with
// containerd only (a CRI-O node would need `podman load` or a registry).

import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageService } from '../cri/services.ts';
import { readArchiveInfo, type ArchiveImage } from './archive-info.ts';
import type { BuiltImage } from './oci.ts';

export interface CtrOptions {
  /** containerd's socket path (not a unix:// URL). */
  address: string;
  /** default 'k8s.io', the CRI plugin's namespace */
  namespace?: string;
  /** The snapshotter the CRI uses (default overlayfs); layers are unpacked for it. */
  snapshotter?: string;
  /** default 'ctr' from PATH */
  ctrPath?: string;
}

export class ImportError extends Error {}

/** Runs `ctr images import` on a file, or on an archive in memory (fed through stdin). */
export function ctrImport(source: string | Buffer, opts: CtrOptions): Promise<string> {
  const args = ['--address', opts.address, '--namespace', opts.namespace ?? 'k8s.io', 'images', 'import', '--snapshotter', opts.snapshotter ?? 'overlayfs'];
  args.push(typeof source === 'string' ? source : '-');
  return new Promise((resolve, reject) => {
    const child = spawn(opts.ctrPath ?? 'ctr', args, { stdio: [typeof source === 'string' ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.on('error', (e) => reject(new ImportError(`cannot run ctr: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new ImportError(`ctr images import ${typeof source === 'string' ? source : '(archive)'} failed: ${out.trim().split('\n').pop() ?? `exit ${code}`}`));
    });
    if (typeof source !== 'string') {
      child.stdin!.on('error', () => {}); // ctr may exit early; its exit status says why
      child.stdin!.end(source);
    }
  });
}

/** True when every name is present with this config digest as its image ID. */
export async function isImported(images: ImageService, image: ArchiveImage): Promise<boolean> {
  if (image.names.length === 0) return false;
  for (const name of image.names) {
    const st = await images.imageStatus({ image: name });
    if (!st.image || st.image.id !== image.configDigest) return false;
  }
  return true;
}

export interface ImportResult {
  /** Names imported now. */
  imported: string[];
  /** Names skipped because the same image was already there. */
  present: string[];
  ms: number;
}

/** Imports built images unless each is already present with the same digest. */
export async function ensureBuiltImages(images: ImageService, built: BuiltImage[], opts: CtrOptions): Promise<ImportResult> {
  const start = performance.now();
  const result: ImportResult = { imported: [], present: [], ms: 0 };
  for (const b of built) {
    if (await isImported(images, { names: b.names, configDigest: b.configDigest })) {
      result.present.push(...b.names);
      continue;
    }
    await ctrImport(b.archive, opts);
    result.imported.push(...b.names);
  }
  result.ms = performance.now() - start;
  return result;
}

/**
 * Imports archive files (OCI layouts or `docker save` tarballs), skipping those whose images are
 * all present already. An unreadable or rejected archive is reported in `failed` and does not
 * stop the others.
 */
export async function importArchives(
  images: ImageService,
  files: string[],
  opts: CtrOptions & { force?: boolean },
): Promise<ImportResult & { failed: { file: string; error: string }[] }> {
  const start = performance.now();
  const result = { imported: [] as string[], present: [] as string[], failed: [] as { file: string; error: string }[], ms: 0 };
  for (const file of files) {
    try {
      const info = readArchiveInfo(file);
      const names = info.images.flatMap((i) => i.names);
      let present = !opts.force && info.images.length > 0;
      for (const img of info.images) if (present) present = await isImported(images, img);
      if (present) {
        result.present.push(...names);
        continue;
      }
      await ctrImport(file, opts);
      result.imported.push(...(names.length ? names : [`(unnamed images from ${file})`]));
    } catch (e) {
      result.failed.push({ file, error: (e as Error).message });
    }
  }
  result.ms = performance.now() - start;
  return result;
}

/** The archives in a directory to import at start: `*.tar` (ctr reads plain tar, not .tar.gz). */
export async function archivesIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && e.name.endsWith('.tar'))
      .map((e) => join(dir, e.name))
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
