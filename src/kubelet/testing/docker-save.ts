// Builds a `docker save` tarball (the docker v1.2 archive format: manifest.json, <config>.json,
// <layer>/layer.tar, repositories) with our tar writer, for tests of the import path without a
// docker daemon.

import { createHash } from 'node:crypto';
import { createTar, type TarEntry } from '../images/tar.ts';
import { ociArchitecture, type ImageRuntimeConfig } from '../images/oci.ts';

export interface DockerSaveImage {
  /** RepoTags as docker writes them ('busybox:latest', 'localhost:5000/app:1'). */
  repoTags: string[];
  layers: TarEntry[][];
  config: ImageRuntimeConfig;
}

const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Returns the archive and each image's config digest (its image ID). */
export function buildDockerSaveArchive(images: DockerSaveImage[]): { archive: Buffer; configDigests: string[] } {
  const files: TarEntry[] = [];
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const configDigests: string[] = [];
  for (const img of images) {
    const layerTars = img.layers.map((l) => createTar(l));
    const layerIds = layerTars.map((t) => hex(t));
    const config = Buffer.from(
      JSON.stringify({
        architecture: ociArchitecture(),
        os: 'linux',
        created: '1970-01-01T00:00:00Z',
        config: img.config,
        rootfs: { type: 'layers', diff_ids: layerIds.map((h) => `sha256:${h}`) },
      }),
    );
    const configHex = hex(config);
    configDigests.push(`sha256:${configHex}`);
    files.push({ path: `${configHex}.json`, type: 'file', data: config });
    layerTars.forEach((t, i) => {
      const id = layerIds[i]!;
      files.push(
        { path: id, type: 'directory' },
        { path: `${id}/VERSION`, type: 'file', data: Buffer.from('1.0') },
        { path: `${id}/json`, type: 'file', data: Buffer.from(JSON.stringify({ id })) },
        { path: `${id}/layer.tar`, type: 'file', data: t },
      );
    });
    manifest.push({ Config: `${configHex}.json`, RepoTags: img.repoTags, Layers: layerIds.map((id) => `${id}/layer.tar`) });
    for (const t of img.repoTags) {
      const at = t.lastIndexOf(':');
      (repositories[t.slice(0, at)] ??= {})[t.slice(at + 1)] = layerIds[layerIds.length - 1]!;
    }
  }
  files.push({ path: 'manifest.json', type: 'file', data: Buffer.from(JSON.stringify(manifest)) });
  files.push({ path: 'repositories', type: 'file', data: Buffer.from(JSON.stringify(repositories)) });
  return { archive: createTar(files), configDigests };
}
