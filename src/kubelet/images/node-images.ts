// The two images every Mizzen node has without a registry, built from the host's static busybox:
//
// - docker.io/library/busybox:{latest,<major.minor>,<full version>}: busybox with a symlink per
//   applet where `busybox --list-full` puts it, /etc/passwd, /etc/group, /etc/nsswitch.conf,
//   /tmp (1777), /root, /var, /home — enough for `sh`, `httpd`, `wget`, `nc`, `sleep`, `id`.
// - the pause image (PAUSE_IMAGE), the CRI's sandbox container: the same layer (so it costs no
//   extra disk or unpacking) with an entrypoint that sleeps forever and exits 0 on SIGTERM or
//   SIGINT. As PID 1 of the pod it also reaps orphans: busybox sh's `wait` collects any child.

import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { buildOciArchive, type BuiltImage } from './oci.ts';
import type { TarEntry } from './tar.ts';

/** Bump the number when the pause image's content changes, so nodes import the new one. */
export const PAUSE_IMAGE = 'mizzen.local/pause:1';

export const BUSYBOX_REPOSITORY = 'docker.io/library/busybox';

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** sh as PID 1: `wait` returns when a signal arrives, the trap exits 0; the loop reaps children. */
const PAUSE_SCRIPT = "trap 'exit 0' TERM INT; while :; do sleep 86400 & wait $!; done";

export interface BusyboxInfo {
  path: string;
  /** '1.35.0' */
  version: string;
  applets: string[];
}

export class BusyboxError extends Error {}

/** Reads what the image needs from the host's busybox; it must be statically linked. */
export function inspectBusybox(path = '/bin/busybox'): BusyboxInfo {
  let real: string;
  try {
    real = realpathSync(path);
    if (!statSync(real).isFile()) throw new Error('not a file');
  } catch {
    throw new BusyboxError(`${path} not found: install busybox-static (apt-get install busybox-static)`);
  }
  if (!isStaticElf(readFileSync(real))) throw new BusyboxError(`${path} is dynamically linked: images need busybox-static (apt-get install busybox-static)`);
  const help = spawnSync(real, [], { encoding: 'utf8' });
  const version = /BusyBox v(\d+\.\d+(?:\.\d+)?)/.exec(`${help.stdout}${help.stderr}`)?.[1];
  const list = spawnSync(real, ['--list-full'], { encoding: 'utf8' });
  if (!version || list.status !== 0) throw new BusyboxError(`${path} did not answer like busybox (version or --list-full)`);
  const applets = list.stdout.split('\n').map((s) => s.trim()).filter((s) => s.includes('/'));
  return { path: real, version, applets };
}

/** An ELF executable without a PT_INTERP program header needs no dynamic loader. */
export function isStaticElf(file: Buffer): boolean {
  if (file.length < 64 || file.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = file[4] === 2;
  const le = file[5] === 1;
  const u16 = (o: number) => (le ? file.readUInt16LE(o) : file.readUInt16BE(o));
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const phoff = is64 ? Number(le ? file.readBigUInt64LE(32) : file.readBigUInt64BE(32)) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 > file.length) return false;
    if (u32(off) === 3) return false; // PT_INTERP
  }
  return true;
}

/** The one layer both images share: busybox, its applet links and a minimal /etc. */
export function busyboxLayer(bb: BusyboxInfo): TarEntry[] {
  const dirs = new Set(['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'etc', 'root', 'tmp', 'var', 'var/tmp', 'home', 'dev', 'proc', 'sys']);
  for (const a of bb.applets) {
    const parts = a.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const modes: Record<string, number> = { tmp: 0o1777, 'var/tmp': 0o1777, root: 0o700 };
  const entries: TarEntry[] = [...dirs].sort().map((d) => ({ path: d, type: 'directory', mode: modes[d] ?? 0o755 }));
  const text = (path: string, body: string, mode = 0o644): TarEntry => ({ path, type: 'file', data: Buffer.from(body), mode });
  entries.push({ path: 'bin/busybox', type: 'file', data: readFileSync(bb.path), mode: 0o755 });
  for (const a of [...bb.applets].sort()) {
    if (a === 'bin/busybox' || !a.includes('/')) continue;
    entries.push({ path: a, type: 'symlink', linkTarget: '/bin/busybox' });
  }
  entries.push(
    text('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nwww-data:x:33:33:www-data:/var/www:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n'),
    text('etc/group', 'root:x:0:\ndaemon:x:1:\ntty:x:5:\nwww-data:x:33:\nusers:x:100:\nnogroup:x:65534:\n'),
    text('etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\nnetworks: files\n'),
  );
  return entries;
}

/** Busybox's version as image tags: 'latest', '1.35', '1.35.0'. */
export function busyboxTags(version: string): string[] {
  const [major, minor] = version.split('.');
  return [...new Set(['latest', `${major}.${minor}`, version])];
}

export interface NodeImages {
  busybox: BuiltImage;
  pause: BuiltImage;
}

/** Builds both archives in memory (about 1 MB each, compressed). */
export function buildNodeImages(bb: BusyboxInfo = inspectBusybox(), extraPauseNames: string[] = []): NodeImages {
  const layer = busyboxLayer(bb);
  const busybox = buildOciArchive({
    names: busyboxTags(bb.version).map((t) => `${BUSYBOX_REPOSITORY}:${t}`),
    layers: [layer],
    config: { Env: [PATH_ENV], Cmd: ['sh'] },
  });
  const pause = buildOciArchive({
    names: [PAUSE_IMAGE, ...extraPauseNames.filter((n) => n !== PAUSE_IMAGE)],
    layers: [layer],
    config: { Env: [PATH_ENV], Entrypoint: ['/bin/sh', '-c', PAUSE_SCRIPT], User: '0:0' },
  });
  return { busybox, pause };
}
