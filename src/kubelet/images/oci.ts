// Builds an OCI image archive (a tar of an OCI image layout: oci-layout, index.json,
// blobs/sha256/…) from layers given as tar entries. Everything is deterministic (fixed mtimes in
// the layers, gzip without a timestamp, a fixed `created`), so the same input gives the same
// digests, and a node can tell that an image is already imported by its config digest.
//
// Each name becomes one index entry with the `io.containerd.image.name` annotation, which
// `ctr images import` turns into an image record per name.

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createTar, type TarEntry } from './tar.ts';

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** The runtime part of an image config (the OCI names, as docker writes them). */
export interface ImageRuntimeConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, object>;
  StopSignal?: string;
}

export interface OciImageSpec {
  /** Fully qualified names, e.g. 'docker.io/library/busybox:latest'. */
  names: string[];
  /** Each layer as tar entries, lowest first. */
  layers: TarEntry[][];
  config: ImageRuntimeConfig;
  /** OCI architecture name (default: this machine's, e.g. 'amd64'). */
  architecture?: string;
  /** RFC 3339 creation time written into the config (default the epoch, for reproducibility). */
  created?: string;
}

export interface BuiltImage {
  /** The archive to hand to `ctr images import`. */
  archive: Buffer;
  names: string[];
  /** 'sha256:…' of the manifest. */
  manifestDigest: string;
  /** 'sha256:…' of the config: the image ID that containerd's CRI reports. */
  configDigest: string;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Node's process.arch in OCI's spelling. */
export function ociArchitecture(arch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[arch] ?? arch;
}

interface Blob {
  digest: string;
  data: Buffer;
}

function blob(data: Buffer): Blob {
  return { digest: sha256(data), data };
}

export function buildOciArchive(spec: OciImageSpec): BuiltImage {
  if (spec.names.length === 0) throw new Error('an image needs at least one name');
  const architecture = spec.architecture ?? ociArchitecture();
  const layerTars = spec.layers.map((entries) => createTar(entries));
  // Level 6 with no file name and mtime 0 in the gzip header: byte-for-byte reproducible.
  const layerBlobs = layerTars.map((t) => blob(gzipSync(t, { level: 6 })));
  const config = {
    created: spec.created ?? '1970-01-01T00:00:00Z',
    architecture,
    os: 'linux',
    config: spec.config,
    rootfs: { type: 'layers', diff_ids: layerTars.map((t) => sha256(t)) },
    history: layerTars.map(() => ({ created: spec.created ?? '1970-01-01T00:00:00Z', created_by: 'mizzen image builder' })),
  };
  const configBlob = blob(Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: { mediaType: MEDIA_TYPES.config, digest: configBlob.digest, size: configBlob.data.length },
    layers: layerBlobs.map((l) => ({ mediaType: MEDIA_TYPES.layerGzip, digest: l.digest, size: l.data.length })),
  };
  const manifestBlob = blob(Buffer.from(JSON.stringify(manifest)));
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: spec.names.map((name) => ({
      mediaType: MEDIA_TYPES.manifest,
      digest: manifestBlob.digest,
      size: manifestBlob.data.length,
      platform: { architecture, os: 'linux' },
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tagOf(name) },
    })),
  };
  const blobs = new Map<string, Buffer>();
  for (const b of [...layerBlobs, configBlob, manifestBlob]) blobs.set(b.digest, b.data);
  const entries: TarEntry[] = [
    { path: 'blobs', type: 'directory' },
    { path: 'blobs/sha256', type: 'directory' },
    ...[...blobs].map(([digest, data]): TarEntry => ({ path: `blobs/sha256/${digest.slice(7)}`, type: 'file', data })),
    { path: 'oci-layout', type: 'file', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    { path: 'index.json', type: 'file', data: Buffer.from(JSON.stringify(index)) },
  ];
  return { archive: createTar(entries), names: [...spec.names], manifestDigest: manifestBlob.digest, configDigest: configBlob.digest };
}

function tagOf(name: string): string {
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(colon + 1) : 'latest';
}
