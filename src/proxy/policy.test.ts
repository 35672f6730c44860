// NetworkPolicy against the real kernel: real Pod/Namespace/NetworkPolicy objects in a real API
// server; the proxy's filter rules run inside a node made of network namespaces whose "pods" are
// busybox httpd processes with the Pod objects' IPs. Traffic stays inside those namespaces.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { ApiClient } from '../client/api-client.ts';
import { poll } from '../testing/poll.ts';
import { startServiceProxy, type ServiceProxy } from './proxy.ts';
import { BRIDGE, TEST_CLUSTER_CIDR, TEST_SERVICE_CIDR, createNetnsNode, netnsSkipReason, type NetnsNode, type NetnsPod } from './testing/netns-node.ts';

const skip = netnsSkipReason();
const NODE = 'pxy-node';

let api: TestApiServer;
let client: ApiClient;
let node: NetnsNode;
let proxy: ServiceProxy;

const policies = (ns: string) => ({ group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies', namespace: ns });

async function makePod(ns: string, pod: NetnsPod, labels: Record<string, string>): Promise<void> {
  const ref = { version: 'v1', resource: 'pods', namespace: ns };
  await client.create(ref, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, labels },
    spec: { nodeName: NODE, containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: 8080 }] }] },
  });
  await client.patch({ ...ref, name: pod.name, subresource: 'status' }, 'merge', { status: { phase: 'Running', podIP: pod.ip, podIPs: [{ ip: pod.ip }] } });
}

before(async () => {
  if (skip) return;
  api = await startTestApiServer({ name: 'proxy-policy' });
  client = new ApiClient({ ...loadKubeconfig(api.kubeconfig) });
  for (const [name, labels] of [['pxyp', {}], ['pxyo', { team: 'a' }]] as const)
    await client.create({ version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  node = createNetnsNode(4, { withExternal: false });
  const [client0, web, other, foreign] = node.pods as [NetnsPod, NetnsPod, NetnsPod, NetnsPod];
  for (const p of [web, other, foreign]) node.serve(p, 8080);
  await makePod('pxyp', client0, { role: 'client' });
  await makePod('pxyp', web, { app: 'web' });
  await makePod('pxyp', other, {});
  await makePod('pxyo', foreign, { app: 'x' });
  proxy = await startServiceProxy({
    client,
    nodeName: NODE,
    clusterCIDR: TEST_CLUSTER_CIDR,
    serviceCIDR: TEST_SERVICE_CIDR,
    podBridge: BRIDGE,
    netns: node.netns,
    log: process.env.PXY_DEBUG ? (m) => console.error(m) : () => {},
  });
});

after(async () => {
  await proxy?.cleanup();
  client?.close();
  await api?.close();
  node?.destroy();
});

const url = (p: NetnsPod) => `http://${p.ip}:8080/`;
async function reach(from: NetnsPod, to: NetnsPod): Promise<boolean> {
  const r = await node.get(from.netns, url(to), 1);
  if (!r.ok && !r.timedOut) throw new Error(`unexpected failure ${from.name} → ${to.name}: ${r.body}`);
  return r.ok;
}
/** Waits for the rules to say `allowed` (reads them, no traffic), then checks with a request. */
async function expect(from: NetnsPod, to: NetnsPod, allowed: boolean): Promise<void> {
  await poll(() => reach(from, to), { what: `${from.name} → ${to.name} ${allowed ? 'allowed' : 'blocked'}`, done: (v) => v === allowed, timeoutMs: 4000, intervalMs: 50 });
}

test('ingress: default deny once selected, podSelector + named port, namespaceSelector with podSelector', { skip }, async () => {
  const [c0, web, other, foreign] = node.pods as [NetnsPod, NetnsPod, NetnsPod, NetnsPod];
  assert.equal(await reach(c0, web), true);
  assert.equal(await reach(other, web), true);

  const t0 = Date.now();
  await client.create(policies('pxyp'), {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'deny-web' },
    spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] },
  });
  await poll(() => node.run(node.netns, ['iptables-save', '-t', 'filter']), { what: 'deny rule', done: (s) => s.includes('pxyp/pod1 default deny ingress'), timeoutMs: 3000, intervalMs: 20 });
  assert.ok(Date.now() - t0 < 1000, `policy took ${Date.now() - t0} ms`);
  assert.equal(await reach(c0, web), false);
  assert.equal(await reach(foreign, web), false);
  // Not selected: web's own egress and traffic to other pods are untouched.
  assert.equal(await reach(web, other), true);

  await client.create(policies('pxyp'), {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'allow-clients' },
    spec: {
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [
        { from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 'http' }] },
        { from: [{ namespaceSelector: { matchLabels: { team: 'a' } }, podSelector: { matchLabels: { app: 'x' } } }], ports: [{ port: 8000, endPort: 8100 }] },
      ],
    },
  });
  await expect(c0, web, true);
  await expect(foreign, web, true);
  assert.equal(await reach(other, web), false);

  // A label change moves a pod in and out of the allowed set.
  await client.patch({ version: 'v1', resource: 'pods', namespace: 'pxyp', name: other.name }, 'merge', { metadata: { labels: { role: 'client' } } });
  await expect(other, web, true);
  await client.patch({ version: 'v1', resource: 'namespaces', name: 'pxyo' }, 'merge', { metadata: { labels: { team: 'b' } } });
  await expect(foreign, web, false);

  for (const name of ['deny-web', 'allow-clients']) await client.delete({ ...policies('pxyp'), name });
  await expect(foreign, web, true);
});

test('egress: ipBlock with except and a port range; replies of allowed connections pass', { skip }, async () => {
  const [c0, web, other] = node.pods as [NetnsPod, NetnsPod, NetnsPod, NetnsPod];
  await client.create(policies('pxyp'), {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'client-egress' },
    spec: {
      podSelector: { matchLabels: { role: 'client' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '10.42.0.0/24', except: [`${other.ip}/32`] } }], ports: [{ protocol: 'TCP', port: 8000, endPort: 8100 }] }],
    },
  });
  await expect(c0, other, false);
  await expect(c0, web, true); // the reply comes back: established traffic is allowed
  await client.delete({ ...policies('pxyp'), name: 'client-egress' });
  await expect(c0, other, true);
});

test('a policy the kernel cannot express is an Event; the rest of it still applies', { skip }, async () => {
  const [c0, web] = node.pods as [NetnsPod, NetnsPod, NetnsPod, NetnsPod];
  await client.create(policies('pxyp'), {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'v6' },
    spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ ipBlock: { cidr: 'fd00::/64' } }] }] },
  });
  const ev = await poll(
    async () => (await client.list({ version: 'v1', resource: 'events', namespace: 'pxyp' }, { fieldSelector: 'involvedObject.name=v6' })).items,
    { what: 'event on v6', done: (items) => items.length > 0, timeoutMs: 5000 },
  );
  assert.match(ev[0]!.message, /fd00::\/64 is not IPv4/);
  assert.equal(ev[0]!.involvedObject.kind, 'NetworkPolicy');
  await expect(c0, web, false); // fails closed: the peer it cannot express allows nothing
  assert.equal((await proxy.sync()).ok, true);
});
