import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildOciArchive, MEDIA_TYPES, sha256 } from './oci.ts';
import { createTar } from './tar.ts';
import { readArchiveInfo, ArchiveError } from './archive-info.ts';
import { busyboxLayer, busyboxTags, buildNodeImages, inspectBusybox, isStaticElf, PAUSE_IMAGE } from './node-images.ts';
import { normalizeImageRef, familiarImageRef } from './refs.ts';
import { buildDockerSaveArchive } from '../testing/docker-save.ts';

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-oci-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const hexOf = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('an OCI archive has a layout whose digests and sizes all check out', (t) => {
  const dir = tmp(t);
  const img = buildOciArchive({
    names: ['docker.io/library/app:1', 'docker.io/library/app:latest'],
    layers: [[{ path: 'hello.txt', type: 'file', data: Buffer.from('hello\n') }]],
    config: { Cmd: ['cat', '/hello.txt'] },
    architecture: 'amd64',
  });
  writeFileSync(join(dir, 'a.tar'), img.archive);
  execFileSync('tar', ['-xf', join(dir, 'a.tar'), '-C', dir]);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  assert.equal(index.manifests.length, 2);
  assert.deepEqual(
    index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['io.containerd.image.name']),
    ['docker.io/library/app:1', 'docker.io/library/app:latest'],
  );
  const blob = (digest: string) => readFileSync(join(dir, 'blobs/sha256', digest.slice(7)));
  for (const m of index.manifests) {
    assert.equal(m.digest, img.manifestDigest);
    assert.equal(m.size, blob(m.digest).length);
  }
  const manifest = JSON.parse(blob(img.manifestDigest).toString());
  assert.equal(manifest.mediaType, MEDIA_TYPES.manifest);
  assert.equal(manifest.config.digest, img.configDigest);
  assert.equal(`sha256:${hexOf(blob(img.manifestDigest))}`, img.manifestDigest);
  const layerGz = blob(manifest.layers[0].digest);
  assert.equal(`sha256:${hexOf(layerGz)}`, manifest.layers[0].digest);
  assert.equal(manifest.layers[0].size, layerGz.length);
  const config = JSON.parse(blob(img.configDigest).toString());
  assert.deepEqual(config.rootfs.diff_ids, [sha256(gunzipSync(layerGz))], 'diff_id is the uncompressed layer');
  assert.equal(config.architecture, 'amd64');
  assert.deepEqual(config.config.Cmd, ['cat', '/hello.txt']);
  assert.deepEqual(buildOciArchive({ names: ['docker.io/library/app:1'], layers: [[{ path: 'hello.txt', type: 'file', data: Buffer.from('hello\n') }]], config: { Cmd: ['cat', '/hello.txt'] }, architecture: 'amd64' }).configDigest, img.configDigest, 'reproducible');
});

test('readArchiveInfo finds names and config digests in OCI and docker-save archives', (t) => {
  const dir = tmp(t);
  const oci = buildOciArchive({ names: ['docker.io/library/app:1'], layers: [[{ path: 'a', type: 'file', data: Buffer.from('a') }]], config: {} });
  writeFileSync(join(dir, 'oci.tar'), oci.archive);
  assert.deepEqual(readArchiveInfo(join(dir, 'oci.tar')), { format: 'oci', images: [{ configDigest: oci.configDigest, names: ['docker.io/library/app:1'] }] });

  const saved = buildDockerSaveArchive([
    { repoTags: ['myapp:1', 'localhost:5000/team/myapp:2'], layers: [[{ path: 'x', type: 'file', data: Buffer.from('x') }]], config: { Cmd: ['x'] } },
  ]);
  writeFileSync(join(dir, 'docker.tar'), saved.archive);
  assert.deepEqual(readArchiveInfo(join(dir, 'docker.tar')), {
    format: 'docker',
    images: [{ configDigest: saved.configDigests[0], names: ['docker.io/library/myapp:1', 'localhost:5000/team/myapp:2'] }],
  });

  writeFileSync(join(dir, 'junk.tar'), 'not a tar at all'.repeat(100));
  assert.throws(() => readArchiveInfo(join(dir, 'junk.tar')), (e: Error) => e instanceof ArchiveError && /not a tar archive/.test(e.message));
  assert.throws(() => readArchiveInfo(join(dir, 'missing.tar')), /no such file/);
  writeFileSync(join(dir, 'plain.tar'), execFileSync('tar', ['-cf', '-', '-C', dir, 'oci.tar']));
  assert.throws(() => readArchiveInfo(join(dir, 'plain.tar')), /not an image archive/);
});

test('image references normalise as the CRI does', () => {
  assert.equal(normalizeImageRef('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalizeImageRef('busybox:1.35'), 'docker.io/library/busybox:1.35');
  assert.equal(normalizeImageRef('me/app'), 'docker.io/me/app:latest');
  assert.equal(normalizeImageRef('index.docker.io/library/busybox:1'), 'docker.io/library/busybox:1');
  assert.equal(normalizeImageRef('localhost:5000/app'), 'localhost:5000/app:latest');
  assert.equal(normalizeImageRef('localhost/app:2'), 'localhost/app:2');
  assert.equal(normalizeImageRef('registry.k8s.io/pause:3.9'), 'registry.k8s.io/pause:3.9');
  assert.equal(normalizeImageRef(`busybox@sha256:${'a'.repeat(64)}`), `docker.io/library/busybox@sha256:${'a'.repeat(64)}`);
  assert.equal(familiarImageRef('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.equal(familiarImageRef('docker.io/me/app:1'), 'me/app:1');
  for (const bad of ['', 'Busybox', 'a b', 'busybox:', 'busybox:-x', 'x@sha256', 'UPPER/case']) assert.throws(() => normalizeImageRef(bad), /invalid/, bad);
});

test('isStaticElf tells static from dynamic executables', () => {
  assert.equal(isStaticElf(readFileSync(process.execPath)), false, 'node is dynamically linked');
  assert.equal(isStaticElf(Buffer.from('#!/bin/sh\n')), false);
  if (existsSync('/bin/busybox') && !/dynamic/.test(execFileSync('sh', ['-c', 'ldd /bin/busybox 2>&1 || true'], { encoding: 'utf8' }))) {
    assert.equal(isStaticElf(readFileSync('/bin/busybox')), true);
  }
});

test('the busybox image: applet links, /etc files, /tmp 1777; the pause image shares its layer', { skip: skipWithoutStaticBusybox() }, (t) => {
  const bb = inspectBusybox();
  assert.match(bb.version, /^\d+\.\d+/);
  assert.deepEqual(busyboxTags('1.35.0'), ['latest', '1.35', '1.35.0']);
  const images = buildNodeImages(bb);
  assert.deepEqual(images.busybox.names, busyboxTags(bb.version).map((tag) => `docker.io/library/busybox:${tag}`));
  assert.deepEqual(images.pause.names, [PAUSE_IMAGE]);
  const dir = tmp(t);
  const layerDir = join(dir, 'rootfs');
  execFileSync('mkdir', [layerDir]);
  writeFileSync(join(dir, 'layer.tar'), createTar(busyboxLayer(bb)));
  execFileSync('tar', ['--no-same-owner', '-xf', join(dir, 'layer.tar'), '-C', layerDir]);
  assert.equal(readlinkSync(join(layerDir, 'bin/sh')), '/bin/busybox');
  assert.equal(readlinkSync(join(layerDir, 'usr/bin/wget')), '/bin/busybox');
  assert.equal(statSync(join(layerDir, 'tmp')).mode & 0o7777, 0o1777);
  assert.match(readFileSync(join(layerDir, 'etc/passwd'), 'utf8'), /^root:x:0:0:root:\/root:\/bin\/sh$/m);
  assert.match(readFileSync(join(layerDir, 'etc/group'), 'utf8'), /^nogroup:x:65534:$/m);
  assert.match(readFileSync(join(layerDir, 'etc/nsswitch.conf'), 'utf8'), /^hosts: files dns$/m);
  // The busybox in the image runs its applets from the links.
  assert.match(execFileSync(join(layerDir, 'bin/busybox'), ['echo', 'ok'], { encoding: 'utf8' }), /^ok$/m);
  // Both images use one layer blob.
  const layers = (archive: Buffer) => {
    const d = mkdtempSync(join(dir, 'x'));
    writeFileSync(join(d, 'a.tar'), archive);
    execFileSync('tar', ['-xf', join(d, 'a.tar'), '-C', d]);
    const idx = JSON.parse(readFileSync(join(d, 'index.json'), 'utf8'));
    const man = JSON.parse(readFileSync(join(d, 'blobs/sha256', idx.manifests[0].digest.slice(7)), 'utf8'));
    return { layers: man.layers.map((l: { digest: string }) => l.digest), config: JSON.parse(readFileSync(join(d, 'blobs/sha256', man.config.digest.slice(7)), 'utf8')) };
  };
  const b = layers(images.busybox.archive);
  const p = layers(images.pause.archive);
  assert.deepEqual(p.layers, b.layers);
  assert.deepEqual(b.config.config.Cmd, ['sh']);
  assert.equal(p.config.config.Entrypoint[0], '/bin/sh');
  assert.match(p.config.config.Entrypoint[2], /trap 'exit 0' TERM INT/);
});

function skipWithoutStaticBusybox(): string | undefined {
  try {
    return isStaticElf(readFileSync('/bin/busybox')) ? undefined : '/bin/busybox is not static (install busybox-static)';
  } catch {
    return 'no /bin/busybox (install busybox-static)';
  }
}
