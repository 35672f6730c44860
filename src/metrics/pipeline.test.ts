// The pipeline against a stand-in kubelet: an HTTPS server on 127.0.0.1 that asks for a client
// certificate signed by the cluster CA and serves /metrics/resource in the kubelet's format.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ensurePki } from '../apiserver/pki.ts';
import { Indexer } from '../client/cache.ts';
import type { Informer } from '../client/informer.ts';
import type { KObject } from '../api/types.ts';
import { MetricsPipeline } from './pipeline.ts';
import { answerMetricsQuery } from './metrics-api.ts';

function exposition(t: number, webCpu: number, nodeCpu: number): string {
  return [
    '# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds',
    '# TYPE container_cpu_usage_seconds_total counter',
    `container_cpu_usage_seconds_total{container="web",namespace="default",pod="web-0"} ${webCpu} ${t}`,
    '# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes',
    '# TYPE container_memory_working_set_bytes gauge',
    `container_memory_working_set_bytes{container="web",namespace="default",pod="web-0"} 5.24288e+07 ${t}`,
    '# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds',
    '# TYPE node_cpu_usage_seconds_total counter',
    `node_cpu_usage_seconds_total ${nodeCpu} ${t}`,
    '# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes',
    '# TYPE node_memory_working_set_bytes gauge',
    `node_memory_working_set_bytes 1.073741824e+09 ${t}`,
    '',
  ].join('\n');
}

function informerOf(objs: KObject[]): Informer {
  const indexer = new Indexer();
  for (const o of objs) indexer.add(o);
  return { indexer } as unknown as Informer;
}

test('real nodes: CPU as the rate between two scrapes over HTTPS with the client certificate; simulated nodes from their pods', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'metrics-pipeline-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pki = await ensurePki(join(dir, 'pki'), ['127.0.0.1']);
  let scrape = 0;
  const seenClients: string[] = [];
  const kubelet = https.createServer({ key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caCertPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    seenClients.push(String((req.socket as import("node:tls").TLSSocket).getPeerCertificate().subject.CN));
    if (req.url !== '/metrics/resource') return void res.writeHead(404).end();
    scrape++;
    // 10 s apart: the container used 2.5 cores' worth over that time (0.25 cores), the node 1 core.
    const text = scrape === 1 ? exposition(1_765_000_000_000, 100, 5000) : exposition(1_765_000_010_000, 102.5, 5010);
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(text);
  });
  await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', () => r()));
  t.after(() => kubelet.close());
  const port = (kubelet.address() as AddressInfo).port;

  const realNode: KObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'real-1', labels: { role: 'real' } }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } };
  const simNode: KObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'sim-0', labels: { 'mizzen.dev/simulated': 'true' } }, status: {} };
  const webPod: KObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'default', labels: { app: 'web' } }, spec: { nodeName: 'real-1', containers: [{ name: 'web' }] }, status: { phase: 'Running' } };
  const simPod: KObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'sim-pod', namespace: 'other', resourceVersion: '5', labels: { app: 'sim' }, annotations: { 'mizzen.dev/simulate-cpu': '750m' } },
    spec: { nodeName: 'sim-0', containers: [{ name: 'c', resources: { requests: { cpu: '1', memory: '1Gi' } } }] },
    status: { phase: 'Running' },
  };
  const nodes = informerOf([realNode, simNode]);
  const pods = informerOf([webPod, simPod]);
  const p = new MetricsPipeline({ pods, nodes, resolutionMs: 15_000, kubeletClient: { cert: pki.kubeletClientCertPem, key: pki.kubeletClientKeyPem, ca: pki.caCertPem } });

  await p.tick();
  // One point is not a rate yet: no usage for the real node or its pod.
  assert.equal(p.nodeUsage.has('real-1'), false);
  assert.equal(p.podUsage.has('default/web-0'), false);
  assert.deepEqual(p.podUsage.get('other/sim-pod')!.containers, [{ name: 'c', cpuNanoCores: 750_000_000, memoryBytes: 107374182 }]);

  await p.tick();
  assert.deepEqual(seenClients, ['kube-apiserver-kubelet-client', 'kube-apiserver-kubelet-client']);
  assert.deepEqual(p.nodeUsage.get('real-1'), { timestampMs: 1_765_000_010_000, windowMs: 10_000, cpuNanoCores: 1_000_000_000, memoryBytes: 1073741824 });
  assert.deepEqual(p.podUsage.get('default/web-0')!.containers, [{ name: 'web', cpuNanoCores: 250_000_000, memoryBytes: 52428800 }]);

  // What metrics.k8s.io answers: metrics-server's shapes, label selectors, 404s and 400s.
  const list = JSON.parse(answerMetricsQuery({ resource: 'pods' }, p, { pods, nodes }).body);
  assert.equal(list.kind, 'PodMetricsList');
  assert.deepEqual(list.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`), ['default/web-0', 'other/sim-pod']);
  const web = list.items[0];
  assert.deepEqual(web.containers, [{ name: 'web', usage: { cpu: '250000000n', memory: '51200Ki' } }]);
  assert.equal(web.window, '10s');
  assert.equal(web.timestamp, '2025-12-06T05:46:50Z');
  assert.deepEqual(web.metadata.labels, { app: 'web' });
  const selected = JSON.parse(answerMetricsQuery({ resource: 'pods', labelSelector: 'app=sim' }, p, { pods, nodes }).body);
  assert.deepEqual(selected.items.map((i: any) => i.metadata.name), ['sim-pod']);
  const node = JSON.parse(answerMetricsQuery({ resource: 'nodes', name: 'real-1' }, p, { pods, nodes }).body);
  assert.equal(node.kind, 'NodeMetrics');
  assert.deepEqual(node.usage, { cpu: '1000000000n', memory: '1048576Ki' });
  const sim = JSON.parse(answerMetricsQuery({ resource: 'nodes', name: 'sim-0' }, p, { pods, nodes }).body);
  assert.equal(sim.usage.cpu, '775000000n');
  assert.equal(answerMetricsQuery({ resource: 'pods', namespace: 'default', name: 'nope' }, p, { pods, nodes }).code, 404);
  assert.equal(answerMetricsQuery({ resource: 'pods', labelSelector: 'a in (' }, p, { pods, nodes }).code, 400);
  assert.equal(answerMetricsQuery({ resource: 'nodes', fieldSelector: 'spec.unschedulable=true' }, p, { pods, nodes }).code, 400);
});

test('a kubelet that cannot be reached or sends garbage leaves the others alone', async () => {
  const logs: string[] = [];
  const gone: KObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'gone' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 1 } } } };
  const sim: KObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'sim-0', labels: { 'mizzen.dev/simulated': 'true' } } };
  const p = new MetricsPipeline({ pods: informerOf([]), nodes: informerOf([gone, sim]), kubeletClient: { cert: '', key: '', ca: '' }, log: (m) => logs.push(m) });
  await p.tick();
  assert.match(logs.join('\n'), /failed to scrape node "gone"/);
  assert.equal(p.nodeUsage.has('gone'), false);
  assert.equal(p.nodeUsage.get('sim-0')!.cpuNanoCores, 25_000_000);
});
