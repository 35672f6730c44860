// `npm run bench -- sandbox-floor [--pods 10] [--runtime runc|crun] [--ipmasq]`: the bare cost of
// what a pod start-up needs from the OS, outside Mizzen and containerd: per pod a network
// namespace, CNI ADD of loopback, bridge (host-local IPAM) and portmap as containerd runs them,
// and two containers (the pause container and the app's) made with the OCI runtime's `create` and
// `start`, as containerd's runc shim does. One pod after the other, then all at once; CPU by
// process from perf (bench/lib/perf-cpu.ts). This is the floor under `pod-startup`'s burst: with
// 2 cores, 30 pods cannot start faster than 30 × perPodMs / 2. Needs root, perf and the node's
// packages; everything it makes (bridge, netns, cgroups, state) is named after a random id and
// removed at the end.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { localNodeSkipReason, pickTestCidrs, removeCgroupTree } from '../src/kubelet/testing/local-node.ts';
import { perfAvailable, startPerfCpu, type PerfCpuResult } from './lib/perf-cpu.ts';

const CNI_BIN = '/usr/lib/cni';

function arg(argv: string[], name: string, dflt: string): string {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1]! : dflt;
}

/**
 * Runs a command to its end. `container`: its stdio goes to /dev/null, since the OCI runtime hands
 * its own stdio to the container, which would hold a pipe open for as long as it runs.
 */
function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; container?: boolean } = {}): Promise<string> {
  if (opts.container) {
    return new Promise((resolve, reject) => {
      const p = spawn(cmd, args, { stdio: 'ignore' });
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve('') : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}`))));
    });
  }
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.stdin.on('error', () => {}); // a command that exits without reading its input
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err || out}`))));
    p.stdin.end(opts.input ?? '');
  });
}

interface Floor {
  id: string;
  dir: string;
  bridge: string;
  subnet: string;
  runtime: string;
  ipMasq: boolean;
  spec: any;
}

function cni(f: Floor, command: 'ADD' | 'DEL', plugin: string, netns: string, containerId: string, conf: object): Promise<string> {
  const env = { ...process.env, CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: netns, CNI_IFNAME: plugin === 'loopback' ? 'lo' : 'eth0', CNI_PATH: CNI_BIN };
  return run(path.join(CNI_BIN, plugin), [], { env, input: JSON.stringify(conf) });
}

function bridgeConf(f: Floor) {
  return {
    cniVersion: '1.0.0',
    name: `mzkbfl-${f.id}`,
    type: 'bridge',
    bridge: f.bridge,
    isGateway: true,
    ipMasq: f.ipMasq,
    hairpinMode: true,
    ipam: { type: 'host-local', ranges: [[{ subnet: f.subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(f.dir, 'ipam') },
  };
}

async function containerUp(f: Floor, name: string, netnsPath: string, index: number): Promise<void> {
  const bundle = path.join(f.dir, 'bundles', name);
  mkdirSync(bundle, { recursive: true });
  const spec = structuredClone(f.spec);
  spec.root = { path: path.join(f.dir, 'rootfs'), readonly: true };
  spec.process.terminal = false;
  spec.process.args = ['/bin/busybox', 'sleep', '3600'];
  spec.hostname = name;
  spec.linux.namespaces = spec.linux.namespaces.map((n: any) => (n.type === 'network' ? { type: 'network', path: netnsPath } : n));
  spec.linux.cgroupsPath = `/mzkbfl-${f.id}/${name}-${index}`;
  writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  const root = ['--root', path.join(f.dir, 'state')];
  await run(f.runtime, [...root, 'create', '--bundle', bundle, name], { container: true });
  await run(f.runtime, [...root, 'start', name], { container: true });
}

/** One pod: netns, CNI ADD (loopback, bridge, portmap), pause container, app container. */
async function podUp(f: Floor, i: number): Promise<void> {
  const ns = `mzkbfl-${f.id}-${i}`;
  await run('ip', ['netns', 'add', ns]);
  const nsPath = `/var/run/netns/${ns}`;
  const cid = `${f.id}-${i}`;
  await cni(f, 'ADD', 'loopback', nsPath, cid, { cniVersion: '1.0.0', name: 'cni-loopback', type: 'loopback' });
  const out = await cni(f, 'ADD', 'bridge', nsPath, cid, bridgeConf(f));
  let prev: unknown;
  try {
    prev = JSON.parse(out);
  } catch {
    throw new Error(`bridge ADD for ${ns} printed no result: ${JSON.stringify(out)}`);
  }
  await cni(f, 'ADD', 'portmap', nsPath, cid, { cniVersion: '1.0.0', name: `mzkbfl-${f.id}`, type: 'portmap', capabilities: { portMappings: true }, snat: true, prevResult: prev });
  await containerUp(f, `${cid}-pause`, nsPath, 0);
  await containerUp(f, `${cid}-app`, nsPath, 1);
}

async function podDown(f: Floor, i: number): Promise<void> {
  const ns = `mzkbfl-${f.id}-${i}`;
  const cid = `${f.id}-${i}`;
  const root = ['--root', path.join(f.dir, 'state')];
  for (const c of [`${cid}-app`, `${cid}-pause`]) await run(f.runtime, [...root, 'delete', '--force', c]).catch(() => {});
  await cni(f, 'DEL', 'bridge', `/var/run/netns/${ns}`, cid, bridgeConf(f)).catch(() => {});
  await run('ip', ['netns', 'del', ns]).catch(() => {});
}

async function measure(f: Floor, pods: number[], concurrent: boolean): Promise<{ wallMs: number; cpu?: PerfCpuResult }> {
  const perf = perfAvailable() ? await startPerfCpu(new Map([[process.pid, 'bench (node)']]), path.join(f.dir, 'perf.data')) : undefined;
  const t0 = performance.now();
  try {
    if (concurrent) await Promise.all(pods.map((i) => podUp(f, i)));
    else for (const i of pods) await podUp(f, i);
  } catch (e) {
    await perf?.stop().catch(() => undefined);
    throw e;
  }
  const wallMs = Math.round(performance.now() - t0);
  return { wallMs, cpu: await perf?.stop() };
}

export async function main(argv: string[]): Promise<void> {
  const skip = localNodeSkipReason();
  if (skip) {
    console.log(JSON.stringify({ bench: 'sandbox-floor', skipped: skip }));
    return;
  }
  const n = Number(arg(argv, '--pods', '10'));
  const runtime = arg(argv, '--runtime', 'runc');
  const id = randomBytes(3).toString('hex');
  const dir = mkdtempSync(path.join(tmpdir(), 'mzkbfl-'));
  chmodSync(dir, 0o755);
  const { podCIDR } = await pickTestCidrs();
  mkdirSync(path.join(dir, 'rootfs', 'bin'), { recursive: true });
  for (const d of ['proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(path.join(dir, 'rootfs', d), { recursive: true });
  copyFileSync('/bin/busybox', path.join(dir, 'rootfs', 'bin', 'busybox'));
  chmodSync(path.join(dir, 'rootfs', 'bin', 'busybox'), 0o755);
  const specDir = path.join(dir, 'spec');
  mkdirSync(specDir);
  spawnSync('runc', ['spec'], { cwd: specDir });
  const spec = JSON.parse(readFileSync(path.join(specDir, 'config.json'), 'utf8'));
  const f: Floor = { id, dir, bridge: `mzkbfl${id}`, subnet: podCIDR, runtime, ipMasq: argv.includes('--ipmasq'), spec };
  const seq = Array.from({ length: n }, (_, i) => i);
  const conc = Array.from({ length: n }, (_, i) => n + i);
  try {
    await podUp(f, 1000); // warm-up: the bridge, the page cache
    const one = await measure(f, seq, false);
    const all = await measure(f, conc, true);
    // The floor is what the OS tools cost: not this script, nor node's fork before each exec.
    const per = (r: { cpu?: PerfCpuResult }) => {
      if (!r.cpu) return undefined;
      const own = (r.cpu.byProcess['bench (node)'] ?? 0) + (r.cpu.byProcess['node'] ?? 0);
      return Math.round((r.cpu.totalMs - own) / n);
    };
    console.log(
      JSON.stringify({
        bench: 'sandbox-floor',
        runtime,
        ipMasq: f.ipMasq,
        pods: n,
        sequential: { wallMs: one.wallMs, perPodWallMs: Math.round(one.wallMs / n), perPodCpuMs: per(one), byProcess: one.cpu?.byProcess },
        concurrent: { wallMs: all.wallMs, perPodCpuMs: per(all), byProcess: all.cpu?.byProcess },
        loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
      }),
    );
  } finally {
    for (const i of [1000, ...seq, ...conc]) await podDown(f, i);
    await run('ip', ['link', 'del', f.bridge]).catch(() => {});
    await removeCgroupTree(`/mzkbfl-${id}`);
    rmSync(dir, { recursive: true, force: true });
  }
}
