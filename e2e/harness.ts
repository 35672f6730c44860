// End-to-end harness: runs the real `mizzen up` in a child process on a temp data dir and a free
// port, and drives it with the real kubectl.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestCidrs } from '../src/kubelet/testing/local-node.ts';
import { poll } from '../src/testing/poll.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const MIZZEN_BIN = join(REPO_ROOT, 'bin', 'mizzen.js');
export const KUBECTL = '/usr/bin/kubectl';
// Ready in about a second on a quiet machine; the margin is for a loaded one (CI neighbours, parallel suites).
export const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export const hasKubectl = existsSync(KUBECTL);

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface KubectlOptions {
  input?: string;
  env?: Record<string, string>;
  allowFail?: boolean;
}

export interface Cluster {
  dataDir: string;
  port: number;
  url: string;
  kubeconfig: string;
  kubectl(args: string[], opts?: KubectlOptions): Promise<CommandResult>;
  /** SIGTERM, wait for a clean exit, and start again on the same data dir and port. */
  restart(): Promise<void>;
  /** SIGTERM, wait, remove the temp dir. Rejects if the process did not exit with status 0. */
  stop(): Promise<void>;
  /** Everything the current mizzen process printed so far (stdout and stderr interleaved). */
  logs(): string;
}

/** A port that was free a moment ago (the kernel picked it for us). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Run a program to completion, collecting its output; kills it after timeoutMs. */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code: code ?? (signal ? 128 : 1) });
    });
    child.stdin.on('error', () => {}); // the child may exit without reading its input
    child.stdin.end(opts.input ?? '');
  });
}

/** Run the mizzen CLI to completion (for commands that exit on their own, or fail fast). */
export function runMizzen(args: string[], opts: { timeoutMs?: number } = {}): Promise<CommandResult> {
  return run(process.execPath, [MIZZEN_BIN, ...args], { timeoutMs: opts.timeoutMs ?? READY_TIMEOUT_MS });
}

interface Proc {
  child: ChildProcess;
  output: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawn `mizzen up` and wait for its ready line, failing with its output on exit or timeout. */
async function spawnUp(dataDir: string, port: number, extraArgs: string[], readyTimeoutMs = READY_TIMEOUT_MS): Promise<Proc> {
  const child = spawn(process.execPath, [MIZZEN_BIN, 'up', '--data-dir', dataDir, '--port', String(port), ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const proc: Proc = {
    child,
    output: '',
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  };
  await new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: string) => {
      proc.output += chunk;
      if (/is ready/.test(proc.output)) finish();
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (proc.output += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new Error(`mizzen up did not become ready within ${readyTimeoutMs / 1000}s; output:\n${proc.output}`));
    }, readyTimeoutMs);
    void proc.exited.then(({ code, signal }) =>
      finish(new Error(`mizzen up exited (code ${code}, signal ${signal}) before it was ready; output:\n${proc.output}`)),
    );
  });
  return proc;
}

/** SIGTERM and wait; SIGKILL after a grace period. Rejects unless the exit was clean (status 0). */
async function terminate(proc: Proc): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS);
  });
  const result = await Promise.race([proc.exited, killed]);
  clearTimeout(timer);
  if (result === 'timeout') {
    proc.child.kill('SIGKILL');
    await proc.exited;
    throw new Error(`mizzen did not exit within ${STOP_TIMEOUT_MS / 1000}s of SIGTERM; output:\n${proc.output}`);
  }
  if (result.code !== 0) {
    throw new Error(`mizzen exited with code ${result.code} signal ${result.signal} after SIGTERM; output:\n${proc.output}`);
  }
}

/**
 * `mizzen up` on a temp data dir. No local node unless `kubelet: true`: as root `up` would start a
 * real kubelet (containerd, the pod network), which most suites do not need and which takes seconds.
 */
export async function startCluster(opts: { extraArgs?: string[]; kubelet?: boolean; readyTimeoutMs?: number } = {}): Promise<Cluster> {
  const extraArgs = [...(opts.extraArgs ?? []), ...(opts.kubelet ? [] : ['--no-kubelet'])];
  const dataDir = await mkdtemp(join(tmpdir(), 'mizzen-e2e-'));
  const port = await freePort();
  const kubeconfig = join(dataDir, 'kubeconfig');
  let proc: Proc;
  try {
    proc = await spawnUp(dataDir, port, extraArgs, opts.readyTimeoutMs);
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  return {
    dataDir,
    port,
    url: `https://127.0.0.1:${port}`,
    kubeconfig,
    async kubectl(args, kopts = {}) {
      const res = await run(KUBECTL, args, {
        input: kopts.input,
        env: { ...process.env, KUBECONFIG: kubeconfig, ...kopts.env },
      });
      if (res.code !== 0 && !kopts.allowFail) {
        throw new Error(`kubectl ${args.join(' ')} exited with ${res.code}:\n${res.stderr}${res.stdout}`);
      }
      return res;
    },
    async restart() {
      await terminate(proc);
      proc = await spawnUp(dataDir, port, extraArgs, opts.readyTimeoutMs);
    },
    async stop() {
      try {
        await terminate(proc);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
    logs: () => proc.output,
  };
}

/** Host-global names of a test's real node, unique to this run: `prefix` names the suite. */
export interface RealNodeNames {
  /** The random part of the names, unique to this run. */
  id: string;
  nodeName: string;
  bridge: string;
  cgroupRoot: string;
}

export function realNodeNames(prefix: string): RealNodeNames {
  const id = randomBytes(3).toString('hex');
  return { id, nodeName: `${prefix}-e2e-${id}`, bridge: `mz${prefix}${id}`, cgroupRoot: `/mizzen-${prefix}-e2e-${id}` };
}

/**
 * The flags that put a real node (`mizzen up`'s local kubelet or `mizzen kubelet`) on these names
 * and CIDRs. Without `services` it runs no service proxy (its iptables chains are host-global: one
 * suite at a time may own them) and no cluster DNS.
 */
export function realNodeFlags(names: RealNodeNames, cidrs: TestCidrs, opts: { services?: boolean } = {}): string[] {
  return ['--cluster-cidr', cidrs.clusterCIDR, '--service-cluster-ip-range', cidrs.serviceCIDR, '--node-name', names.nodeName,
    '--pod-bridge', names.bridge, '--cgroup-root', names.cgroupRoot, ...(opts.services ? [] : ['--no-service-proxy', '--no-cluster-dns'])];
}

export interface RealNodeCluster extends Cluster, RealNodeNames {
  cidrs: TestCidrs;
  /**
   * Stops `mizzen up`, then removes what its node left on the host (sandboxes, cgroups, bridge,
   * routes); errors are ignored, the suite's outcome is its tests'. `beforeNodeCleanup` runs between.
   */
  stop(opts?: { beforeNodeCleanup?: () => Promise<unknown> }): Promise<void>;
}

/**
 * `mizzen up` with its real local node (root, containerd, CNI) on names and CIDRs of its own,
 * resolved once the Node is Ready. `extraArgs` are more flags for `up`.
 */
export async function startRealNodeCluster(prefix: string, opts: { extraArgs?: string[]; services?: boolean } = {}): Promise<RealNodeCluster> {
  // Loaded here, not at the top: the suites without a real node need none of the node runtime.
  const { cleanupLocalNode, pickTestCidrs } = await import('../src/kubelet/testing/local-node.ts');
  const names = realNodeNames(prefix);
  const cidrs = await pickTestCidrs();
  const cluster = await startCluster({
    kubelet: true,
    readyTimeoutMs: 240_000,
    extraArgs: [...realNodeFlags(names, cidrs, opts), '--kubelet-port', '0', ...(opts.extraArgs ?? [])],
  });
  const node: RealNodeCluster = {
    ...cluster,
    ...names,
    cidrs,
    async stop(sopts = {}) {
      await cluster.stop().catch(() => {});
      await sopts.beforeNodeCleanup?.().catch(() => {});
      await cleanupLocalNode({ dataDir: cluster.dataDir, bridge: names.bridge, cgroupRoot: names.cgroupRoot, ...cidrs }).catch(() => {});
    },
  };
  try {
    await poll(async () => JSON.parse((await cluster.kubectl(['get', 'node', names.nodeName, '-o', 'json'])).stdout).status.conditions.find((x: any) => x.type === 'Ready')?.status === 'True', {
      what: `node ${names.nodeName} Ready\n${cluster.logs()}`,
      timeoutMs: 120_000,
      intervalMs: 1000,
    });
  } catch (e) {
    await node.stop();
    throw e;
  }
  return node;
}
