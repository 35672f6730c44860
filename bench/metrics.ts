// Metrics benchmark: the resource metrics pipeline at 5,000 simulated nodes and 50,000 pods (CPU per
// collection, as a share of one core at the 15 s resolution, and its memory), what answering
// `kubectl top pods -A` and one HPA's query costs there, what counting a request for /metrics
// costs the API server's request path, and (--hpa) the time from a usage change to the HPA's new
// replica count on a real `mizzen up` with default settings (15 s resolution, 15 s sync period).
// Targets (issue 17): ≤ 10 % of one core at that size; ≤ 30 s from a change to the new count.
// metrics-server documents about 1 millicore and 2 MB per node: 5 cores and 10 GB at 5,000 nodes.

import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Indexer } from '../src/client/cache.ts';
import type { Informer } from '../src/client/informer.ts';
import type { KObject } from '../src/api/types.ts';
import { MetricsPipeline } from '../src/metrics/pipeline.ts';
import { answerMetricsQuery } from '../src/metrics/metrics-api.ts';
import { countRequest } from '../src/apiserver/metrics.ts';
import { startCluster } from './lib/cluster.ts';

function informerOf(objs: KObject[]): Informer {
  const indexer = new Indexer();
  for (const o of objs) indexer.add(o);
  return { indexer } as unknown as Informer;
}

function cluster(nodes: number, pods: number): { nodes: KObject[]; pods: KObject[] } {
  const ns: KObject[] = [];
  for (let i = 0; i < nodes; i++) ns.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: `sim-${i}`, labels: { 'mizzen.dev/simulated': 'true', 'kubernetes.io/hostname': `sim-${i}` } }, status: {} });
  const ps: KObject[] = [];
  for (let i = 0; i < pods; i++) {
    ps.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${i}`, namespace: `ns-${i % 100}`, resourceVersion: String(1000 + i), labels: { app: `app-${i % 500}` }, ...(i % 10 === 0 ? { annotations: { 'mizzen.dev/simulate-cpu': '150m' } } : {}) },
      spec: { nodeName: `sim-${i % nodes}`, containers: [{ name: 'app', resources: { requests: { cpu: '100m', memory: '128Mi' } } }, { name: 'sidecar', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
      status: { phase: 'Running' },
    });
  }
  return { nodes: ns, pods: ps };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function pipelineFigures(nodeCount: number, podCount: number) {
  const c = cluster(nodeCount, podCount);
  const nodes = informerOf(c.nodes);
  const pods = informerOf(c.pods);
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const p = new MetricsPipeline({ pods, nodes, resolutionMs: 15_000 });
  let c0 = cpuMs();
  await p.tick();
  const firstTickCpuMs = cpuMs() - c0;
  // Steady state: most pods unchanged, a hundredth changed since the last collection.
  const ticks: number[] = [];
  for (let r = 0; r < 5; r++) {
    for (let i = r; i < podCount; i += 100) c.pods[i]!.metadata.resourceVersion = String(Number(c.pods[i]!.metadata.resourceVersion) + 100_000);
    c0 = cpuMs();
    await p.tick();
    ticks.push(cpuMs() - c0);
  }
  globalThis.gc?.();
  const heapMB = (process.memoryUsage().heapUsed - heap0) / 1048576;
  ticks.sort((a, b) => a - b);
  const steady = ticks[Math.floor(ticks.length / 2)]!;
  c0 = cpuMs();
  const all = answerMetricsQuery({ resource: 'pods' }, p, { pods, nodes });
  const topAllMs = cpuMs() - c0;
  c0 = cpuMs();
  const n = 200;
  for (let i = 0; i < n; i++) answerMetricsQuery({ resource: 'pods', namespace: `ns-${i % 100}`, labelSelector: `app=app-${i % 500}` }, p, { pods, nodes });
  const hpaQueryMs = (cpuMs() - c0) / n;
  return {
    nodes: nodeCount,
    pods: podCount,
    firstCollectionCpuMs: Math.round(firstTickCpuMs),
    steadyCollectionCpuMs: Math.round(steady),
    shareOfOneCoreAt15s: Number((steady / 15_000).toFixed(4)),
    pipelineHeapMB: Number(heapMB.toFixed(1)),
    topPodsAllNamespaces: { cpuMs: Math.round(topAllMs), bytes: all.body.length },
    hpaQueryCpuMs: Number(hpaQueryMs.toFixed(2)),
  };
}

/** What countRequest adds per request: label lookup, counter and histogram updates at 'close'. */
function requestPathCost(): { nsPerRequest: number } {
  const info = { isResourceRequest: true, path: '/api/v1/namespaces/bench/pods', prefix: 'api' as const, group: '', version: 'v1', namespace: 'bench', resource: 'pods', verb: 'create' };
  const n = 200_000;
  const res = new EventEmitter() as any;
  res.statusCode = 201;
  // CPU time, not wall time: the shared machine's load would otherwise be counted too.
  const c0 = cpuMs();
  for (let i = 0; i < n; i++) {
    countRequest(res, info);
    res.emit('close');
  }
  const ns = ((cpuMs() - c0) * 1e6) / n;
  return { nsPerRequest: Math.round(ns) };
}

async function hpaLatency(): Promise<{ secondsToNewReplicaCount: number }> {
  const c = await startCluster(['--simulated-nodes', '3']);
  const dir = mkdtempSync(join(tmpdir(), 'metrics-bench-'));
  try {
    const kubectl = (args: string[], input?: string) => execFileSync('/usr/bin/kubectl', args, { env: { ...process.env, KUBECONFIG: join(c.dataDir, 'kubeconfig') }, input, encoding: 'utf8' });
    kubectl(['apply', '-f', '-'], MANIFEST);
    // Wait until the HPA has evaluated real metrics (40 % of requests against 50 %: stays at min 2).
    const settled = Date.now();
    for (;;) {
      const st = JSON.parse(kubectl(['get', 'hpa', 'lat', '-o', 'json'])).status ?? {};
      if ((st.currentMetrics ?? []).length && st.desiredReplicas === 2) break;
      if (Date.now() - settled > 120_000) throw new Error('the HPA did not settle');
      await new Promise((r) => setTimeout(r, 500));
    }
    // The usage change: every pod's annotation at once (no rollout, so the same pods).
    const t0 = Date.now();
    kubectl(['annotate', 'pods', '-l', 'app=lat', '--overwrite', 'mizzen.dev/simulate-cpu=200m']);
    for (;;) {
      const d = JSON.parse(kubectl(['get', 'deploy', 'lat', '-o', 'json']));
      if (d.spec.replicas > 2) break;
      if (Date.now() - t0 > 120_000) throw new Error('no rescale within 120 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    return { secondsToNewReplicaCount: Number(((Date.now() - t0) / 1000).toFixed(1)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await c.stop();
  }
}

const MANIFEST = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: lat}
spec:
  replicas: 2
  selector: {matchLabels: {app: lat}}
  template:
    metadata:
      labels: {app: lat}
      annotations: {mizzen.dev/simulate-cpu: 40m}
    spec:
      containers: [{name: c, image: busybox, resources: {requests: {cpu: 100m}}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: lat}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: lat}
  minReplicas: 2
  maxReplicas: 10
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]
`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { nodes: { type: 'string', default: '5000' }, pods: { type: 'string', default: '50000' }, hpa: { type: 'boolean', default: false } } });
  const load = loadavg()[0]!.toFixed(1);
  const pipeline = await pipelineFigures(Number(values.nodes), Number(values.pods));
  const requestPath = requestPathCost();
  const hpa = values.hpa ? await hpaLatency() : undefined;
  console.log(
    JSON.stringify({
      bench: 'metrics',
      pipeline,
      requestPath,
      ...(hpa ? { hpa } : {}),
      loadAverage: Number(load),
      targets: { shareOfOneCoreAt15s: 0.1, secondsToNewReplicaCount: 30 },
      upstream: { metricsServer: 'about 1 millicore and 2 MB per node: 5 cores and 10 GB at 5,000 nodes' },
    }),
  );
}
