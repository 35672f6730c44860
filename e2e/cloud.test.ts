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
import { spawn, type ChildProcess } from 'node:child_process';
import { hasKubectl, MIZZEN_BIN, startCluster, startRealNodeCluster, type Cluster, type RealNodeCluster } from './harness.ts';
import { eventually } from './poll.ts';
import { createPodNetwork, podNetworkUnavailable, type PodNetwork } from '../src/cloud/testing/pod-network.ts';
import { localNodeSkipReason } from '../src/kubelet/testing/local-node.ts';

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

// `mizzen cloud-controller-manager` as its own process against `mizzen up --cloud-provider none`
// (which runs no cloud controllers): it takes the Lease, initialises a node registered with the
// uninitialized taint, and gives a LoadBalancer Service its address; SIGTERM ends it cleanly.
describe('mizzen cloud-controller-manager on its own', { skip: hasKubectl ? false : 'kubectl is not installed at /usr/bin/kubectl' }, () => {
  const rangeBase = `127.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
  const nodeName = `ccm-alone-${randomBytes(3).toString('hex')}`;
  let cluster: Cluster;
  let configDir: string;
  let ccm: ChildProcess;
  let ccmOutput = '';
  let ccmExit: Promise<number | null>;
  const k = (args: string[], input?: string) => cluster.kubectl(args, { input });
  const jsonpath = async (args: string[], path: string) => (await k([...args, '-o', `jsonpath=${path}`])).stdout;

  before(async () => {
    cluster = await startCluster({ readyTimeoutMs: 90_000, extraArgs: ['--cloud-provider', 'none'] });
    configDir = await mkdtemp(join(tmpdir(), 'mizzen-e2e-ccm-'));
    const cloudConfig = join(configDir, 'cloud.yaml');
    await writeFile(cloudConfig, `loadBalancer:\n  ipRange: ${rangeBase}.0/28\ninstances:\n  nodeNames: [${nodeName}]\n  instanceType: e2e-box\n  zone: zone-a\n  region: region-1\n`);
    ccm = spawn(process.execPath, [MIZZEN_BIN, 'cloud-controller-manager', '--kubeconfig', cluster.kubeconfig, '--cloud-provider', 'local', '--cloud-config', cloudConfig,
      '--leader-elect-lease-duration', '4s', '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '500ms'], { stdio: ['ignore', 'pipe', 'pipe'] });
    ccm.stdout!.setEncoding('utf8').on('data', (c: string) => (ccmOutput += c));
    ccm.stderr!.setEncoding('utf8').on('data', (c: string) => (ccmOutput += c));
    ccmExit = new Promise((r) => ccm.once('exit', (code) => r(code)));
  });

  after(async () => {
    if (ccm && ccm.exitCode === null) {
      ccm.kill('SIGKILL');
      await ccmExit;
    }
    await cluster?.stop();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  test('takes the Lease, initialises a node, serves a LoadBalancer Service, exits 0 on SIGTERM', async () => {
    const holder = await eventually(async () => (await cluster.kubectl(['-n', 'kube-system', 'get', 'lease', 'cloud-controller-manager', '-o', 'jsonpath={.spec.holderIdentity}'], { allowFail: true })).stdout || undefined,
      { timeoutMs: 30_000, intervalMs: 250, what: `the cloud-controller-manager Lease\n${ccmOutput}` });
    assert.ok(holder);
    // A node as the kubelet registers it with --cloud-provider=external.
    await k(['apply', '-f', '-'], `apiVersion: v1
kind: Node
metadata: {name: ${nodeName}}
spec:
  taints: [{key: node.cloudprovider.kubernetes.io/uninitialized, value: "true", effect: NoSchedule}]
`);
    const providerID = await eventually(async () => (await jsonpath(['get', 'node', nodeName], '{.spec.providerID}')) || undefined,
      { timeoutMs: 30_000, intervalMs: 250, what: `providerID of ${nodeName}\n${ccmOutput}` });
    assert.equal(providerID, `local://${nodeName}`);
    const labels = JSON.parse(await jsonpath(['get', 'node', nodeName], '{.metadata.labels}'));
    assert.equal(labels['node.kubernetes.io/instance-type'], 'e2e-box');
    assert.equal(labels['topology.kubernetes.io/zone'], 'zone-a');
    assert.equal(labels['topology.kubernetes.io/region'], 'region-1');
    await eventually(async () => !(await jsonpath(['get', 'node', nodeName], '{.spec.taints}')).includes('uninitialized') || undefined,
      { timeoutMs: 15_000, intervalMs: 250, what: 'the uninitialized taint removed' });
    assert.match(await jsonpath(['get', 'node', nodeName], '{.status.addresses[*].type}'), /InternalIP/);

    await k(['create', 'service', 'loadbalancer', 'alone', '--tcp=80:8080']);
    const ip = await eventually(async () => /\s(127\.\d+\.\d+\.\d+)\s/.exec((await k(['get', 'svc', 'alone', '--no-headers'])).stdout)?.[1],
      { timeoutMs: 30_000, intervalMs: 200, what: `EXTERNAL-IP of alone\n${ccmOutput}` });
    assert.equal(ip, `${rangeBase}.1`);
    // Deleting waits for the finalizer, which the manager removes once the listener is closed.
    await k(['delete', 'svc', 'alone', '--timeout=30s']);
    assert.equal(await get(ip, 80), 'error:ECONNREFUSED');

    ccm.kill('SIGTERM');
    assert.equal(await ccmExit, 0, ccmOutput);
  });
});

// The issue's own scenario on the real local node of `mizzen up` (root, containerd & co): busybox
// httpd pods answering with their name. The local load balancer forwards to pod IPs on the node's
// bridge itself, so the node runs without the host-global service proxy and cluster DNS; its
// bridge, cgroup root, node name and CIDRs are this test's own.
describe('a Deployment exposed with type LoadBalancer on the real local node', { skip: !hasKubectl ? 'needs /usr/bin/kubectl' : localNodeSkipReason(), timeout: 600_000 }, () => {
  const rangeBase = `127.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
  let cluster: RealNodeCluster;
  let configDir: string;
  const k = (args: string[], input?: string) => cluster.kubectl(['-n', 'lb-pods', ...args], { input });
  const json = async (args: string[]) => JSON.parse((await k([...args, '-o', 'json'])).stdout);
  const runningPods = async () => (await json(['get', 'pods', '-l', 'app=web'])).items.filter((p: any) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp).map((p: any) => p.metadata.name as string).sort();

  before(async () => {
    configDir = await mkdtemp(join(tmpdir(), 'mizzen-e2e-cloud-pods-'));
    const cloudConfig = join(configDir, 'cloud.yaml');
    await writeFile(cloudConfig, `loadBalancer:\n  ipRange: ${rangeBase}.0/28\n`);
    cluster = await startRealNodeCluster('lb', { extraArgs: ['--cloud-provider', 'local', '--cloud-config', cloudConfig] });
    await cluster.kubectl(['create', 'namespace', 'lb-pods']);
  });

  after(async () => {
    if (cluster) {
      // The pods go through the kubelet first (it stops and removes them), then the node's network.
      await cluster.kubectl(['delete', 'namespace', 'lb-pods', '--wait=true', '--timeout=90s'], { allowFail: true }).catch(() => {});
      await cluster.stop();
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
