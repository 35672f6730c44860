// The local provider for real: the cloud controller manager (leader election included) against a
// real API server, LoadBalancer Services over manually written EndpointSlices whose endpoints are
// HTTP and UDP echo servers in a network namespace the test creates (a stand-in for pods on the
// local node's bridge: EndpointSlices may not hold loopback addresses), and real TCP/UDP listeners
// on ingress IPs in 127/8. The simulated endpoint's address is asserted never to be a backend.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { KObject } from '../../../api/types.ts';
import { isNotFound } from '../../../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../../../kubelet/simulated/test-cluster.ts';
import { createNamespace } from '../../../controllers/test-support.ts';
import { CloudConfigError } from '../../errors.ts';
import { startCloudControllerManager } from '../../manager.ts';
import { createNode, fastCloudOptions, loadBalancerService, waitForEvent, waitUntil } from '../../testing/support.ts';
import { parseCloudConfig } from '../../cloud-config.ts';
import { parseLocalConfig } from './config.ts';
import { backendsFor, nodePortBackend, type LocalLoadBalancer } from './load-balancer.ts';
import { LocalMachine, endpointRoutable, type MachineFacts } from './machine.ts';
import { LocalInstances, type LocalProvider } from './index.ts';
import { createPodNetwork, podNetworkUnavailable, type PodNetwork } from '../../testing/pod-network.ts';

// A range of our own in 127/8 so that parallel test runs on this machine do not meet.
const RANGE_BASE = `127.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
const RANGE = `${RANGE_BASE}.0/28`;
const NS = 'local-lb';

const fakeFacts = (host: string, addrs: string[]): MachineFacts => ({
  hostname: () => host,
  interfaceAddresses: () => [
    { address: '127.0.0.1', family: 'IPv4', internal: true },
    ...addrs.map((a) => ({ address: a, family: 'IPv4' as const, internal: false })),
  ],
});

test('config: defaults and errors that name the field', () => {
  assert.deepEqual(parseLocalConfig({}), { ipRange: '127.0.100.0/24', address: undefined, udpIdleTimeoutMs: 60_000, forwardTo: 'endpoints', nodeNames: [], instanceType: 'local', zone: undefined, region: undefined });
  assert.equal(parseLocalConfig({ loadBalancer: { forwardTo: 'nodePorts' } }).forwardTo, 'nodePorts');
  assert.equal(parseLocalConfig({ loadBalancer: { address: '192.0.2.10' } }).ipRange, undefined);
  const err = (cfg: unknown) => {
    try {
      parseLocalConfig(cfg as any);
    } catch (e) {
      assert.ok(e instanceof CloudConfigError);
      return e.message;
    }
    assert.fail('no error');
  };
  assert.equal(err({ loadBalancer: { ipRange: '127.0.100.0/33' } }), 'cloud-config for provider "local": loadBalancer.ipRange: must be an IPv4 CIDR such as 127.0.100.0/24, not "127.0.100.0/33"');
  assert.equal(err({ loadBalancer: { iprange: '127.0.0.0/24' } }), 'cloud-config for provider "local": loadBalancer.iprange: is not a known field');
  assert.equal(err({ loadBalancer: { udpIdleTimeoutSeconds: 'x' } }), 'cloud-config for provider "local": loadBalancer.udpIdleTimeoutSeconds: must be an integer, not "x"');
  assert.equal(err({ loadBalancer: { forwardTo: 'pods' } }), 'cloud-config for provider "local": loadBalancer.forwardTo: must be one of endpoints, nodePorts, not "pods"');
  assert.equal(err({ instances: { nodeNames: [1] } }), 'cloud-config for provider "local": instances.nodeNames: must be a list of non-empty strings');
  assert.throws(() => parseCloudConfig('local', 'a: [b'), /cloud-config for provider "local": cloud-config is not valid YAML or JSON/);
});

test('which nodes run here, and which endpoints are routable', () => {
  const m = new LocalMachine(fakeFacts('box', ['10.42.3.1', '192.168.5.5']), ['alias']);
  const node = (name: string, extra: any = {}): KObject => ({ metadata: { name, ...extra.metadata }, spec: extra.spec ?? {}, status: extra.status ?? {} });
  assert.equal(m.kindOf(node('box')), 'local');
  assert.equal(m.kindOf(node('alias')), 'local');
  assert.equal(m.kindOf(node('other', { metadata: { labels: { 'kubernetes.io/hostname': 'BOX' } } })), 'local');
  assert.equal(m.kindOf(node('by-ip', { status: { addresses: [{ type: 'InternalIP', address: '192.168.5.5' }] } })), 'local');
  assert.equal(m.kindOf(node('sim-0', { metadata: { labels: { 'mizzen.dev/simulated': 'true' } } })), 'simulated');
  assert.equal(m.kindOf(node('far', { status: { addresses: [{ type: 'InternalIP', address: '192.168.5.6' }] } })), undefined);
  const nodes = new Map<string, KObject>([
    ['box', node('box', { spec: { podCIDRs: ['10.42.3.0/24'] } })],
    ['sim-0', node('sim-0', { metadata: { labels: { 'mizzen.dev/simulated': 'true' } }, spec: { podCIDRs: ['10.42.0.0/24'] } })],
    ['far', node('far', { spec: { podCIDRs: ['10.42.4.0/24'] } })],
  ]);
  const bridged = m.bridgedPodRanges(nodes.values());
  const ok = (a: string, n?: string) => endpointRoutable(a, n, (x) => nodes.get(x), bridged);
  assert.equal(ok('127.0.0.1'), true);
  assert.equal(ok('10.42.3.7', 'box'), true);
  assert.equal(ok('10.42.0.7', 'sim-0'), false);
  assert.equal(ok('127.0.0.1', 'sim-0'), false);
  assert.equal(ok('10.42.4.7', 'far'), false);
  assert.equal(ok('10.42.4.7'), false);
  assert.equal(ok('8.8.8.8'), false);
  // A simulated node whose podCIDR happens to hold a local address still never counts.
  assert.equal(endpointRoutable('10.42.3.9', undefined, () => undefined, m.bridgedPodRanges([node('s', { metadata: { labels: { 'mizzen.dev/simulated': 'true' } }, spec: { podCIDRs: ['10.42.3.0/24'] } })])), false);
});

test('instances: providerID, addresses, and which nodes exist', async () => {
  const m = new LocalMachine(fakeFacts('box', ['192.168.5.5']));
  const inst = new LocalInstances(parseLocalConfig({ instances: { zone: 'here', region: 'home' } }), m);
  const meta = await inst.instanceMetadata({ metadata: { name: 'box' } });
  assert.deepEqual(meta, {
    providerID: 'local://box',
    instanceType: 'local',
    nodeAddresses: [
      { type: 'InternalIP', address: '192.168.5.5' },
      { type: 'Hostname', address: 'box' },
    ],
    zone: 'here',
    region: 'home',
  });
  await assert.rejects(inst.instanceMetadata({ metadata: { name: 'far' } }), { code: 'InstanceNotFound' });
  assert.equal(await inst.instanceExists({ metadata: { name: 'far' } }), true, 'never initialised by us: not ours to delete');
  assert.equal(await inst.instanceExists({ metadata: { name: 'far' }, spec: { providerID: 'local://far' } }), false);
  assert.equal(await inst.instanceExists({ metadata: { name: 'sim-1', labels: { 'mizzen.dev/simulated': 'true' } } }), true);
});

test('backendsFor: port by name and protocol, ready endpoints, routable addresses only', () => {
  const svc: KObject = { metadata: { name: 'web', namespace: 'x' } };
  const slice = (ports: any[], endpoints: any[]): KObject => ({ metadata: { name: 's', namespace: 'x', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', ports, endpoints });
  const slices = [
    slice([{ name: 'http', port: 8080, protocol: 'TCP' }], [{ addresses: ['127.0.0.2'] }, { addresses: ['127.0.0.3'], conditions: { ready: false } }, { addresses: ['10.1.1.1'] }]),
    slice([{ name: 'http', port: 9090, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }], [{ addresses: ['127.0.0.4'], conditions: { ready: true } }]),
  ];
  const skipped: string[] = [];
  const routable = (a: string) => a.startsWith('127.');
  assert.deepEqual(backendsFor(svc, { name: 'http', protocol: 'TCP' }, slices, routable, (a) => skipped.push(a)), [
    { host: '127.0.0.2', port: 8080 },
    { host: '127.0.0.4', port: 9090 },
  ]);
  assert.deepEqual(skipped, ['10.1.1.1']);
  assert.deepEqual(backendsFor(svc, { name: 'dns', protocol: 'UDP' }, slices, routable), [{ host: '127.0.0.4', port: 53 }]);
  assert.deepEqual(backendsFor(svc, { name: 'dns', protocol: 'TCP' }, slices, routable), []);
});

test('nodePortBackend: 127.0.0.1 and the port\'s NodePort, if it has a valid one', () => {
  assert.deepEqual(nodePortBackend({ nodePort: 30080 }), { host: '127.0.0.1', port: 30080 });
  assert.equal(nodePortBackend({}), undefined);
  assert.equal(nodePortBackend({ nodePort: '30080' }), undefined);
  assert.equal(nodePortBackend({ nodePort: 70000 }), undefined);
});

// ---- for real ----

const svcRef = (name = '') => ({ version: 'v1', resource: 'services', namespace: NS, name });
const sliceRef = (name = '') => ({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: NS, name });

/** One GET on a fresh connection; the body, or the error code. */
function get(ip: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: ip, port, path: '/', agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`error:${e.code ?? e.message}`));
  });
}

function udpAsk(ip: string, port: number, msg: string): Promise<string> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const done = (v: string) => {
      clearTimeout(t);
      s.close();
      resolve(v);
    };
    const t = setTimeout(() => done('timeout'), 2000);
    s.on('message', (m) => done(m.toString()));
    s.send(msg, port, ip);
  });
}

function manualSlice(name: string, service: string, ports: { name: string; port: number; protocol: string }[], addresses: string[], nodeName: string): KObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports,
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true }, nodeName })),
  };
}

describe('the local load balancer for real', { skip: podNetworkUnavailable() ?? false }, () => {
  let cluster: TestCluster;
  let ccm: Awaited<ReturnType<typeof startCloudControllerManager>>;
  let pods: PodNetwork;
  const ingressIP = async (name: string): Promise<string> =>
    waitUntil(`ingress of ${name}`, async () => (await cluster.client.get<KObject>(svcRef(name))).status?.loadBalancer?.ingress?.[0]?.ip);
  const podPorts = [
    { name: 'http', port: 8080, protocol: 'TCP' },
    { name: 'echo', port: 5300, protocol: 'UDP' },
  ];

  before(async () => {
    pods = await createPodNetwork();
    await pods.startServers(8080, 5300);
    cluster = await startTestCluster();
    await createNamespace(cluster.client, NS);
    // The node whose bridge (the veth's host end) serves the pod range.
    await createNode(cluster.client, 'lb-node', { podCIDR: pods.cidr, addresses: [{ type: 'InternalIP', address: pods.hostIP }] });
    // A simulated node with a pod range: its endpoints must never be connected to.
    await createNode(cluster.client, 'sim-lb', { labels: { 'mizzen.dev/simulated': 'true' }, providerID: 'local://sim-lb', podCIDR: '10.42.77.0/24' });
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'mizzen-local-cloud-'));
    const cloudConfig = join(dir, 'cloud.yaml');
    await writeFile(cloudConfig, `loadBalancer:\n  ipRange: ${RANGE}\n  udpIdleTimeoutSeconds: 2\n`);
    ccm = await startCloudControllerManager({
      client: cluster.client,
      provider: 'local',
      cloudConfig,
      options: fastCloudOptions,
      leaderElect: true,
      leaderElection: { leaseDurationSeconds: 3, renewDeadlineMs: 2000, retryPeriodMs: 500 },
      log: () => {},
    });
  });

  after(async () => {
    await ccm?.close();
    await cluster?.close();
    await pods?.close();
  });

  test('the manager holds the Lease kube-system/cloud-controller-manager', async () => {
    const lease = await waitUntil('lease', async () => {
      const l = await cluster.client.get<KObject>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system', name: 'cloud-controller-manager' }).catch(() => undefined);
      return l?.spec?.holderIdentity ? l : undefined;
    });
    assert.ok(lease.spec.holderIdentity);
    await waitUntil('leader', () => ccm.isLeader());
  });

  test('TCP and UDP through the ingress IP reach both pods; simulated endpoints are never used', async () => {
    const c = cluster.client;
    await c.create(svcRef(), loadBalancerService('web', { selector: null, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }, { name: 'echo', port: 5300, targetPort: 5300, protocol: 'UDP' }] }));
    await c.create(sliceRef(), manualSlice('web-pods', 'web', podPorts, pods.podIPs, 'lb-node'));
    await c.create(sliceRef(), manualSlice('web-sim', 'web', podPorts, ['10.42.77.5'], 'sim-lb'));
    const ip = await ingressIP('web');
    assert.equal(ip, `${RANGE_BASE}.1`);
    const svc = await c.get<KObject>(svcRef('web'));
    assert.deepEqual(svc.status.loadBalancer.ingress, [{ ip, ipMode: 'VIP' }]);
    assert.deepEqual(svc.metadata.finalizers, ['service.kubernetes.io/load-balancer-cleanup']);

    const lb = (ccm.provider as LocalProvider).lb as LocalLoadBalancer;
    await waitUntil('both backends', () => lb.listenersOf(`${NS}/web`).every((l) => l.backends().length === 2));
    for (const l of lb.listenersOf(`${NS}/web`)) assert.deepEqual(l.backends().map((b) => b.host).sort(), [...pods.podIPs].sort());

    const bodies = await Promise.all(Array.from({ length: 10 }, () => get(ip, 8080)));
    assert.deepEqual(new Set(bodies), new Set(['A', 'B']), bodies.join(','));
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await udpAsk(ip, 5300, `ping${i}`));
    assert.ok(answers.every((a) => /^[AB]:ping\d$/.test(a)), answers.join(','));
    assert.deepEqual(new Set(answers.map((a) => a[0])), new Set(['A', 'B']));
  });

  test('endpoint changes are followed live', async () => {
    const c = cluster.client;
    const ip = await ingressIP('web');
    const slice = await c.get<KObject>(sliceRef('web-pods'));
    slice.endpoints = slice.endpoints.slice(0, 1);
    await c.update(sliceRef('web-pods'), slice);
    await waitUntil('only A', async () => (await Promise.all(Array.from({ length: 6 }, () => get(ip, 8080)))).every((b) => b === 'A'));
    // Not ready: no backend left, and a connection is refused (reset) rather than left hanging.
    const s2 = await c.get<KObject>(sliceRef('web-pods'));
    s2.endpoints[0].conditions.ready = false;
    await c.update(sliceRef('web-pods'), s2);
    await waitUntil('refused', async () => (await get(ip, 8080)).startsWith('error:'));
    const s3 = await c.get<KObject>(sliceRef('web-pods'));
    s3.endpoints = pods.podIPs.map((a) => ({ addresses: [a], conditions: { ready: true }, nodeName: 'lb-node' }));
    await c.update(sliceRef('web-pods'), s3);
    await waitUntil('A and B again', async () => new Set(await Promise.all(Array.from({ length: 8 }, () => get(ip, 8080)))).size === 2);
  });

  test('a port already taken on the host is a Warning; the other ports and Services still get theirs', async () => {
    const c = cluster.client;
    // The next Service gets the next free address of the range: hold one of its ports first.
    const blockedIP = `${RANGE_BASE}.2`;
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(9091, blockedIP, r));
    try {
      await c.create(svcRef(), loadBalancerService('blocked', { selector: null, ports: [{ name: 'http', port: 9091, protocol: 'TCP' }, { name: 'b', port: 9092, protocol: 'TCP' }] }));
      await c.create(sliceRef(), manualSlice('blocked-pods', 'blocked', [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'b', port: 8080, protocol: 'TCP' }], pods.podIPs, 'lb-node'));
      const ev = await waitForEvent(c, NS, 'blocked', 'SyncLoadBalancerFailed');
      assert.equal(ev.type, 'Warning');
      assert.equal(ev.message, `Error syncing load balancer: failed to ensure load balancer: listen tcp ${blockedIP}:9091: address already in use; serving TCP/9092`);
      await waitUntil('9092 served', async () => /^[AB]$/.test(await get(blockedIP, 9092)));
      // Another Service is not held up.
      await c.create(svcRef(), loadBalancerService('other', { selector: null, ports: [{ name: 'http', port: 9091, protocol: 'TCP' }] }));
      await c.create(sliceRef(), manualSlice('other-pods', 'other', [{ name: 'http', port: 8080, protocol: 'TCP' }], pods.podIPs, 'lb-node'));
      const otherIP = await ingressIP('other');
      assert.equal(otherIP, `${RANGE_BASE}.3`);
      await waitUntil('other serves', async () => /^[AB]$/.test(await get(otherIP, 9091)));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    // The port is free again: the retry succeeds and the Service gets its address.
    assert.equal(await ingressIP('blocked'), blockedIP);
    await waitUntil('blocked serves 9091', async () => /^[AB]$/.test(await get(blockedIP, 9091)));
  });

  test('deleting the Service closes its listeners and removes the finalizer', async () => {
    const c = cluster.client;
    const ip = await ingressIP('web');
    await c.delete(svcRef('web'));
    await waitUntil('web gone', async () => {
      try {
        await c.get(svcRef('web'));
        return false;
      } catch (e) {
        return isNotFound(e);
      }
    });
    assert.equal(await get(ip, 8080), 'error:ECONNREFUSED');
    await waitForEvent(c, NS, 'web', 'DeletedLoadBalancer', 'Deleted load balancer');
    // The address is free for the next Service.
    await c.create(svcRef(), loadBalancerService('next', { selector: null, ports: [{ name: 'a', port: 7070, protocol: 'TCP' }] }));
    assert.equal(await ingressIP('next'), ip);
  });

  test('a changed Service port moves its listener: the new port serves, the old one is closed', async () => {
    const c = cluster.client;
    await c.create(svcRef(), loadBalancerService('moving', { selector: null, ports: [{ name: 'http', port: 7171, targetPort: 8080, protocol: 'TCP' }] }));
    await c.create(sliceRef(), manualSlice('moving-pods', 'moving', [{ name: 'http', port: 8080, protocol: 'TCP' }], pods.podIPs, 'lb-node'));
    const ip = await ingressIP('moving');
    await waitUntil('7171 serves', async () => /^[AB]$/.test(await get(ip, 7171)));
    await c.patch(svcRef('moving'), 'merge', { spec: { ports: [{ name: 'http', port: 7272, targetPort: 8080, protocol: 'TCP' }] } });
    await waitUntil('7272 serves', async () => /^[AB]$/.test(await get(ip, 7272)));
    assert.equal(await get(ip, 7171), 'error:ECONNREFUSED');
    assert.equal(await ingressIP('moving'), ip);
  });
});

/** A TCP server and a UDP echo on 127.0.0.1 on one free port of the NodePort range, answering `name`. */
async function nodePortStandIn(name: string): Promise<{ port: number; close(): Promise<void> }> {
  for (let i = 0; i < 50; i++) {
    const port = 30000 + Math.floor(Math.random() * 2768);
    const tcp = http.createServer((_req, res) => res.end(name));
    const udp = dgram.createSocket('udp4');
    udp.on('message', (m, r) => udp.send(`${name}:${m}`, r.port, r.address));
    try {
      await new Promise<void>((ok, fail) => tcp.once('error', fail).listen(port, '127.0.0.1', () => ok()));
      await new Promise<void>((ok, fail) => udp.once('error', fail).bind(port, '127.0.0.1', () => ok()));
      return { port, close: async () => void (await Promise.all([new Promise((r) => tcp.close(r)), new Promise<void>((r) => udp.close(() => r()))])) };
    } catch {
      tcp.close();
      try {
        udp.close();
      } catch {
        // never bound
      }
    }
  }
  throw new Error('no free port in 30000-32767 on 127.0.0.1');
}

// forwardTo: nodePorts. The node's service proxy serves NodePorts on 127.0.0.1; here a server on
// 127.0.0.1:<nodePort> stands in for it (the service proxy is host-global, and is tested in its own suites).
describe('the local load balancer forwarding to NodePorts', () => {
  let cluster: TestCluster;
  let ccm: Awaited<ReturnType<typeof startCloudControllerManager>>;
  let standIn: Awaited<ReturnType<typeof nodePortStandIn>>;
  let dir: string;
  const rangeBase = `127.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;

  before(async () => {
    standIn = await nodePortStandIn('via-nodeport');
    cluster = await startTestCluster();
    await createNamespace(cluster.client, NS);
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    dir = await mkdtemp(join(tmpdir(), 'mizzen-local-cloud-np-'));
    const cloudConfig = join(dir, 'cloud.yaml');
    await writeFile(cloudConfig, `loadBalancer:\n  ipRange: ${rangeBase}.0/28\n  forwardTo: nodePorts\n`);
    ccm = await startCloudControllerManager({ client: cluster.client, provider: 'local', cloudConfig, options: fastCloudOptions, leaderElect: false, log: () => {} });
  });

  after(async () => {
    await ccm?.close();
    await cluster?.close();
    await standIn?.close();
    if (dir) await (await import('node:fs/promises')).rm(dir, { recursive: true, force: true });
  });

  test('TCP and UDP through the ingress IP reach 127.0.0.1:<nodePort>; a port without one uses the endpoints', async () => {
    const c = cluster.client;
    await c.create(svcRef(), loadBalancerService('np', {
      selector: null,
      ports: [
        { name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP', nodePort: standIn.port },
        { name: 'echo', port: 5300, targetPort: 5300, protocol: 'UDP', nodePort: standIn.port },
      ],
    }));
    const ip = await waitUntil('ingress of np', async () => (await c.get<KObject>(svcRef('np'))).status?.loadBalancer?.ingress?.[0]?.ip);
    assert.equal(ip, `${rangeBase}.1`);
    const lb = (ccm.provider as LocalProvider).lb as LocalLoadBalancer;
    for (const l of lb.listenersOf(`${NS}/np`)) assert.deepEqual(l.backends(), [{ host: '127.0.0.1', port: standIn.port }]);
    assert.deepEqual(new Set(await Promise.all(Array.from({ length: 4 }, () => get(ip, 8080)))), new Set(['via-nodeport']));
    assert.equal(await udpAsk(ip, 5300, 'hi'), 'via-nodeport:hi');

    // Without NodePorts (allocateLoadBalancerNodePorts: false) the endpoints are used: none routable here.
    await c.create(svcRef(), loadBalancerService('np-none', { selector: null, spec: { allocateLoadBalancerNodePorts: false }, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] }));
    await c.create(sliceRef(), manualSlice('np-none-sim', 'np-none', [{ name: 'http', port: 8080, protocol: 'TCP' }], ['10.42.78.5'], 'nowhere'));
    const ip2 = await waitUntil('ingress of np-none', async () => (await c.get<KObject>(svcRef('np-none'))).status?.loadBalancer?.ingress?.[0]?.ip);
    assert.equal((await c.get<KObject>(svcRef('np-none'))).spec.ports[0].nodePort, undefined);
    assert.deepEqual(lb.listenersOf(`${NS}/np-none`).map((l) => l.backends()), [[]]);
    assert.equal(await get(ip2, 8080), 'error:ECONNRESET');
  });
});
