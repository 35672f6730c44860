// startNode for real: a real API server, this machine's containerd (our own, in a temp dir), the
// node's own identity (system:node:<name>). The node registers with the machine's capacity, is
// NotReady until its podCIDR is set (here by the test, as the node IPAM controller would), then
// Ready; its Lease is renewed; the kubelet serves /stats/summary and /metrics/resource.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import https from 'node:https';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../client/api-client.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { ensureNodeKubeconfig } from '../apiserver/component-credentials.ts';
import { startTestApiServer } from '../testing/api-server.ts';
import { poll } from '../testing/poll.ts';
import { cleanupLocalNode, localNodeSkipReason, pickTestCidrs } from './testing/local-node.ts';
import { startNode, type RunningNode } from './run.ts';

const skip = localNodeSkipReason();

function kubeletGet(port: number, path: string, pki: { adminCertPem: string; adminKeyPem: string; caCertPem: string }): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, cert: pki.adminCertPem, key: pki.adminKeyPem, ca: pki.caCertPem, checkServerIdentity: () => undefined }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
  });
}

test('a real node registers, becomes Ready with its podCIDR, renews its Lease and serves stats', { skip, timeout: 120_000 }, async (t) => {
  const api = await startTestApiServer({ name: 'kubelet-node' });
  t.after(() => api.close());
  const admin = new ApiClient({ ...loadKubeconfig(api.kubeconfig), maxSockets: 4 });
  t.after(() => admin.close());
  const id = randomBytes(3).toString('hex');
  const nodeName = `kn-${id}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'mzkn-'));
  const cidrs = await pickTestCidrs();
  const bridge = `mzkn${id}`;
  const cgroupRoot = `/mizzen-kn-${id}`;
  const kubeconfig = await ensureNodeKubeconfig(api.dir, api.pki, api.server.url, nodeName);
  let node: RunningNode | undefined;
  t.after(async () => {
    await node?.stop({ cleanup: true });
    await cleanupLocalNode({ runtime: node?.runtime, dataDir, bridge, cgroupRoot, ...cidrs });
  });
  const logs: string[] = [];
  const r = await startNode({
    kubeconfig,
    nodeName,
    dataDir,
    clusterCIDR: cidrs.clusterCIDR,
    serviceCIDR: cidrs.serviceCIDR,
    port: 0,
    serving: { ca: { certPem: api.pki.caCertPem, keyPem: api.pki.caKeyPem } },
    bridge,
    networkName: bridge,
    cgroupRoot,
    nodeLabels: { 'example.com/role': 'test' },
    registerWithTaints: [{ key: 'example.com/dedicated', value: 'x', effect: 'NoSchedule' }],
    externalCloudProvider: true,
    statusIntervalMs: 500,
    leaseRenewIntervalMs: 500,
    startPods: async () => ({ pods: { list: () => [], get: () => undefined, sandboxId: () => undefined, runningContainerId: () => undefined }, streaming: { exec: async () => ({ url: '' }), attach: async () => ({ url: '' }), portForward: async () => ({ url: '' }) }, logs: { logPath: async () => undefined, isRunning: async () => false }, stop: async () => {} }),
    log: (m) => logs.push(m),
  });
  assert.ok(r.ok, r.ok ? '' : r.message);
  node = r.node;

  const NODES = { version: 'v1', resource: 'nodes' };
  let n = await admin.get<any>({ ...NODES, name: nodeName });
  assert.equal(n.metadata.labels['kubernetes.io/hostname'], nodeName);
  assert.equal(n.metadata.labels['kubernetes.io/os'], 'linux');
  assert.ok(n.metadata.labels['kubernetes.io/arch']);
  assert.equal(n.metadata.labels['example.com/role'], 'test');
  assert.deepEqual(
    n.spec.taints.map((x: any) => `${x.key}=${x.value ?? ''}:${x.effect}`).sort(),
    ['example.com/dedicated=x:NoSchedule', 'node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule'],
  );
  assert.equal(n.status.capacity.cpu, String(cpus().length));
  assert.equal(n.status.capacity.pods, '110');
  assert.match(n.status.capacity.memory, /^\d+Ki$/);
  assert.ok(n.status.allocatable.memory !== n.status.capacity.memory, 'allocatable memory leaves the eviction threshold');
  assert.match(n.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\/1\./);
  assert.match(n.status.nodeInfo.kubeletVersion, /^v1\.\d+\.\d+/);
  assert.equal(n.status.daemonEndpoints.kubeletEndpoint.Port, node.server.port);
  assert.deepEqual(n.status.conditions.map((c: any) => c.type), ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready']);
  const ready = n.status.conditions.find((c: any) => c.type === 'Ready');
  assert.equal(ready.status, 'False');
  assert.match(ready.message, /podCIDR|network/);
  assert.ok(n.status.images.some((i: any) => i.names.some((x: string) => x.includes('busybox'))), 'images in status');

  // The node IPAM controller's part, done by the test.
  await admin.patch({ ...NODES, name: nodeName }, 'merge', { spec: { podCIDR: cidrs.podCIDR, podCIDRs: [cidrs.podCIDR] } });
  await node.ready;
  n = await admin.get<any>({ ...NODES, name: nodeName });
  assert.equal(n.status.conditions.find((c: any) => c.type === 'Ready').status, 'True');
  assert.equal(n.status.conditions.find((c: any) => c.type === 'Ready').reason, 'KubeletReady');

  // The Lease, owned by the Node, renewed.
  const LEASE = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease', name: nodeName };
  const l1 = await admin.get<any>(LEASE);
  assert.equal(l1.spec.holderIdentity, nodeName);
  assert.equal(l1.metadata.ownerReferences[0].uid, n.metadata.uid);
  await poll(async () => (await admin.get<any>(LEASE)).spec.renewTime !== l1.spec.renewTime, { what: 'lease renewal', timeoutMs: 10_000 });

  // Status is written only when it changes: a quiet node writes (almost) nothing more.
  const writes = node.controller.statusWrites;
  await new Promise((res) => setTimeout(res, 1600));
  assert.ok(node.controller.statusWrites - writes <= 1, `status written ${node.controller.statusWrites - writes} times in 1.6 s`);

  // Stats through the kubelet's own server (the admin is in system:masters).
  const summary = await kubeletGet(node.server.port, '/stats/summary', api.pki);
  assert.equal(summary.status, 200, summary.body);
  const s = JSON.parse(summary.body);
  assert.equal(s.node.nodeName, nodeName);
  assert.ok(s.node.cpu.usageCoreNanoSeconds > 0);
  assert.ok(s.node.memory.workingSetBytes > 0);
  assert.ok(s.node.fs.capacityBytes > 0);
  assert.ok(Array.isArray(s.pods));
  const metrics = await kubeletGet(node.server.port, '/metrics/resource', api.pki);
  assert.equal(metrics.status, 200);
  assert.match(metrics.type, /^text\/plain; version=0\.0\.4/);
  assert.match(metrics.body, /^# HELP node_cpu_usage_seconds_total \[STABLE\] Cumulative cpu time consumed by the node in core-seconds\n# TYPE node_cpu_usage_seconds_total counter\nnode_cpu_usage_seconds_total \S+ \d{13}\n/m);
  assert.match(metrics.body, /^node_memory_working_set_bytes \S+ \d{13}$/m);
  assert.match(metrics.body, /^resource_scrape_error 0$/m);
});
