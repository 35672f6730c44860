// Which images an archive holds (names and config digests), read from its index.json (OCI
// layout) or manifest.json (`docker save`) without importing it. The config digest is the image
// ID containerd's CRI reports, so "every name already points at this ID" means the archive is
// imported already.

import { createHash } from 'node:crypto';
import { TarFile, type TarMember } from './tar-reader.ts';
import { normalizeImageRef } from './refs.ts';
import { ociArchitecture } from './oci.ts';

export interface ArchiveImage {
  /** Fully qualified names ('docker.io/library/busybox:latest'); empty if the archive names none. */
  names: string[];
  /** 'sha256:…' of the image config. */
  configDigest: string;
}

export interface ArchiveInfo {
  format: 'oci' | 'docker';
  images: ArchiveImage[];
}

export class ArchiveError extends Error {}

export function readArchiveInfo(file: string): ArchiveInfo {
  let tar: TarFile;
  try {
    tar = new TarFile(file);
  } catch (e) {
    throw new ArchiveError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    let members: TarMember[];
    try {
      members = tar.members();
    } catch (e) {
      throw new ArchiveError((e as Error).message);
    }
    const byPath = new Map(members.map((m) => [m.path, m]));
    const json = (path: string): unknown => {
      const m = byPath.get(path);
      if (!m) throw new ArchiveError(`${file}: ${path} is missing`);
      try {
        return JSON.parse(tar.readMember(m).toString('utf8'));
      } catch (e) {
        throw new ArchiveError(`${file}: ${path} is not valid JSON (${(e as Error).message})`);
      }
    };
    if (byPath.has('index.json')) return { format: 'oci', images: ociImages(file, json, byPath) };
    if (byPath.has('manifest.json')) return { format: 'docker', images: dockerImages(file, json, (p) => digestOf(tar, byPath.get(p))) };
    throw new ArchiveError(`${file}: not an image archive (neither index.json nor manifest.json at its top)`);
  } finally {
    tar.close();
  }
}

function digestOf(tar: TarFile, m: TarMember | undefined): string | undefined {
  if (!m) return undefined;
  return `sha256:${createHash('sha256').update(tar.readMember(m)).digest('hex')}`;
}

interface Descriptor {
  mediaType?: string;
  digest?: string;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string };
}

function ociImages(file: string, json: (p: string) => unknown, byPath: Map<string, TarMember>): ArchiveImage[] {
  const blobPath = (digest: string) => `blobs/${digest.replace(':', '/')}`;
  const index = json('index.json') as { manifests?: Descriptor[] };
  if (!Array.isArray(index.manifests)) throw new ArchiveError(`${file}: index.json has no manifests`);
  const images = new Map<string, Set<string>>();
  for (const d of index.manifests) {
    if (typeof d.digest !== 'string') continue;
    const configDigest = resolveConfig(d, (digest) => (byPath.has(blobPath(digest)) ? json(blobPath(digest)) : undefined));
    if (!configDigest) continue;
    const names = images.get(configDigest) ?? new Set<string>();
    const name = d.annotations?.['io.containerd.image.name'] ?? d.annotations?.['org.opencontainers.image.ref.name'];
    if (name && (name.includes('/') || name.includes(':'))) {
      try {
        names.add(normalizeImageRef(name));
      } catch {
        /* a bare tag or odd name: ctr names it its own way */
      }
    }
    images.set(configDigest, names);
  }
  return [...images].map(([configDigest, names]) => ({ configDigest, names: [...names] }));
}

/** Follows an index (multi-platform) to this machine's manifest, then the manifest to its config. */
function resolveConfig(d: Descriptor, blob: (digest: string) => unknown, depth = 0): string | undefined {
  const doc = blob(d.digest!) as { mediaType?: string; manifests?: Descriptor[]; config?: { digest?: string } } | undefined;
  if (!doc) return undefined;
  if (Array.isArray(doc.manifests) && depth < 2) {
    const arch = ociArchitecture();
    const pick = doc.manifests.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === arch) ?? doc.manifests[0];
    return pick?.digest ? resolveConfig(pick, blob, depth + 1) : undefined;
  }
  return typeof doc.config?.digest === 'string' ? doc.config.digest : undefined;
}

function dockerImages(file: string, json: (p: string) => unknown, digest: (p: string) => string | undefined): ArchiveImage[] {
  const manifest = json('manifest.json');
  if (!Array.isArray(manifest)) throw new ArchiveError(`${file}: manifest.json is not a list`);
  const out: ArchiveImage[] = [];
  for (const m of manifest as { Config?: string; RepoTags?: string[] }[]) {
    if (typeof m.Config !== 'string') continue;
    const configDigest = digest(m.Config.replace(/^\.?\//, ''));
    if (!configDigest) throw new ArchiveError(`${file}: ${m.Config} is missing`);
    const names: string[] = [];
    for (const t of m.RepoTags ?? []) {
      try {
        names.push(normalizeImageRef(t));
      } catch {
        throw new ArchiveError(`${file}: invalid image name "${t}" in manifest.json`);
      }
    }
    out.push({ configDigest, names });
  }
  return out;
}

