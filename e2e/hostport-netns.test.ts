// hostPort through the CNI portmap plugin on a real node. The whole `mizzen up` (API server and its
// local node, with containerd, the bridge, portmap's NAT rules) runs inside a network namespace
// this test creates (entered with nsenter, so the cgroup mounts stay), with one address of its own
// (10.250.77.1 on a veth pair whose both ends are in there): every packet, kubectl's included,
// stays in that namespace. The pod's hostPort answers on the namespace's address and on 127.0.0.1.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECTL, MIZZEN_BIN, REPO_ROOT, hasKubectl, realNodeNames, run, runMizzen } from './harness.ts';
import { localNodeSkipReason, pickTestCidrs, type TestCidrs } from '../src/kubelet/testing/local-node.ts';
import { poll } from '../src/testing/poll.ts';

const skip = !hasKubectl ? 'needs /usr/bin/kubectl' : (localNodeSkipReason() ?? (existsSync('/usr/bin/nsenter') && existsSync('/usr/bin/curl') ? undefined : 'needs nsenter and curl'));
const NS_ADDR = '10.250.77.1';
const HOST_PORT = 38080;

describe('hostPort through portmap, inside a network namespace of the test', { skip, timeout: 300_000 }, () => {
  const names = realNodeNames('hp');
  const ns = `gaps10-${names.id}`;
  const netnsPath = `/var/run/netns/${ns}`;
  const dir = mkdtempSync(join(tmpdir(), 'gaps10-hostport-'));
  const dataDir = join(dir, 'data');
  let cidrs: TestCidrs;
  let up: ChildProcess | undefined;
  let out = '';
  const inNs = (cmd: string, args: string[]) => run('/usr/bin/nsenter', [`--net=${netnsPath}`, cmd, ...args], { env: { ...process.env, KUBECONFIG: join(dataDir, 'kubeconfig') } });
  const kubectl = async (args: string[], input?: string) => {
    const r = await run('/usr/bin/nsenter', [`--net=${netnsPath}`, KUBECTL, ...args], { input, env: { ...process.env, KUBECONFIG: join(dataDir, 'kubeconfig') } });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    await runMizzen(['--help']); // the bundle, built once outside
    cidrs = await pickTestCidrs(); // free on the host too, so nothing here shadows a host route
    const ip = (...a: string[]) => execFileSync('ip', a, { stdio: 'ignore' });
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'link', 'add', 'g10a', 'type', 'veth', 'peer', 'name', 'g10b');
    ip('-n', ns, 'addr', 'add', `${NS_ADDR}/24`, 'dev', 'g10a');
    ip('-n', ns, 'link', 'set', 'g10a', 'up');
    ip('-n', ns, 'link', 'set', 'g10b', 'up');
    // The node's address comes from the default route's interface: a veth whose peer is in here too.
    ip('-n', ns, 'route', 'add', 'default', 'dev', 'g10a');
    up = spawn('/usr/bin/nsenter', [`--net=${netnsPath}`, process.execPath, MIZZEN_BIN, 'up', '--data-dir', dataDir, '--port', '36443',
      '--node-name', names.nodeName, '--pod-bridge', names.bridge, '--cgroup-root', names.cgroupRoot,
      '--cluster-cidr', cidrs.clusterCIDR, '--service-cluster-ip-range', cidrs.serviceCIDR, '--no-cluster-dns', '--no-service-proxy', '--kubelet-port', '0'], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', MIZZEN_NO_CONSOLE_BUILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    up.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    up.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    await poll(() => /is ready/.test(out) || up!.exitCode !== null, { what: `mizzen up ready in the netns:\n${out}`, timeoutMs: 180_000, intervalMs: 500 });
    assert.equal(up.exitCode, null, out);
  });

  after(async () => {
    await kubectl(['delete', 'pod', '--all', '--wait=true', '--timeout=30s']).catch(() => {});
    if (up && up.exitCode === null && up.signalCode === null) {
      const exited = new Promise((r) => up!.once('exit', r));
      up.kill('SIGTERM');
      await exited;
    }
    // What the node left: run in the namespace (its bridge and routes are there), then the namespace goes.
    const cleanup = `const m = await import('./src/kubelet/testing/local-node.ts'); await m.cleanupLocalNode(${JSON.stringify({ dataDir, bridge: names.bridge, cgroupRoot: names.cgroupRoot, ...cidrs })});`;
    await run('/usr/bin/nsenter', [`--net=${netnsPath}`, process.execPath, '--import', 'tsx', '-e', cleanup], { env: process.env }).catch(() => {});
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      /* not made */
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('a pod\'s hostPort answers on the node\'s address and on 127.0.0.1', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hp' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', image: 'busybox:1.35', command: ['sh', '-c', 'echo hostport-ok > /tmp/index.html; exec httpd -f -p 8080 -h /tmp'], ports: [{ containerPort: 8080, hostPort: HOST_PORT }] }],
      },
    };
    await kubectl(['apply', '-f', '-'], JSON.stringify(pod));
    await poll(async () => JSON.parse(await kubectl(['get', 'pod', 'hp', '-o', 'json'])).status?.phase, { what: `pod hp Running\n${out.slice(-3000)}`, done: (p) => p === 'Running', timeoutMs: 120_000, intervalMs: 500 });
    for (const addr of [NS_ADDR, '127.0.0.1']) {
      const body = await poll(async () => (await inNs('/usr/bin/curl', ['-sS', '-m', '3', `http://${addr}:${HOST_PORT}/index.html`])).stdout, { what: `hostPort on ${addr}`, done: (s) => s === 'hostport-ok\n', timeoutMs: 20_000, intervalMs: 500 });
      assert.equal(body, 'hostport-ok\n');
    }
    const node = JSON.parse(await kubectl(['get', 'node', names.nodeName, '-o', 'json']));
    assert.equal(node.status.addresses.find((a: any) => a.type === 'InternalIP')?.address, NS_ADDR);
  });
});
