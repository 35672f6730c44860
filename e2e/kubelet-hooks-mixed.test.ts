// `mizzen up` with its real local node and `--simulated-nodes 2` in one cluster, driven with the
// real kubectl: postStart and preStop exec hooks run in the container on containerd (preStop
// before the SIGTERM, within the grace period), and pods with a nodeSelector land on each kind of
// node, the one on the real node running in a container. Host-global names are this run's own.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasKubectl, startRealNodeCluster, type RealNodeCluster } from './harness.ts';
import { localNodeSkipReason } from '../src/kubelet/testing/local-node.ts';
import { poll } from '../src/testing/poll.ts';

const skip = !hasKubectl ? 'needs /usr/bin/kubectl' : localNodeSkipReason();

describe('a real node beside simulated nodes; lifecycle hooks on containerd', { skip, timeout: 600_000 }, () => {
  let c: RealNodeCluster;
  const hostDir = mkdtempSync(join(tmpdir(), 'gaps10-hooks-'));
  const json = async (args: string[]) => JSON.parse((await c.kubectl([...args, '-o', 'json'])).stdout);
  const running = (name: string) =>
    poll(async () => (await json(['get', 'pod', name])) as any, {
      what: `pod ${name} Running\n${c?.logs().slice(-3000)}`,
      done: (p) => p?.status?.phase === 'Running',
      timeoutMs: 120_000,
      intervalMs: 500,
    });

  before(async () => {
    chmodSync(hostDir, 0o777);
    c = await startRealNodeCluster('g10', { extraArgs: ['--simulated-nodes', '2'] });
  });

  after(async () => {
    await c?.kubectl(['delete', 'pod', '--all', '--grace-period=0', '--force'], { allowFail: true }).catch(() => {});
    await c?.stop();
    rmSync(hostDir, { recursive: true, force: true });
  });

  test('the real node and the two simulated nodes are Ready side by side', async () => {
    await poll(
      async () => {
        const nodes = (await json(['get', 'nodes'])).items as any[];
        const ready = nodes.filter((n) => n.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True')).map((n) => n.metadata.name);
        return ready.sort().join(',');
      },
      { what: 'three Ready nodes', done: (s) => s === [c.nodeName, 'sim-0', 'sim-1'].sort().join(','), timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  test('pods with a nodeSelector land on each kind of node; the real one runs in a container', async () => {
    const pod = (name: string, node: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { nodeSelector: { 'kubernetes.io/hostname': node }, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox:1.35', command: ['sleep', '3600'] }] },
    });
    const items = [pod('on-real', c.nodeName), pod('on-sim-0', 'sim-0'), pod('on-sim-1', 'sim-1')];
    await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
    for (const [name, node] of [['on-real', c.nodeName], ['on-sim-0', 'sim-0'], ['on-sim-1', 'sim-1']] as const) {
      const p = await running(name);
      assert.equal(p.spec.nodeName, node, `${name} bound to ${node}`);
    }
    const real = await json(['get', 'pod', 'on-real']);
    assert.match(real.status.containerStatuses[0].containerID, /^containerd:\/\//);
    assert.ok(real.status.podIP.startsWith(c.cidrs.clusterCIDR.split('.').slice(0, 2).join('.')), real.status.podIP);
    // Only the real pod can be exec'd into: the simulated ones have no container.
    assert.equal((await c.kubectl(['exec', 'on-real', '--', 'cat', '/proc/1/cmdline'])).stdout.replace(/\0/g, ' ').trim(), 'sleep 3600');
  });

  test('postStart and preStop exec hooks: postStart writes a file, preStop runs before SIGTERM within the grace period', async () => {
    const spec = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hooks' },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': c.nodeName },
        terminationGracePeriodSeconds: 20,
        volumes: [{ name: 'h', hostPath: { path: hostDir, type: 'Directory' } }],
        containers: [
          {
            name: 'c',
            image: 'busybox:1.35',
            command: ['sh', '-c', 'trap "echo term >> /h/log; exit 0" TERM; echo main >> /h/log; while true; do sleep 1; done'],
            volumeMounts: [{ name: 'h', mountPath: '/h' }],
            lifecycle: {
              postStart: { exec: { command: ['sh', '-c', 'echo poststart > /tmp/poststart'] } },
              preStop: { exec: { command: ['sh', '-c', 'echo prestop >> /h/log; sleep 2; echo prestop-done >> /h/log'] } },
            },
          },
        ],
      },
    };
    await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(spec) });
    await running('hooks');
    const post = await poll(async () => (await c.kubectl(['exec', 'hooks', '--', 'cat', '/tmp/poststart'], { allowFail: true })).stdout, { what: 'the postStart file', done: (s) => s === 'poststart\n', timeoutMs: 15_000, intervalMs: 500 });
    assert.equal(post, 'poststart\n');

    const t0 = Date.now();
    await c.kubectl(['delete', 'pod', 'hooks', '--wait=true', '--timeout=60s']);
    const took = (Date.now() - t0) / 1000;
    const log = readFileSync(join(hostDir, 'log'), 'utf8').trim().split('\n');
    // The hook ran to its end (2 s) before the container got SIGTERM, and all within the 20 s.
    assert.deepEqual(log, ['main', 'prestop', 'prestop-done', 'term']);
    assert.ok(took >= 2 && took < 20, `deletion took ${took}s`);
  });
});
