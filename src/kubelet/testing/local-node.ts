// For tests that need a real container runtime: a containerd of their own in a temporary data
// dir, with Mizzen's images, a pod network on a bridge of its own and CIDRs that overlap no route
// on the machine (other tests run at the same time), and a cleanup that leaves nothing behind
// even when the test failed half-way: sandboxes, shims, mounts, cgroups, bridge, routes, files.
//
//   const skip = localNodeSkipReason();
//   test('...', { skip }, async (t) => {
//     const node = await startLocalNode();
//     t.after(() => node.cleanup());
//     const id = await node.runtime.cri.runPodSandbox(node.sandboxConfig('web'));
//   });

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectCri } from '../cri/grpc-client.ts';
import type { CriClient } from '../cri/services.ts';
import type { PodSandboxConfig } from '../cri/types.ts';
import { ContainerdSupervisor } from '../containerd/supervisor.ts';
import { startNodeRuntime, type NodeRuntime, type NodeRuntimeOptions } from '../node-runtime.ts';
import { removePodMasquerade } from '../network/pod-masquerade.ts';
import { listRoutes } from '../network/routes.ts';
import { cidrsOverlap } from '../network/cidr.ts';
import { checkPrerequisites } from '../prerequisites.ts';
import { sweepAbandonedTestNodes, unmountUnder } from './abandoned-nodes.ts';

/** Why a real-runtime test cannot run here, or undefined when it can. */
export function localNodeSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (containerd, bridges, routes)';
  const p = checkPrerequisites();
  if (!p.ok) return `${p.message.replace(/^no local node: /, '')}`;
  return undefined;
}

export interface TestCidrs {
  /** 10.X.0.0/16 */
  clusterCIDR: string;
  /** 10.X.Y.0/24 inside the cluster CIDR */
  podCIDR: string;
  /** 10.Z.0.0/16 */
  serviceCIDR: string;
}

/**
 * Random 10.x ranges that overlap no route on this machine. Every test or benchmark node starts
 * here, so this is also where what killed test runs left running is stopped.
 */
export async function pickTestCidrs(): Promise<TestCidrs> {
  sweepAbandonedTestNodes((m) => console.error(m));
  const routes = (await listRoutes()).filter((r) => r.dst !== 'default').map((r) => r.dst);
  const free = (cidr: string) => !routes.some((r) => cidrsOverlap(r, cidr));
  for (let i = 0; i < 100; i++) {
    const x = 100 + Math.floor(Math.random() * 150);
    const z = 100 + Math.floor(Math.random() * 150);
    const y = 1 + Math.floor(Math.random() * 250);
    const c = { clusterCIDR: `10.${x}.0.0/16`, podCIDR: `10.${x}.${y}.0/24`, serviceCIDR: `10.${z}.0.0/16` };
    if (x !== z && free(c.clusterCIDR) && free(c.serviceCIDR)) return c;
  }
  throw new Error('no free 10.x.0.0/16 ranges for a test node');
}

export interface LocalNode extends TestCidrs {
  runtime: NodeRuntime;
  dataDir: string;
  bridge: string;
  /** cgroupfs parent for this node's pods, e.g. '/mizzen-test-ab12cd'; removed by cleanup. */
  cgroupRoot: string;
  /** A sandbox config on this node's network, logs under its data dir, cgroup under cgroupRoot. */
  sandboxConfig(name: string, extra?: Partial<PodSandboxConfig>): PodSandboxConfig;
  /**
   * Stops the runtime as a kubelet shutdown does (containerd stops, containers keep running) and
   * starts a new one on the same data dir, network and routes; `runtime` is the new one.
   */
  restart(): Promise<NodeRuntime>;
  cleanup(): Promise<void>;
}

export async function startLocalNode(opts: Partial<NodeRuntimeOptions> = {}): Promise<LocalNode> {
  const id = randomBytes(3).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'mzn-'));
  const bridge = `mzt${id}`;
  const cidrs = await pickTestCidrs();
  const cgroupRoot = `/mizzen-test-${id}`;
  const logs: string[] = [];
  let runtime: NodeRuntime | undefined;
  const cleanup = async () => {
    await cleanupLocalNode({ runtime, dataDir, bridge, cgroupRoot, ...cidrs });
  };
  const start = async () => {
    runtime = await startNodeRuntime({
      dataDir,
      bridge,
      networkName: `mzt${id}`,
      clusterCIDR: cidrs.clusterCIDR,
      serviceCIDR: cidrs.serviceCIDR,
      supervisor: { backoff: { initialMs: 200, maxMs: 2000 }, stopTimeoutMs: 5000 },
      log: (m) => logs.push(m),
      ...opts,
    });
    await runtime.configurePodNetwork(cidrs.podCIDR);
    return runtime;
  };
  try {
    await start();
  } catch (e) {
    await cleanup();
    throw e;
  }
  let n = 0;
  const node: LocalNode = {
    ...cidrs,
    runtime: runtime!,
    dataDir,
    bridge,
    cgroupRoot,
    sandboxConfig(name, extra = {}) {
      const uid = `${id}-${++n}`;
      return {
        metadata: { name, namespace: 'default', uid, attempt: 0 },
        hostname: name,
        logDirectory: join(node.runtime.paths.podLogsDir, `default_${name}_${uid}`),
        linux: { cgroupParent: `${cgroupRoot}/pod${uid}` },
        ...extra,
      };
    },
    async restart() {
      await node.runtime.stop();
      node.runtime = await start();
      return node.runtime;
    },
    cleanup,
  };
  return node;
}

/** Removes what a test node left: sandboxes, shims, mounts, cgroups, bridge, routes, files. */
export async function cleanupLocalNode(n: { runtime?: NodeRuntime; dataDir: string; bridge: string; cgroupRoot: string } & TestCidrs): Promise<void> {
  const paths = n.runtime?.paths;
  if (n.runtime) {
    // Sandboxes first, through the CRI: that also removes their network namespaces, veths, NAT
    // rules, cgroups and runc state. A test may have left containerd stopped (a runtime restart
    // that failed half-way): then a containerd is started once more just for this.
    if (!(await removeAllSandboxes(n.runtime.cri)) && paths) {
      const sup = new ContainerdSupervisor({ configFile: paths.configFile, socketPath: paths.socketPath, logFile: paths.logFile, pidFile: paths.pidFile, readyTimeoutMs: 15_000 });
      try {
        await sup.start();
        const cri = connectCri(sup.endpoint);
        await removeAllSandboxes(cri);
        cri.close();
      } catch {
        /* fall through to the blunt cleanup below */
      }
      await sup.stop();
    }
    await n.runtime.stop({ cleanup: true }).catch(() => {});
  }
  // Whatever is left: shims, container processes, mounts, cgroups, bridge, routes, files.
  if (paths) killShimsOf(paths.socketPath);
  killCgroupProcesses(n.cgroupRoot);
  unmountUnder(n.dataDir);
  await removeCgroups(n.cgroupRoot);
  try {
    execFileSync('ip', ['link', 'del', n.bridge], { stdio: 'ignore' });
  } catch {
    /* already gone */
  }
  await removePodMasquerade(n.bridge).catch(() => {});
  for (const cidr of [n.clusterCIDR, n.serviceCIDR]) {
    try {
      execFileSync('ip', ['-4', 'route', 'del', 'unreachable', cidr], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
  rmSync(n.dataDir, { recursive: true, force: true });
}

/** Stops and removes every sandbox; false when the runtime does not answer. */
async function removeAllSandboxes(cri: CriClient): Promise<boolean> {
  let sandboxes;
  try {
    sandboxes = await cri.listPodSandbox(undefined, { timeoutMs: 10_000 });
  } catch {
    return false;
  }
  for (const sb of sandboxes) {
    await cri.stopPodSandbox(sb.id, { timeoutMs: 30_000 }).catch(() => {});
    await cri.removePodSandbox(sb.id, { timeoutMs: 30_000 }).catch(() => {});
  }
  return true;
}

/** containerd-shim processes started by the containerd on this socket (they outlive it). */
export function shimPidsOf(socket: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const args = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (/containerd-shim/.test(args[0] ?? '') && args.includes(socket)) pids.push(Number(e));
    } catch {
      /* exited */
    }
  }
  return pids;
}

function killShimsOf(socket: string): void {
  for (const pid of shimPidsOf(socket)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

function cgroupDirs(root: string): string[] {
  const base = '/sys/fs/cgroup';
  const hierarchies = existsSync(join(base, 'cgroup.controllers')) ? [''] : readdirSync(base);
  const dirs: string[] = [];
  for (const h of hierarchies) {
    const walk = (d: string) => {
      dirs.push(d);
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    };
    try {
      walk(join(base, h, root));
    } catch {
      /* not in this hierarchy */
    }
  }
  return dirs;
}

/** Container processes whose shim was killed live on, reparented to init: kill them by cgroup. */
function killCgroupProcesses(root: string): void {
  for (const d of cgroupDirs(root)) {
    try {
      for (const pid of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    } catch {
      /* gone */
    }
  }
}

/** Kills what runs in a cgroup subtree and removes it, in every hierarchy. */
export async function removeCgroupTree(root: string): Promise<void> {
  killCgroupProcesses(root);
  await removeCgroups(root);
}

/** Removes a cgroup subtree in every hierarchy, deepest first, waiting for killed processes to go. */
async function removeCgroups(root: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const dirs = cgroupDirs(root);
    if (dirs.length === 0) return;
    for (const d of dirs.sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(d);
      } catch {
        /* busy: processes still exiting */
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
