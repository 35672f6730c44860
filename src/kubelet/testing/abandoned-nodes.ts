// Test nodes whose test was killed (a timeout, Ctrl-C, SIGKILL) before its clean-up ran leave
// containerd, its shims and their containers running on the machine for good: nobody will restart
// that containerd, so the shims of containers that exited wait forever for it to collect them.
// `sweepAbandonedTestNodes()` (run by pickTestCidrs, i.e. whenever a test or benchmark starts a
// node) finds them and stops them.
//
// A node is abandoned when its data dir is under the temp dir and either is gone (a shim's working
// directory, its bundle under `<data-dir>/containerd/state/`, was deleted) or neither the process
// that supervised its containerd nor that process's parent is alive (`supervisor.json`, written by
// the supervisor at start: for `mizzen kubelet`/`mizzen up` started by a test the parent is the
// test, so a kubelet that a test kills and starts again is left alone). Nodes without that file,
// and data dirs elsewhere (a real node's /var/lib/...), are never touched.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processStartTime, type SupervisorOwner } from '../containerd/supervisor.ts';

interface Proc {
  pid: number;
  ppid: number;
}

const BUNDLE = /^(.*)\/containerd\/state\/io\.containerd\.runtime\.v2\.task\//;
const CONFIG = /^(.*)\/containerd\/config\.toml$/;

/** The process runs (a zombie does not), and is the one that started then (pids are reused). */
function alive(pid: number, start: string | undefined): boolean {
  try {
    if (/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return false;
  } catch {
    return false;
  }
  const now = processStartTime(pid);
  return now !== undefined && (start === undefined || now === start);
}

function ownerGone(dataDir: string): boolean {
  let o: SupervisorOwner;
  try {
    o = JSON.parse(readFileSync(join(dataDir, 'containerd', 'supervisor.json'), 'utf8'));
  } catch {
    return false; // unknown: leave it
  }
  return !alive(o.pid, o.start) && !(o.ppid > 1 && alive(o.ppid, o.pstart));
}

export interface SweepResult {
  /** Data dirs whose processes were stopped. */
  dataDirs: string[];
  /** Processes killed (containerd, shims, container processes). */
  killed: number;
}

export function sweepAbandonedTestNodes(log: (msg: string) => void = () => {}): SweepResult {
  const tmp = tmpdir().replace(/\/+$/, '');
  const procs: Proc[] = [];
  const byDir = new Map<string, { shims: number[]; containerds: number[]; deleted: boolean }>();
  const entry = (dir: string) => {
    let e = byDir.get(dir);
    if (!e) byDir.set(dir, (e = { shims: [], containerds: [], deleted: false }));
    return e;
  };
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      procs.push({ pid, ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) });
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const exe = args[0] ?? '';
      if (/containerd-shim/.test(exe)) {
        const cwd = readlinkSync(`/proc/${pid}/cwd`);
        const m = BUNDLE.exec(cwd);
        if (!m || !m[1]!.startsWith(`${tmp}/`)) continue;
        const e = entry(m[1]!);
        e.shims.push(pid);
        if (cwd.endsWith(' (deleted)')) e.deleted = true;
      } else if (/(^|\/)containerd$/.test(exe)) {
        const config = args[args.indexOf('--config') + 1] ?? '';
        const m = CONFIG.exec(config);
        if (args.includes('--config') && m && m[1]!.startsWith(`${tmp}/`)) entry(m[1]!).containerds.push(pid);
      }
    } catch {
      /* exited, or not ours to read */
    }
  }
  const children = new Map<number, number[]>();
  for (const p of procs) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const descendants = (pid: number): number[] => (children.get(pid) ?? []).flatMap((c) => [...descendants(c), c]);
  const result: SweepResult = { dataDirs: [], killed: 0 };
  for (const [dir, e] of byDir) {
    if (!e.deleted && !ownerGone(dir)) continue;
    log(`stopping the containerd and ${e.shims.length} shim(s) of abandoned test node ${dir}`);
    result.dataDirs.push(dir);
    // containerd first (it would restart what it finds), then each shim's containers, then the shim.
    for (const pid of [...e.containerds, ...e.shims.flatMap((s) => [...descendants(s), s])]) {
      try {
        process.kill(pid, 'SIGKILL');
        result.killed++;
      } catch {
        /* gone */
      }
    }
    unmountUnder(dir);
  }
  return result;
}

/** Unmounts (lazily: processes may still be exiting) everything under dir, deepest first. */
export function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      /* not mounted any more */
    }
  }
}
