// Pod startup density benchmark: `npm run bench -- density [--nodes 100] [--pods 3000]`.
// Starts `mizzen up`, scales a Deployment from 0 to --pods and measures, from watch events seen
// by this process, how long each pod took from first seen (ADDED) to first seen Running+Ready.
// Components missing from `mizzen up` (simulated nodes, controller manager, scheduler) are run in
// this process instead; the output says which ran where.

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { KObject } from '../src/api/types.ts';
import { ApiClient, isNotFound } from '../src/client/api-client.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { startControllerManager } from '../src/controllers/manager.ts';
import { startBinder } from '../src/controllers/test-support.ts';
import { startSimulatedNodes } from '../src/kubelet/simulated/simulator.ts';
import { startCluster } from './lib/cluster.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { percentile } from './scheduler.ts';

const repo = path.resolve(import.meta.dirname, '..');

function upSupports(flag: string): boolean {
  try {
    const help = execFileSync(process.execPath, [path.join(repo, 'bin/mizzen.js'), 'up', '--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return help.includes(flag);
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? '').includes(flag);
  }
}

async function leaseHeld(client: ApiClient, name: string, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const l = await client.get({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system', name });
      if (l.spec?.holderIdentity) return true;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const isRunningReady = (p: KObject) =>
  p.status?.phase === 'Running' && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { nodes: { type: 'string', default: '100' }, pods: { type: 'string', default: '3000' }, 'timeout-seconds': { type: 'string', default: '300' } },
  });
  const nodes = Number(values.nodes);
  const podCount = Number(values.pods);
  const timeoutMs = Number(values['timeout-seconds']) * 1000;
  const where: Record<string, string> = {};
  const closers: Array<() => Promise<void>> = [];

  const simInUp = upSupports('--simulated-nodes');
  const cluster = await startCluster(simInUp ? ['--simulated-nodes', String(nodes)] : []);
  const kubeconfig = path.join(cluster.dataDir, 'kubeconfig');
  const client = new ApiClient({ ...loadKubeconfig(kubeconfig), maxSockets: 128, userAgent: 'mizzen-bench-density' });
  try {
    if (simInUp) where['simulated-nodes'] = 'mizzen up';
    else {
      const sim = await startSimulatedNodes({ kubeconfig, count: nodes });
      closers.push(() => sim.close());
      where['simulated-nodes'] = 'bench process';
    }
    if (await leaseHeld(client, 'kube-controller-manager', 3000)) where['controller-manager'] = 'mizzen up';
    else {
      const cm = await startControllerManager({ kubeconfig, controllers: ['replicaset', 'deployment'], leaderElect: false, log: () => {} });
      closers.push(() => cm.close());
      where['controller-manager'] = 'bench process (replicaset, deployment)';
    }
    if (await leaseHeld(client, 'kube-scheduler', 1000)) where.scheduler = 'mizzen up';
    else {
      const nodeNames = (await client.list({ version: 'v1', resource: 'nodes' })).items.map((n) => n.metadata.name!);
      const binder = await startBinder(client, nodeNames);
      closers.push(() => binder.close());
      where.scheduler = 'bench process (round-robin binder)';
    }

    const ns = 'density';
    await client.create({ version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await client.create({ group: 'apps', version: 'v1', resource: 'deployments', namespace: ns }, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'density' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'density' } },
        template: { metadata: { labels: { app: 'density' } }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }] } },
      },
    });

    const added = new Map<string, number>();
    const bound = new Map<string, number>();
    const running = new Map<string, number>();
    let resolveAll!: () => void;
    const allRunning = new Promise<void>((r) => (resolveAll = r));
    const watch = client.watch({ version: 'v1', resource: 'pods', namespace: ns }, {}, (ev) => {
      if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') return;
      const now = performance.now();
      const name = ev.object.metadata.name!;
      if (!added.has(name)) added.set(name, now);
      if (!bound.has(name) && ev.object.spec?.nodeName) bound.set(name, now);
      if (!running.has(name) && isRunningReady(ev.object)) {
        running.set(name, now);
        if (running.size >= podCount) resolveAll();
      }
    }, () => {});
    closers.push(async () => {
      watch.abort();
      await watch.closed;
    });

    const calibrationBefore = calibrationMs();
    const t0 = performance.now();
    await client.patch({ group: 'apps', version: 'v1', resource: 'deployments', namespace: ns, name: 'density' }, 'merge', { spec: { replicas: podCount } });
    let timedOut = false;
    await Promise.race([allRunning, new Promise<void>((r) => setTimeout(() => ((timedOut = true), r()), timeoutMs).unref())]);
    const totalMs = performance.now() - t0;
    const lat = [...running.entries()].map(([n, t]) => t - (added.get(n) ?? t)).sort((a, b) => a - b);
    // Where the time goes: creation spread (controller), ADDED → bound (scheduler), bound → Running (node).
    const toBind = [...bound.entries()].map(([n, t]) => t - (added.get(n) ?? t)).sort((a, b) => a - b);
    const toRun = [...running.entries()].map(([n, t]) => t - (bound.get(n) ?? t)).sort((a, b) => a - b);
    const addedTimes = [...added.values()].sort((a, b) => a - b);
    const secs = (ms: number) => +(ms / 1000).toFixed(3);
    const result = {
      bench: 'density',
      nodes,
      pods: podCount,
      running: running.size,
      timedOut,
      allRunningSeconds: +(totalMs / 1000).toFixed(3),
      podStartupP50Seconds: +(percentile(lat, 50) / 1000).toFixed(3),
      podStartupP99Seconds: +(percentile(lat, 99) / 1000).toFixed(3),
      phases: {
        lastPodCreatedSeconds: secs((addedTimes.at(-1) ?? t0) - t0),
        scheduleP50Seconds: secs(percentile(toBind, 50)),
        scheduleP99Seconds: secs(percentile(toBind, 99)),
        nodeStartP50Seconds: secs(percentile(toRun, 50)),
        nodeStartP99Seconds: secs(percentile(toRun, 99)),
      },
      measuredAs: 'client-side watch receive time: first ADDED → first Running+Ready',
      calibration: calibration(calibrationBefore),
      components: where,
      reference: { upstreamSLO: 'p99 pod startup <= 5s', target: 'p99 <= 1s for 3000 pods on 100 nodes' },
    };
    console.log(JSON.stringify(result));
  } finally {
    for (const c of closers.reverse()) await c().catch(() => {});
    client.close();
    await cluster.stop();
  }
}
