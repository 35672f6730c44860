// Endpoints and EndpointSlices against a real API server, with pod statuses written by the test.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { eventually, testControllerEnv, type TestControllerEnv } from '../test-support.ts';
import { endpointSliceController } from '../endpointslice/index.ts';
import { endpointsController } from './index.ts';
import { repackSubsets } from './subsets.ts';

let cluster: TestCluster;
let env: TestControllerEnv;
const PODS = { version: 'v1', resource: 'pods', namespace: 'default' };
const SLICES = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'default' };

before(async () => {
  cluster = await startTestCluster();
  await cluster.client.create({ version: 'v1', resource: 'nodes' }, { metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'z1' } } });
  env = testControllerEnv(cluster.client);
  await env.start(endpointsController, endpointSliceController);
});
after(async () => {
  await env.stop();
  await cluster.close();
});

async function runningPod(name: string, ip: string, opts: { ready?: boolean; labels?: Record<string, string>; port?: number; hostname?: string; subdomain?: string } = {}): Promise<KObject> {
  const pod = await cluster.client.create<KObject>(PODS, {
    metadata: { name, labels: opts.labels ?? { app: 'web' } },
    spec: {
      nodeName: 'n1',
      hostname: opts.hostname,
      subdomain: opts.subdomain,
      containers: [{ name: 'c', image: 'x', ports: [{ name: 'web', containerPort: opts.port ?? 8080 }] }],
    },
  });
  pod.status = {
    phase: 'Running',
    podIP: ip,
    podIPs: [{ ip }],
    conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }],
  };
  return cluster.client.updateStatus<KObject>({ ...PODS, name }, pod);
}

test('repackSubsets groups ports by the addresses behind them', () => {
  const a = { ip: '10.0.0.2' };
  const b = { ip: '10.0.0.1' };
  const http = { name: 'http', port: 80, protocol: 'TCP' };
  const alt = { name: 'http', port: 81, protocol: 'TCP' };
  const out = repackSubsets([
    { address: a, ready: true, port: http },
    { address: b, ready: false, port: http },
    { address: a, ready: true, port: alt },
  ]);
  assert.deepEqual(out, [
    { addresses: [a], notReadyAddresses: [b], ports: [http] },
    { addresses: [a], ports: [alt] },
  ]);
});

test('endpoints list ready and not-ready pods on named ports; slices carry conditions and zones', async () => {
  const c = cluster.client;
  await runningPod('web-a', '10.1.0.1', { hostname: 'a', subdomain: 'web' });
  await runningPod('web-b', '10.1.0.2', { ready: false });
  await runningPod('web-c', '10.1.0.3', { port: 9090 });
  await runningPod('other', '10.1.0.9', { labels: { app: 'other' } });
  await c.create({ version: 'v1', resource: 'services', namespace: 'default' }, {
    metadata: { name: 'web', labels: { tier: 'front' } },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'web' }] },
  });
  const ep = await eventually('endpoints', async () => {
    const e = await c.get<KObject>({ version: 'v1', resource: 'endpoints', namespace: 'default', name: 'web' });
    return e.subsets?.length === 2 ? e : undefined;
  });
  assert.equal(ep.metadata.labels!.tier, 'front');
  assert.ok(ep.metadata.annotations!['endpoints.kubernetes.io/last-change-trigger-time']);
  const [s8080, s9090] = ep.subsets;
  assert.deepEqual(s8080.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(s8080.addresses.map((a: any) => [a.ip, a.hostname, a.nodeName, a.targetRef.kind, a.targetRef.name]), [['10.1.0.1', 'a', 'n1', 'Pod', 'web-a']]);
  assert.deepEqual(s8080.notReadyAddresses.map((a: any) => a.ip), ['10.1.0.2']);
  assert.deepEqual(s9090.ports, [{ name: 'http', port: 9090, protocol: 'TCP' }]);
  assert.deepEqual(s9090.addresses.map((a: any) => a.ip), ['10.1.0.3']);

  const slices = await eventually('slices', async () => {
    const l = await c.list<KObject>(SLICES, { labelSelector: 'kubernetes.io/service-name=web' });
    const n = l.items.reduce((k, s) => k + (s.endpoints ?? []).length, 0);
    return n === 3 ? l.items : undefined;
  });
  assert.equal(slices.length, 2);
  for (const s of slices) {
    assert.equal(s.addressType, 'IPv4');
    assert.equal(s.metadata.labels!['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(s.metadata.ownerReferences![0].kind, 'Service');
    assert.ok(s.metadata.name!.startsWith('web-'));
  }
  const all = slices.flatMap((s) => s.endpoints);
  const b = all.find((e: any) => e.targetRef.name === 'web-b');
  assert.deepEqual(b.conditions, { ready: false, serving: false, terminating: false });
  assert.equal(b.zone, 'z1');
  assert.equal(b.nodeName, 'n1');

  // publishNotReadyAddresses makes everyone ready.
  const svc = await c.get<KObject>({ version: 'v1', resource: 'services', namespace: 'default', name: 'web' });
  svc.spec.publishNotReadyAddresses = true;
  await c.update({ version: 'v1', resource: 'services', namespace: 'default', name: 'web' }, svc);
  await eventually('all ready', async () => {
    const e = await c.get<KObject>({ version: 'v1', resource: 'endpoints', namespace: 'default', name: 'web' });
    return e.subsets.every((s: any) => !s.notReadyAddresses) ? true : undefined;
  });

  // Deleting the service removes its endpoints and slices.
  await c.delete({ version: 'v1', resource: 'services', namespace: 'default', name: 'web' });
  await eventually('endpoints gone', async () => {
    try {
      await c.get({ version: 'v1', resource: 'endpoints', namespace: 'default', name: 'web' });
      return undefined;
    } catch (e) {
      return isNotFound(e) ? true : undefined;
    }
  });
  await eventually('slices gone', async () => ((await c.list(SLICES, { labelSelector: 'kubernetes.io/service-name=web' })).items.length === 0 ? true : undefined));
});

test('slices are capped at 100 endpoints', async () => {
  const c = cluster.client;
  const n = 230;
  for (let i = 0; i < n; i++) await runningPod(`many-${i}`, `10.2.${Math.floor(i / 200)}.${(i % 200) + 1}`, { labels: { app: 'many' } });
  await c.create({ version: 'v1', resource: 'services', namespace: 'default' }, {
    metadata: { name: 'many' },
    spec: { selector: { app: 'many' }, ports: [{ port: 80, targetPort: 8080 }] },
  });
  const slices = await eventually('230 endpoints in slices', async () => {
    const l = await c.list<KObject>(SLICES, { labelSelector: 'kubernetes.io/service-name=many' });
    const total = l.items.reduce((k, s) => k + (s.endpoints ?? []).length, 0);
    return total === n ? l.items : undefined;
  });
  assert.equal(slices.length, 3);
  for (const s of slices) assert.ok(s.endpoints.length <= 100);
  assert.deepEqual(slices[0].ports, [{ name: '', port: 8080, protocol: 'TCP' }]);
  // Removing one pod touches one slice and does not reshuffle the others.
  await c.delete({ ...PODS, name: 'many-0' }, { gracePeriodSeconds: 0 });
  const after = await eventually('229 endpoints', async () => {
    const l = await c.list<KObject>(SLICES, { labelSelector: 'kubernetes.io/service-name=many' });
    const total = l.items.reduce((k, s) => k + (s.endpoints ?? []).length, 0);
    return total === n - 1 ? l.items : undefined;
  });
  assert.equal(after.length, 3);
  const changed = after.filter((s) => slices.find((o) => o.metadata.name === s.metadata.name)?.metadata.resourceVersion !== s.metadata.resourceVersion);
  assert.equal(changed.length, 1);
});
