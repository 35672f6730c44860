// The cloud controller manager in `mizzen up` (local provider) through the real kubectl:
// - a LoadBalancer Service without selector over a hand-written EndpointSlice whose endpoints are
//   echo servers in a network namespace this test creates (stand-in pods behind a node's bridge;
//   EndpointSlices may not hold loopback addresses): EXTERNAL-IP appears in `kubectl get svc`,
//   requests reach both backends, deleting the Service closes the listener;
// - with real pods (`kubectl create deployment` + `kubectl expose --type=LoadBalancer`) on the
//   real local node (root, containerd): requests spread over the pods, scaling changes the
//   backends, deleting the Service closes the listener and removes the finalizer.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasKubectl, startCluster, type Cluster } from './harness.ts';
import { eventually } from './poll.ts';
import { createPodNetwork, podNetworkUnavailable, type PodNetwork } from '../src/cloud/testing/pod-network.ts';
import { cleanupLocalNode, localNodeSkipReason, pickTestCidrs, type TestCidrs } from '../src/kubelet/testing/local-node.ts';

const RANGE_BASE = `127.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;

function get(ip: string, port: number, path = '/'): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: ip, port, path, agent: false, timeout: 3000 }, (res) => {
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
    const t = setTimeout(() => {
      s.close();
      resolve('timeout');
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m.toString());
    });
    s.send(msg, port, ip);
  });
}

const skip = !hasKubectl ? 'kubectl is not installed at /usr/bin/kubectl' : (podNetworkUnavailable() ?? false);

describe('cloud controller manager through kubectl (local provider)', { skip }, () => {
  let cluster: Cluster;
  let pods: PodNetwork;
  let configDir: string;
  const k = (args: string[], input?: string) => cluster.kubectl(args, { input });

  before(async () => {
    pods = await createPodNetwork();
    await pods.startServers(8080, 5300);
    configDir = await mkdtemp(join(tmpdir(), 'mizzen-e2e-cloud-'));
    const cloudConfig = join(configDir, 'cloud.yaml');
    await writeFile(cloudConfig, `loadBalancer:\n  ipRange: ${RANGE_BASE}.0/28\n`);
    // The machine is shared: give `up` longer than the harness's default to come up.
    cluster = await startCluster({ readyTimeoutMs: 90_000, extraArgs: ['--cloud-provider', 'local', '--cloud-config', cloudConfig] });
  });

  after(async () => {
    await cluster?.stop();
    await pods?.close();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  test('a LoadBalancer Service over manual endpoints gets an EXTERNAL-IP that reaches both backends', async () => {
    await k(['create', 'namespace', 'lb']);
    // The node whose bridge serves the stand-in pods' range.
    await k(['apply', '-f', '-'], `apiVersion: v1
kind: Node
metadata: {name: e2e-bridge-node}
spec: {podCIDR: ${pods.cidr}, podCIDRs: [${pods.cidr}]}
`);
    await k(['-n', 'lb', 'apply', '-f', '-'], `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: LoadBalancer
  ports:
  - {name: http, port: 80, targetPort: 8080, protocol: TCP}
  - {name: echo, port: 53, targetPort: 5300, protocol: UDP}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-manual
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports:
- {name: http, port: 8080, protocol: TCP}
- {name: echo, port: 5300, protocol: UDP}
endpoints:
- {addresses: ["${pods.podIPs[0]}"], conditions: {ready: true}, nodeName: e2e-bridge-node}
- {addresses: ["${pods.podIPs[1]}"], conditions: {ready: true}, nodeName: e2e-bridge-node}
`);
    const ip = await eventually(
      async () => {
        const out = (await k(['-n', 'lb', 'get', 'svc', 'web', '--no-headers'])).stdout;
        return /\s(127\.\d+\.\d+\.\d+)\s/.exec(out)?.[1];
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'EXTERNAL-IP of lb/web' },
    );
    assert.equal(ip, `${RANGE_BASE}.1`);
    const table = (await k(['-n', 'lb', 'get', 'svc', 'web'])).stdout;
    assert.match(table, new RegExp(`web\\s+LoadBalancer\\s+10\\.43\\.\\d+\\.\\d+\\s+${ip.replace(/\./g, '\\.')}\\s+80:\\d+/TCP,53:\\d+/UDP`));
    const bodies = await eventually(
      async () => {
        const got = await Promise.all(Array.from({ length: 10 }, () => get(ip, 80)));
        return new Set(got).size === 2 && got.every((b) => b === 'A' || b === 'B') ? got : undefined;
      },
      { timeoutMs: 15_000, what: 'answers from both backends' },
    );
    assert.equal(bodies.length, 10);
    const udp = [];
    for (let i = 0; i < 4; i++) udp.push(await udpAsk(ip, 53, `q${i}`));
    assert.ok(udp.every((a) => /^[AB]:q\d$/.test(a)), udp.join(','));
    const events = (await k(['-n', 'lb', 'get', 'events', '--field-selector', 'involvedObject.name=web', '-o', 'jsonpath={.items[*].reason}'])).stdout;
    assert.match(events, /EnsuringLoadBalancer/);
    assert.match(events, /EnsuredLoadBalancer/);
    const finalizers = (await k(['-n', 'lb', 'get', 'svc', 'web', '-o', 'jsonpath={.metadata.finalizers}'])).stdout;
    assert.match(finalizers, /service\.kubernetes\.io\/load-balancer-cleanup/);

    // Deleting it closes the listener and lets the Service go (kubectl waits for the finalizer).
    await k(['-n', 'lb', 'delete', 'svc', 'web', '--timeout=30s']);
    const gone = await cluster.kubectl(['-n', 'lb', 'get', 'svc', 'web'], { allowFail: true });
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /NotFound|not found/);
    assert.equal(await get(ip, 80), 'error:ECONNREFUSED');
  });
});

// The issue's own scenario on the real local node of `mizzen up` (root, containerd & co): busybox
// httpd pods answering with their name. The local load balancer forwards to pod IPs on the node's
// bridge itself, so the node runs without the host-global service proxy and cluster DNS; its
// bridge, cgroup root, node name and CIDRs are this test's own.
describe('a Deployment exposed with type LoadBalancer on the real local node', { skip: !hasKubectl ? 'needs /usr/bin/kubectl' : localNodeSkipReason(), timeout: 600_000 }, () => {
  const id = randomBytes(3).toString('hex');
  const nodeName = `lb-e2e-${id}`;
  const bridge = `mzlb${id}`;
  const cgroupRoot = `/mizzen-lb-e2e-${id}`;
  const rangeBase = `127.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
  let cidrs: TestCidrs;
  let cluster: Cluster;
  let configDir: string;
  const k = (args: string[], input?: string) => cluster.kubectl(['-n', 'lb-pods', ...args], { input });
  const json = async (args: string[]) => JSON.parse((await k([...args, '-o', 'json'])).stdout);
  const runningPods = async () => (await json(['get', 'pods', '-l', 'app=web'])).items.filter((p: any) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp).map((p: any) => p.metadata.name as string).sort();

  before(async () => {
    cidrs = await pickTestCidrs();
    configDir = await mkdtemp(join(tmpdir(), 'mizzen-e2e-cloud-pods-'));
    const cloudConfig = join(configDir, 'cloud.yaml');
    await writeFile(cloudConfig, `loadBalancer:\n  ipRange: ${rangeBase}.0/28\n`);
    cluster = await startCluster({
      kubelet: true,
      readyTimeoutMs: 240_000,
      extraArgs: ['--cloud-provider', 'local', '--cloud-config', cloudConfig, '--cluster-cidr', cidrs.clusterCIDR, '--service-cluster-ip-range', cidrs.serviceCIDR,
        '--node-name', nodeName, '--pod-bridge', bridge, '--cgroup-root', cgroupRoot, '--kubelet-port', '0', '--no-service-proxy', '--no-cluster-dns'],
    });
    await eventually(async () => (await cluster.kubectl(['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], { allowFail: true })).stdout === 'True',
      { what: `node ${nodeName} Ready\n${cluster.logs()}`, timeoutMs: 120_000, intervalMs: 1000 });
    await cluster.kubectl(['create', 'namespace', 'lb-pods']);
  });

  after(async () => {
    if (cluster) {
      // The pods go through the kubelet first (it stops and removes them), then the node's network.
      await cluster.kubectl(['delete', 'namespace', 'lb-pods', '--wait=true', '--timeout=90s'], { allowFail: true }).catch(() => {});
      await cluster.stop().catch(() => {});
      await cleanupLocalNode({ dataDir: cluster.dataDir, bridge, cgroupRoot, ...cidrs }).catch(() => {});
    }
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  test('EXTERNAL-IP within seconds, requests spread over the pods, scaling changes the backends, delete closes it', async () => {
    await k(['create', 'deployment', 'web', '--image=busybox:1.35', '--replicas=2', '--',
      'sh', '-c', 'mkdir -p /www && echo "$HOSTNAME" > /www/index.html && exec httpd -f -p 8080 -h /www']);
    await k(['rollout', 'status', 'deployment/web', '--timeout=120s']);
    const exposed = Date.now();
    await k(['expose', 'deployment', 'web', '--type=LoadBalancer', '--port=80', '--target-port=8080']);
    const ip = await eventually(
      async () => /\s(127\.\d+\.\d+\.\d+)\s/.exec((await k(['get', 'svc', 'web', '--no-headers'])).stdout)?.[1],
      { timeoutMs: 30_000, intervalMs: 100, what: 'EXTERNAL-IP of lb-pods/web' },
    );
    const seconds = (Date.now() - exposed) / 1000;
    assert.ok(seconds < 10, `EXTERNAL-IP after ${seconds} s`);
    assert.equal(ip, `${rangeBase}.1`);
    assert.match((await k(['get', 'svc', 'web', '-o', 'jsonpath={.metadata.finalizers}'])).stdout, /service\.kubernetes\.io\/load-balancer-cleanup/);

    /** Pod names answering n requests through the balancer (each on a new connection). */
    const answering = async (n: number) => {
      const got = await Promise.all(Array.from({ length: n }, () => get(ip, 80)));
      return got.map((b) => b.trim());
    };
    /** Waits until the balancer's answers come from exactly the Running pods, each about equally. */
    const spreadOver = async (what: string) =>
      eventually(
        async () => {
          const pods = await runningPods();
          const got = await answering(pods.length * 6);
          const counts = new Map<string, number>();
          for (const b of got) counts.set(b, (counts.get(b) ?? 0) + 1);
          const same = [...counts.keys()].sort().join() === pods.join();
          // Round robin over new connections: each pod gets its share (allowing for a pick in flight).
          return same && [...counts.values()].every((c) => c >= 4) ? pods : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500, what },
      );
    assert.equal((await spreadOver('both pods answering through the load balancer')).length, 2);

    await k(['scale', 'deployment', 'web', '--replicas=3']);
    await k(['rollout', 'status', 'deployment/web', '--timeout=120s']);
    assert.equal((await spreadOver('three pods answering after scaling up')).length, 3);
    await k(['scale', 'deployment', 'web', '--replicas=1']);
    assert.equal((await spreadOver('one pod answering after scaling down')).length, 1);

    const events = (await k(['get', 'events', '--field-selector', 'involvedObject.kind=Service,involvedObject.name=web', '-o', 'jsonpath={.items[*].reason}'])).stdout;
    assert.match(events, /EnsuringLoadBalancer/);
    assert.match(events, /EnsuredLoadBalancer/);

    // Deleting the Service: the finalizer goes (kubectl waits for the object to be gone) and the listener closes.
    await k(['delete', 'svc', 'web', '--timeout=30s']);
    const gone = await cluster.kubectl(['-n', 'lb-pods', 'get', 'svc', 'web'], { allowFail: true });
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /NotFound|not found/);
    assert.equal(await get(ip, 80), 'error:ECONNREFUSED');
  });
});
