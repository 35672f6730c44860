// Services, cluster DNS and NetworkPolicy on the real local node of `mizzen up` (root, containerd
// & co), driven by the real kubectl and seen FROM INSIDE A POD (busybox wget/nslookup): a Service
// answers by name and spreads over its endpoints; headless and StatefulSet pod names resolve;
// a NodePort answers on 127.0.0.1 from the host; a deny policy blocks and a matching label lets
// through; a Service scaled to zero refuses at once; a missing cluster name is NXDOMAIN; a name
// outside the cluster goes to a stub upstream on 127.0.0.x that this test runs.
//
// Traffic goes only to 127.0.0.0/8, pods on this node and ClusterIPs the proxy programmed.
// The service proxy's MZ- chains live in the host's tables: one such test per machine at a time
// (other suites' nodes run with --no-service-proxy). Host-global names (node, bridge, cgroup root,
// CIDRs, ports, the stub's 127.0.0.x) are the test's own; after() removes the chains too.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { hasKubectl, startRealNodeCluster, type RealNodeCluster } from './harness.ts';
import { localNodeSkipReason } from '../src/kubelet/testing/local-node.ts';
import { cleanupServiceProxy } from '../src/proxy/proxy.ts';
import { poll } from '../src/testing/poll.ts';
import { httpGet } from '../src/testing/http-get.ts';

const skip = !hasKubectl ? 'needs /usr/bin/kubectl' : localNodeSkipReason();
const OUTSIDE_NAME = 'outside.netwire-test.example';
const OUTSIDE_ADDR = '203.0.113.77'; // only ever an answer, never contacted

/** A stub upstream resolver on 127.0.0.x: one fixed A record, NXDOMAIN for the rest. */
async function startStubUpstream(): Promise<{ address: string; port: number; asked: string[]; close(): void }> {
  const address = `127.0.0.${2 + Math.floor(Math.random() * 250)}`;
  const sock = dgram.createSocket('udp4');
  const asked: string[] = [];
  sock.on('message', (msg, rinfo) => {
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const question = q.questions?.[0];
    if (!question) return;
    asked.push(`${question.name} ${question.type}`);
    const hit = question.name.toLowerCase() === OUTSIDE_NAME && question.type === 'A';
    const reply = dnsPacket.encode({
      id: q.id,
      type: 'response',
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (hit || question.name.toLowerCase() === OUTSIDE_NAME ? 0 : 3),
      questions: q.questions,
      answers: hit ? [{ type: 'A', name: question.name, ttl: 30, data: OUTSIDE_ADDR }] : [],
    });
    sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  return { address, port: sock.address().port, asked, close: () => sock.close() };
}

describe('Services, cluster DNS and NetworkPolicy from inside a pod on the local node', { skip, timeout: 900_000 }, () => {
  let c: RealNodeCluster;
  let stub: Awaited<ReturnType<typeof startStubUpstream>>;
  let clusterDNS = '';

  const kubectl = (args: string[], input?: string) => c.kubectl(args, { input });
  const json = async (args: string[]) => JSON.parse((await kubectl([...args, '-o', 'json'])).stdout);
  /** A shell command in the client pod; never throws (the exit code is in the output). */
  const inClient = async (script: string) => {
    const r = await c.kubectl(['exec', 'client', '--', 'sh', '-c', `${script}; echo "rc=$?"`], { allowFail: true });
    return `${r.stdout}${r.stderr}`;
  };
  const podIPs = async (selector: string): Promise<string[]> => (await json(['get', 'pods', '-l', selector])).items.filter((p: any) => p.status?.phase === 'Running' && p.status?.podIP).map((p: any) => p.status.podIP as string);
  const runningPod = (name: string) =>
    poll(async () => (await json(['get', 'pod', name])).status?.phase === 'Running', { what: `pod ${name} Running`, timeoutMs: 120_000, intervalMs: 500 });

  before(async () => {
    stub = await startStubUpstream();
    c = await startRealNodeCluster('nw', { services: true, extraArgs: ['--dns-upstream', `${stub.address}:${stub.port}`] });
    clusterDNS = c.cidrs.serviceCIDR.replace(/\.0\/\d+$/, '.10');
    await kubectl(['run', 'client', '--image=busybox:1.35', '--restart=Never', '--', 'sleep', '3600']);
    const web = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: httpd
        image: busybox:1.35
        command: [sh, -c, 'mkdir -p /www && echo "$HOSTNAME" > /www/index.html && exec httpd -f -p 8080 -h /www']
        ports: [{containerPort: 8080, name: http}]
`;
    await kubectl(['apply', '-f', '-'], web);
    await kubectl(['expose', 'deployment', 'web', '--port', '80', '--target-port', '8080']);
    await runningPod('client');
    await poll(async () => (await podIPs('app=web')).length === 3, { what: '3 Running web pods', timeoutMs: 120_000, intervalMs: 1000 });
  });

  after(async () => {
    stub?.close();
    if (!c) return;
    // The pods go through the kubelet first (it unmounts and removes them); `up` stops without
    // --cleanup, leaving containers, the proxy's rules (Services answer across restarts) and the network.
    await kubectl(['delete', 'deployment,statefulset,pod,service,networkpolicy', '--all', '--wait=true', '--timeout=90s']).catch(() => {});
    await c.stop({ beforeNodeCleanup: () => cleanupServiceProxy({ podBridge: c.bridge, serviceCIDR: c.cidrs.serviceCIDR, log: () => {} }) });
  });

  test('the pod\'s resolv.conf points at the kube-dns ClusterIP with the cluster search list', async () => {
    const out = await inClient('cat /etc/resolv.conf');
    assert.match(out, new RegExp(`nameserver ${clusterDNS.replace(/\./g, '\\.')}`), out);
    assert.match(out, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/, out);
    assert.match(out, /ndots:5/, out);
    const svc = await json(['get', 'service', '-n', 'kube-system', 'kube-dns']);
    assert.equal(svc.spec.clusterIP, clusterDNS);
  });

  test('a Service answers by name and spreads over its endpoints', async () => {
    const names = new Set<string>((await json(['get', 'pods', '-l', 'app=web'])).items.map((p: any) => p.metadata.name as string));
    const out = await poll(
      async () => {
        const o = await inClient('for i in $(seq 24); do timeout 5 wget -qO- http://web; done');
        return o.includes('rc=0') && [...names].filter((n) => o.includes(n)).length >= 2 ? o : '';
      },
      { what: 'web answering by name from two or more pods', timeoutMs: 60_000, intervalMs: 1000 },
    );
    const seen = [...names].filter((n) => out.includes(n));
    assert.ok(seen.length >= 2, `answered by ${seen.join(', ')}:\n${out}`);
    const fq = await inClient('timeout 5 wget -qO- http://web.default.svc.cluster.local');
    assert.ok([...names].some((n) => fq.includes(n)), fq);
  });

  test('a headless Service resolves to its pods, a StatefulSet pod by its name', async () => {
    await kubectl(['apply', '-f', '-'], `apiVersion: v1
kind: Service
metadata: {name: web-headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 8080}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: c, image: 'busybox:1.35', command: [sleep, '3600']}]
`);
    const ips = await podIPs('app=web');
    await poll(
      async () => {
        const o = await inClient('nslookup web-headless.default.svc.cluster.local');
        return ips.every((ip) => o.includes(ip)) ? o : '';
      },
      { what: `web-headless resolving to ${ips.join(', ')}`, timeoutMs: 30_000, intervalMs: 1000 },
    );
    await poll(async () => (await podIPs('app=db')).length === 2, { what: '2 Running db pods', timeoutMs: 120_000, intervalMs: 1000 });
    const db1 = (await json(['get', 'pod', 'db-1'])).status.podIP as string;
    await poll(
      async () => {
        const o = await inClient('nslookup db-1.db.default.svc.cluster.local');
        return o.includes(db1) ? o : '';
      },
      { what: `db-1.db resolving to ${db1}`, timeoutMs: 30_000, intervalMs: 1000 },
    );
  });

  test('a NodePort answers on 127.0.0.1 from the host', async () => {
    await kubectl(['expose', 'deployment', 'web', '--name', 'web-np', '--type', 'NodePort', '--port', '80', '--target-port', '8080']);
    const port = (await json(['get', 'service', 'web-np'])).spec.ports[0].nodePort as number;
    const r = await poll(async () => httpGet(`http://127.0.0.1:${port}/`, 5000).catch(() => ({ status: 0, body: '' })), { done: (x) => x.status === 200, what: `NodePort ${port} on 127.0.0.1`, timeoutMs: 15_000, intervalMs: 300 });
    assert.equal(r.status, 200);
    assert.match(r.body, /^web-/);
  });

  test('DNS: a missing cluster name is NXDOMAIN; a name outside the cluster is asked of the upstream', async () => {
    const missing = await inClient('nslookup nothing-here.default.svc.cluster.local.');
    assert.match(missing, /NXDOMAIN/, missing);
    assert.doesNotMatch(missing, /rc=0/, missing);
    const outside = await inClient(`nslookup ${OUTSIDE_NAME}.`);
    assert.match(outside, new RegExp(OUTSIDE_ADDR.replace(/\./g, '\\.')), outside);
    assert.ok(stub.asked.some((q) => q.startsWith(OUTSIDE_NAME)), `stub asked: ${stub.asked.join(', ')}`);
    assert.ok(!stub.asked.some((q) => q.includes('cluster.local')), `cluster names must not go upstream: ${stub.asked.join(', ')}`);
  });

  test('a deny NetworkPolicy blocks; a matching label lets through', async () => {
    await kubectl(['apply', '-f', '-'], `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-allow-labelled}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {access: 'true'}}}]
`);
    const blocked = await poll(
      async () => {
        const o = await inClient('timeout 3 wget -qO- http://web');
        return o.includes('rc=0') ? '' : o;
      },
      { what: 'web blocked for the unlabelled client', timeoutMs: 15_000, intervalMs: 500 },
    );
    assert.doesNotMatch(blocked, /^web-/m);
    await kubectl(['label', 'pod', 'client', 'access=true']);
    const ok = await poll(
      async () => {
        const o = await inClient('timeout 3 wget -qO- http://web');
        return o.includes('rc=0') ? o : '';
      },
      { what: 'web reachable once the client carries access=true', timeoutMs: 15_000, intervalMs: 500 },
    );
    assert.match(ok, /web-/);
    await kubectl(['delete', 'networkpolicy', 'web-allow-labelled']);
  });

  test('a Service scaled to zero refuses at once', async () => {
    await kubectl(['scale', 'deployment', 'web', '--replicas=0']);
    const out = await poll(
      async () => {
        const o = await inClient('s=$(date +%s); timeout 5 wget -qO- http://web; r=$?; echo "took=$(( $(date +%s) - s ))"; (exit $r)');
        return /refused/i.test(o) ? o : '';
      },
      { what: 'connection refused from web with no endpoints', timeoutMs: 60_000, intervalMs: 1000 },
    );
    const took = Number(/took=(\d+)/.exec(out)?.[1] ?? '99');
    assert.ok(took <= 1, `refused after ${took}s, not at once:\n${out}`);
  });
});
