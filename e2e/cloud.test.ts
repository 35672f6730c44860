// The cloud controller manager in `mizzen up` (local provider) through the real kubectl:
// - a LoadBalancer Service without selector over a hand-written EndpointSlice whose endpoints are
//   echo servers in a network namespace this test creates (stand-in pods behind a node's bridge;
//   EndpointSlices may not hold loopback addresses): EXTERNAL-IP appears in `kubectl get svc`,
//   requests reach both backends, deleting the Service closes the listener;
// - with real pods (`kubectl create deployment` + `kubectl expose --type=LoadBalancer`), which
//   needs a real node: skipped, saying so, until one registers (a node without the
//   mizzen.dev/simulated label, Ready).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasKubectl, startCluster, type Cluster } from './harness.ts';
import { eventually } from './poll.ts';
import { createPodNetwork, podNetworkUnavailable, type PodNetwork } from '../src/cloud/testing/pod-network.ts';

const RANGE_BASE = `127.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
/** Image with an HTTP server on 8080 answering with the pod's name (override for the local registry). */
const HTTP_IMAGE = process.env.MIZZEN_E2E_HTTP_IMAGE ?? 'registry.k8s.io/e2e-test-images/agnhost:2.52';

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
    cluster = await startCluster({ extraArgs: ['--cloud-provider', 'local', '--cloud-config', cloudConfig] });
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

  test('a Deployment exposed with type LoadBalancer spreads requests over its pods', async (t) => {
    // Needs a real node on this machine (the kubelet): a Ready node without the simulated label.
    const nodes = JSON.parse((await k(['get', 'nodes', '-o', 'json'])).stdout) as { items: any[] };
    const real = nodes.items.find(
      (n) => n.metadata.labels?.['mizzen.dev/simulated'] !== 'true' && n.metadata.name !== 'e2e-bridge-node' && n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
    );
    if (!real) {
      t.skip('no real node: needs the kubelet running pods on this machine (a Ready node without the mizzen.dev/simulated label)');
      return;
    }
    await k(['create', 'namespace', 'lb-pods']);
    await k(['-n', 'lb-pods', 'create', 'deployment', 'web', `--image=${HTTP_IMAGE}`, '--replicas=2', '--', '/agnhost', 'netexec', '--http-port=8080']);
    await k(['-n', 'lb-pods', 'rollout', 'status', 'deployment/web', '--timeout=120s']);
    await k(['-n', 'lb-pods', 'expose', 'deployment', 'web', '--type=LoadBalancer', '--port=80', '--target-port=8080']);
    const ip = await eventually(
      async () => /\s(127\.\d+\.\d+\.\d+)\s/.exec((await k(['-n', 'lb-pods', 'get', 'svc', 'web', '--no-headers'])).stdout)?.[1],
      { timeoutMs: 30_000, intervalMs: 200, what: 'EXTERNAL-IP of lb-pods/web' },
    );
    const names = async (n: number) => new Set(await Promise.all(Array.from({ length: n }, () => get(ip, 80, '/hostname'))));
    await eventually(async () => ((await names(12)).size === 2 ? true : undefined), { timeoutMs: 30_000, what: 'both pods answer' });
    await k(['-n', 'lb-pods', 'scale', 'deployment', 'web', '--replicas=3']);
    await k(['-n', 'lb-pods', 'rollout', 'status', 'deployment/web', '--timeout=120s']);
    await eventually(async () => ((await names(18)).size === 3 ? true : undefined), { timeoutMs: 30_000, what: 'three pods answer' });
    await k(['-n', 'lb-pods', 'delete', 'svc', 'web', '--timeout=30s']);
    assert.equal(await get(ip, 80), 'error:ECONNREFUSED');
  });
});
