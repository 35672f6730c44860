// What a local node needs from the machine, and getting it on Debian-family systems.
//
// checkPrerequisites() finds the programs; ensurePrerequisites() installs what is missing with
// apt-get when it can (root, apt-get, /etc/debian_version), logging ONE line that says so (apt's
// own output goes to a log file), and otherwise returns a message naming what is missing and the
// command that installs it, so that `mizzen up` starts the control plane without a local node.
// Nothing here throws for a missing package.

import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, openSync, closeSync, readSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { isStaticElf } from './images/node-images.ts';

export interface Requirement {
  /** what is checked, as the message names it */
  what: string;
  /** the Debian package that provides it */
  aptPackage: string;
}

export interface PrerequisitePaths {
  containerd: string;
  containerdShim: string;
  runc: string;
  ctr: string;
  cniBinDir: string;
  busybox: string;
  iptables: string;
  ip: string;
}

export type PrerequisiteResult =
  | { ok: true; paths: PrerequisitePaths; installed: string[] }
  | { ok: false; missing: Requirement[]; message: string };

/** Seams for tests: where to look, who we are. */
export interface PrerequisiteEnv {
  path?: string;
  cniDirs?: string[];
  busyboxPaths?: string[];
  isRoot?: boolean;
  /** true when apt-get can be used (Debian family) */
  hasApt?: boolean;
}

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CNI_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];
const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'];

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function which(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (executable(p)) return p;
  }
  return undefined;
}

function staticBusybox(candidates: string[]): string | undefined {
  for (const p of candidates) {
    try {
      // The ELF header and the program headers are in the first few KB.
      const fd = openSync(p, 'r');
      const head = Buffer.alloc(64 * 1024);
      const n = readSync(fd, head, 0, head.length, 0);
      closeSync(fd);
      if (executable(p) && isStaticElf(head.subarray(0, n))) return p;
    } catch {
      /* not there */
    }
  }
  return undefined;
}

export function checkPrerequisites(env: PrerequisiteEnv = {}): PrerequisiteResult {
  const path = env.path ?? `${process.env.PATH ?? ''}${delimiter}${SYSTEM_PATH}`;
  const missing: Requirement[] = [];
  const find = (name: string, pkg: string): string => {
    const p = which(name, path);
    if (!p) missing.push({ what: name, aptPackage: pkg });
    return p ?? '';
  };
  const paths = {
    containerd: find('containerd', 'containerd'),
    containerdShim: find('containerd-shim-runc-v2', 'containerd'),
    ctr: find('ctr', 'containerd'),
    runc: find('runc', 'runc'),
    iptables: find('iptables', 'iptables'),
    ip: find('ip', 'iproute2'),
    cniBinDir: '',
    busybox: '',
  };
  const cniDir = (env.cniDirs ?? CNI_DIRS).find((d) => CNI_PLUGINS.every((p) => executable(join(d, p))));
  if (cniDir) paths.cniBinDir = cniDir;
  else missing.push({ what: `CNI plugins (${CNI_PLUGINS.join(', ')}) in ${(env.cniDirs ?? CNI_DIRS).join(' or ')}`, aptPackage: 'containernetworking-plugins' });
  const bb = staticBusybox(env.busyboxPaths ?? ['/bin/busybox', '/usr/bin/busybox']);
  if (bb) paths.busybox = bb;
  else missing.push({ what: 'a statically linked busybox (/bin/busybox)', aptPackage: 'busybox-static' });

  if (missing.length === 0) return { ok: true, paths, installed: [] };
  return { ok: false, missing, message: missingMessage(missing) };
}

export function aptPackagesFor(missing: Requirement[]): string[] {
  return [...new Set(missing.map((m) => m.aptPackage))];
}

export function missingMessage(missing: Requirement[]): string {
  const pkgs = aptPackagesFor(missing);
  return `no local node: missing ${missing.map((m) => m.what).join(', ')}; install with: apt-get install ${pkgs.join(' ')}`;
}

function canUseApt(): boolean {
  return existsSync('/etc/debian_version') && which('apt-get', SYSTEM_PATH) !== undefined;
}

/**
 * Checks, and when something is missing on a Debian-family machine as root, installs it with
 * apt-get (one log line; apt's output in `aptLogFile`), then checks again.
 */
export async function ensurePrerequisites(opts: { log: (msg: string) => void; aptLogFile: string; env?: PrerequisiteEnv }): Promise<PrerequisiteResult> {
  const first = checkPrerequisites(opts.env);
  if (first.ok) return first;
  const isRoot = opts.env?.isRoot ?? process.getuid?.() === 0;
  const hasApt = opts.env?.hasApt ?? canUseApt();
  if (!isRoot || !hasApt) {
    const why = !hasApt ? 'apt-get is not available' : 'not running as root';
    return { ...first, message: `${first.message} (${why}, so Mizzen cannot install them itself)` };
  }
  const pkgs = aptPackagesFor(first.missing);
  opts.log(`installing ${pkgs.join(' ')} with apt-get for the local node (output in ${opts.aptLogFile})`);
  const args = ['install', '-y', '--no-install-recommends', ...pkgs];
  let ok = await runApt(args, opts.aptLogFile);
  if (!ok) ok = (await runApt(['update'], opts.aptLogFile)) && (await runApt(args, opts.aptLogFile)); // stale package lists
  const second = checkPrerequisites(opts.env);
  if (second.ok) return { ...second, installed: pkgs };
  return { ...second, message: `${second.message} (apt-get install failed; see ${opts.aptLogFile})` };
}

function runApt(args: string[], logFile: string): Promise<boolean> {
  return new Promise((resolve) => {
    let fd: number;
    try {
      fd = openSync(logFile, 'a');
    } catch {
      fd = -1;
    }
    const child = spawn('apt-get', args, {
      stdio: ['ignore', fd >= 0 ? fd : 'ignore', fd >= 0 ? fd : 'ignore'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', PATH: `${process.env.PATH ?? ''}${delimiter}${SYSTEM_PATH}` },
    });
    if (fd >= 0) closeSync(fd);
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}
