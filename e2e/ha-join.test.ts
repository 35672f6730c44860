// Three "hosts" in network namespaces (198.18.0.1-3): host 1 runs etcd and the first control-plane
// member, host 2 joins the control plane with the token, host 3 joins as a worker with
// `mizzen agent`. Then the first member dies: the node keeps heartbeating through the second, the
// leases of the scheduler and controller manager move there, and the cluster keeps working.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECTL, MIZZEN_BIN, hasKubectl, run } from './harness.ts';
import { createTestNetwork, netnsMissing, type TestHost, type TestNetwork } from '../src/testing/netns.ts';
import { ETCD_BINARY, etcdMissing } from '../src/testing/etcd.ts';
import { poll } from '../src/testing/poll.ts';

const skip = netnsMissing() ?? etcdMissing() ?? (hasKubectl ? undefined : 'kubectl not installed');

/** Fast leader hand-over for the test: a standby takes over 4 s after the leader's last renewal. */
const LEASE_FLAGS = ['--leader-elect-lease-duration', '4s', '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '1s'];

interface Proc {
  proc: ChildProcess;
  out(): string;
}

function start(host: TestHost, argv: string[]): Proc {
  const cmd = host.exec(argv);
  const proc = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  return { proc, out: () => out };
}

async function ready(p: Proc, marker: string, what: string): Promise<void> {
  await poll(
    () => {
      if (p.proc.exitCode !== null) throw new Error(`${what} exited:\n${p.out()}`);
      return p.out().includes(marker);
    },
    { what, timeoutMs: 60_000, intervalMs: 100 },
  ).catch((e) => {
    throw new Error(`${(e as Error).message}\n--- output of ${what} ---\n${p.out()}`);
  });
}

function kill(p: Proc | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!p || p.proc.exitCode !== null || p.proc.signalCode !== null) return Promise.resolve();
  const gone = new Promise<void>((r) => p.proc.once('exit', () => r()));
  p.proc.kill(signal);
  return gone;
}

describe('control plane across hosts (network namespaces)', { skip }, () => {
  let net: TestNetwork;
  let dir: string;
  const procs: Record<string, Proc> = {};
  let h1: TestHost, h2: TestHost, h3: TestHost;

  const kubectl = async (host: TestHost, kubeconfig: string, args: string[]) => {
    const argv = host.exec([KUBECTL, '--kubeconfig', kubeconfig, ...args]);
    const r = await run(argv[0], argv.slice(1), { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} on ${host.ip}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    net = createTestNetwork(3);
    [h1, h2, h3] = net.hosts;
    dir = mkdtempSync(join(tmpdir(), 'mizzen-ha-join-'));
    const etcdURL = `http://${h1.ip}:2379`;
    procs.etcd = start(h1, [
      ETCD_BINARY,
      '--name', 'h1',
      '--data-dir', join(dir, 'etcd'),
      '--listen-client-urls', etcdURL,
      '--advertise-client-urls', etcdURL,
      '--listen-peer-urls', `http://${h1.ip}:2380`,
      '--initial-advertise-peer-urls', `http://${h1.ip}:2380`,
      '--initial-cluster', `h1=http://${h1.ip}:2380`,
      '--logger', 'zap',
      '--log-level', 'warn',
    ]);
    procs.first = start(h1, [process.execPath, MIZZEN_BIN, 'up', '--data-dir', join(dir, 'h1'), '--bind-address', h1.ip, '--port', '6443', '--datastore-endpoint', etcdURL, '--no-kubelet', ...LEASE_FLAGS]);
    await ready(procs.first, 'is ready', 'the first member');
  });

  after(async () => {
    for (const p of Object.values(procs)) await kill(p);
    net?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a second member joins with the token, and a worker joins with mizzen agent', async () => {
    const token = join(dir, 'h1', 'token');
    assert.match(readFileSync(token, 'utf8'), /^MZ10[0-9a-f]{64}::server:/);
    procs.second = start(h2, [process.execPath, MIZZEN_BIN, 'up', '--join', `https://${h1.ip}:6443`, '--token-file', token, '--data-dir', join(dir, 'h2'), '--bind-address', h2.ip, '--port', '6443', '--no-kubelet', ...LEASE_FLAGS]);
    await ready(procs.second, 'is ready', 'the second member');
    assert.match(procs.second.out(), /took the cluster CA from/);
    assert.match(procs.second.out(), /using the cluster's etcd at http:\/\/198\.18\.0\.1:2379/);
    // Same CA: its kubeconfig is good on the first member too, and both serve the same objects.
    const kc2 = join(dir, 'h2', 'kubeconfig');
    const kc1 = join(dir, 'h1', 'kubeconfig');
    await kubectl(h1, kc1, ['create', 'configmap', 'shared', '--from-literal=k=v']);
    assert.equal(await kubectl(h2, kc2, ['get', 'configmap', 'shared', '-o', 'jsonpath={.data.k}']), 'v');

    procs.agent = start(h3, [process.execPath, MIZZEN_BIN, 'agent', '--server', `https://${h1.ip}:6443,https://${h2.ip}:6443`, '--token-file', token, '--node-name', 'host-3', '--data-dir', join(dir, 'h3'), '--lb-port', '0', '--simulated-kubelet']);
    await ready(procs.agent, 'mizzen agent is ready', 'the agent');
    await poll(async () => (await kubectl(h2, kc2, ['get', 'node', 'host-3', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', {
      what: 'node host-3 Ready',
      timeoutMs: 30_000,
      intervalMs: 500,
    });
    // A wrong token is refused before anything is written.
    const badArgv = h3.exec([process.execPath, MIZZEN_BIN, 'agent', '--server', `https://${h1.ip}:6443`, '--token', `MZ10${'0'.repeat(64)}::server:${'x'.repeat(32)}`, '--data-dir', join(dir, 'bad'), '--lb-port', '0']);
    const bad = await run(badArgv[0], badArgv.slice(1), { timeoutMs: 30_000 });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /does not match the token/);

    await kubectl(h1, kc1, ['create', 'deployment', 'web', '--image=registry.local/web:1', '--replicas=2']);
    await poll(async () => (await kubectl(h2, kc2, ['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.phase}'])) === 'Running Running', {
      what: 'two web pods Running on host-3',
      timeoutMs: 30_000,
      intervalMs: 500,
    });
  });

  it('the first member dies: the worker carries on through the second, which takes the leases', async () => {
    const kc2 = join(dir, 'h2', 'kubeconfig');
    await kill(procs.first);
    const renew = () => kubectl(h2, kc2, ['get', 'lease', '-n', 'kube-node-lease', 'host-3', '-o', 'jsonpath={.spec.renewTime}']);
    const before = await renew();
    await poll(async () => (await renew()) !== before, { what: 'host-3 to renew its lease through the second member', timeoutMs: 40_000, intervalMs: 1000 });
    // New work needs a live scheduler and controller manager: they are the second member's now.
    await kubectl(h2, kc2, ['scale', 'deployment', 'web', '--replicas=3']);
    await poll(async () => (await kubectl(h2, kc2, ['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.phase}'])) === 'Running Running Running', {
      what: 'a third web pod Running after the failover',
      timeoutMs: 40_000,
      intervalMs: 500,
    });
    assert.equal(await kubectl(h2, kc2, ['get', 'node', 'host-3', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']), 'True');
  });
});
