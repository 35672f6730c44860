// Cluster DNS against a real API server, asked by real DNS clients (Node's c-ares resolver and
// dig): every record type, forwarding to a stub upstream on loopback, SERVFAIL when it is down,
// the kube-dns Service and this node's endpoint.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Resolver } from 'node:dns/promises';
import type { KObject } from '../api/types.ts';
import { ApiClient } from '../client/api-client.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { poll } from '../testing/poll.ts';
import { startNodeDNS, type NodeDNS } from './node-dns.ts';
import { randomLoopback, startStubUpstream, type StubUpstream } from './testing.ts';

const run = promisify(execFile);
let api: TestApiServer;
let client: ApiClient;
let dns: NodeDNS;
let stub: StubUpstream;
let server: string;
const addr = randomLoopback();

const svcRef = (ns: string) => ({ version: 'v1', resource: 'services', namespace: ns });
const sliceRef = (ns: string) => ({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: ns });

function resolver(): Resolver {
  const r = new Resolver({ timeout: 3000, tries: 1 });
  r.setServers([server]);
  return r;
}

async function dig(...args: string[]): Promise<string> {
  const [host, port] = [dns.bound[0].address, String(dns.bound[0].port)];
  const { stdout } = await run('dig', [`@${host}`, '-p', port, '+time=3', '+tries=1', ...args]);
  return stdout;
}

async function errCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return (e as { code: string }).code;
  }
}

before(async () => {
  api = await startTestApiServer({ name: 'dns' });
  client = new ApiClient({ ...loadKubeconfig(api.kubeconfig), maxSockets: 64 });
  stub = await startStubUpstream(randomLoopback(), { 'example.test': '192.0.2.10', 'target.example.test': '192.0.2.11' });
  await client.create({ version: 'v1', resource: 'namespaces' }, { metadata: { name: 'shop' } });
  // A ClusterIP Service with named ports, a dual-stack-free headless one with endpoints, ExternalNames.
  await client.create(svcRef('shop'), {
    metadata: { name: 'web' },
    spec: { clusterIP: '10.43.7.7', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }, { name: 'admin', port: 9000 }] },
  });
  await client.create(svcRef('shop'), { metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] } });
  await client.create(sliceRef('shop'), {
    metadata: { name: 'db-abc', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.42.0.20'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['10.42.0.21'], hostname: 'db-1', conditions: { ready: true } },
      { addresses: ['10.42.0.22'], conditions: { ready: true } },
      { addresses: ['10.42.0.23'], hostname: 'db-3', conditions: { ready: false } },
    ],
  });
  await client.create(sliceRef('shop'), {
    metadata: { name: 'db-v6', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv6',
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    endpoints: [{ addresses: ['fd00:10:42::20'], hostname: 'db-0', conditions: { ready: true } }],
  });
  await client.create(svcRef('shop'), { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'target.example.test' } });
  await client.create(svcRef('shop'), { metadata: { name: 'alias' }, spec: { type: 'ExternalName', externalName: 'web.shop.svc.cluster.local' } });
  // A headless Service big enough that its answer does not fit a 512-byte UDP reply.
  await client.create(svcRef('shop'), { metadata: { name: 'big' }, spec: { clusterIP: 'None', selector: { app: 'big' }, ports: [{ name: 'x', port: 1 }] } });
  await client.create(sliceRef('shop'), {
    metadata: { name: 'big-1', labels: { 'kubernetes.io/service-name': 'big' } },
    addressType: 'IPv4',
    ports: [{ name: 'x', port: 1, protocol: 'TCP' }],
    endpoints: Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.42.1.${i + 1}`], conditions: { ready: true } })),
  });
  const pod = await client.create<KObject>({ version: 'v1', resource: 'pods', namespace: 'shop' }, { metadata: { name: 'lone' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  await client.updateStatus({ version: 'v1', resource: 'pods', namespace: 'shop', name: 'lone' }, { ...pod, status: { phase: 'Running', podIP: '10.42.0.99', podIPs: [{ ip: '10.42.0.99' }] } });

  dns = await startNodeDNS({
    client,
    nodeName: 'node-a',
    listen: [{ address: addr, port: 0 }],
    upstreams: [{ address: stub.address, port: stub.port }],
    forwardTimeoutMs: 600,
    // Only published (the pod bridge's gateway on a real node); no test traffic goes there.
    kubeDNS: { endpointAddress: '10.42.0.1', clusterIP: '10.43.0.10', ensureService: true },
  });
  server = `${dns.bound[0].address}:${dns.bound[0].port}`;
});

after(async () => {
  await dns?.close();
  await stub?.close();
  client?.close();
  await api?.close();
});

test('A for a ClusterIP Service; NODATA for AAAA; SRV for named ports with the target in additionals', async () => {
  const r = resolver();
  assert.deepEqual(await r.resolve4('web.shop.svc.cluster.local'), ['10.43.7.7']);
  assert.deepEqual(await r.resolve4('WEB.Shop.svc.cluster.local.'), ['10.43.7.7']);
  assert.equal(await errCode(r.resolve6('web.shop.svc.cluster.local')), 'ENODATA');
  assert.deepEqual(await r.resolveSrv('_http._tcp.web.shop.svc.cluster.local'), [{ name: 'web.shop.svc.cluster.local', port: 80, priority: 0, weight: 100 }]);
  assert.deepEqual(await r.resolveSrv('_dns._udp.web.shop.svc.cluster.local'), [{ name: 'web.shop.svc.cluster.local', port: 53, priority: 0, weight: 100 }]);
  const all = await r.resolveSrv('web.shop.svc.cluster.local');
  assert.deepEqual(all.map((s) => s.port).sort(), [53, 80, 9000]);
  const out = await dig('_http._tcp.web.shop.svc.cluster.local', 'SRV');
  assert.match(out, /ADDITIONAL SECTION:\nweb\.shop\.svc\.cluster\.local\.\s+5\s+IN\s+A\s+10\.43\.7\.7/);
  assert.match(out, /flags: qr aa rd ra/);
});

test('headless Service: ready endpoint IPs, hostnames, SRV per endpoint, PTR to the endpoint name', async () => {
  const r = resolver();
  assert.deepEqual((await r.resolve4('db.shop.svc.cluster.local')).sort(), ['10.42.0.20', '10.42.0.21', '10.42.0.22']);
  assert.deepEqual(await r.resolve4('db-0.db.shop.svc.cluster.local'), ['10.42.0.20']);
  assert.deepEqual(await r.resolve4('10-42-0-22.db.shop.svc.cluster.local'), ['10.42.0.22']);
  assert.equal(await errCode(r.resolve4('db-3.db.shop.svc.cluster.local')), 'ENOTFOUND', 'a not-ready endpoint has no name');
  const srv = await r.resolveSrv('_pg._tcp.db.shop.svc.cluster.local');
  assert.deepEqual(srv.map((s) => `${s.name}:${s.port}`).sort(), ['10-42-0-22.db.shop.svc.cluster.local:5432', 'db-0.db.shop.svc.cluster.local:5432', 'db-1.db.shop.svc.cluster.local:5432']);
  assert.deepEqual(await r.reverse('10.42.0.21'), ['db-1.db.shop.svc.cluster.local']);
  // The IPv6 slice: AAAA at the Service and at the same hostname, PTR under ip6.arpa.
  assert.deepEqual(await r.resolve6('db.shop.svc.cluster.local'), ['fd00:10:42::20']);
  assert.deepEqual(await r.resolve6('db-0.db.shop.svc.cluster.local'), ['fd00:10:42::20']);
  assert.deepEqual(await r.reverse('fd00:10:42::20'), ['db-0.db.shop.svc.cluster.local']);
});

test('a pod joins its headless Service by hostname/subdomain as the endpoint changes', async () => {
  const r = resolver();
  await client.create(sliceRef('shop'), {
    metadata: { name: 'db-def', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.42.0.30'], hostname: 'db-4', conditions: { ready: true } }],
  });
  await poll(() => r.resolve4('db-4.db.shop.svc.cluster.local'), { what: 'db-4 to resolve', timeoutMs: 5000 });
  await client.delete({ ...sliceRef('shop'), name: 'db-def' });
  await poll(async () => (await errCode(r.resolve4('db-4.db.shop.svc.cluster.local'))) === 'ENOTFOUND', { what: 'db-4 to be gone', timeoutMs: 5000 });
});

test('pod records, PTR for Service and pod IPs', async () => {
  const r = resolver();
  assert.deepEqual(await r.resolve4('10-42-0-99.shop.pod.cluster.local'), ['10.42.0.99']);
  assert.deepEqual(await r.resolve4('10-1-2-3.other.pod.cluster.local'), ['10.1.2.3'], 'insecure mode: any address');
  assert.deepEqual(await r.resolve6('fd00-10-42--7.shop.pod.cluster.local'), ['fd00:10:42::7']);
  assert.equal(await errCode(r.resolve4('not-an-ip.shop.pod.cluster.local')), 'ENOTFOUND');
  assert.deepEqual(await r.reverse('10.43.7.7'), ['web.shop.svc.cluster.local']);
  assert.deepEqual(await r.reverse('10.42.0.99'), ['10-42-0-99.shop.pod.cluster.local']);
});

test('ExternalName: CNAME, chased upstream or inside the cluster', async () => {
  const r = resolver();
  assert.deepEqual(await r.resolveCname('ext.shop.svc.cluster.local'), ['target.example.test']);
  assert.deepEqual(await r.resolve4('ext.shop.svc.cluster.local'), ['192.0.2.11']);
  assert.deepEqual(await r.resolve4('alias.shop.svc.cluster.local'), ['10.43.7.7']);
  assert.match(await dig('ext.shop.svc.cluster.local', 'A'), /ext\.shop\.svc\.cluster\.local\.\s+5\s+IN\s+CNAME\s+target\.example\.test\.\n(target\.example\.test\.\s+60\s+IN\s+A\s+192\.0\.2\.11)/);
});

test('NXDOMAIN with the SOA for missing names in the cluster domain; zone apex SOA; dns-version', async () => {
  const r = resolver();
  assert.equal(await errCode(r.resolve4('nope.shop.svc.cluster.local')), 'ENOTFOUND');
  assert.equal(await errCode(r.resolve4('web.nons.svc.cluster.local')), 'ENOTFOUND');
  assert.equal(await errCode(r.resolve4('google.com.shop.svc.cluster.local')), 'ENOTFOUND');
  const out = await dig('nope.shop.svc.cluster.local', 'A');
  assert.match(out, /status: NXDOMAIN/);
  assert.match(out, /AUTHORITY SECTION:\ncluster\.local\.\s+5\s+IN\s+SOA\s+ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 5/);
  const soa = await r.resolveSoa('cluster.local');
  assert.equal(soa.nsname, 'ns.dns.cluster.local');
  assert.deepEqual(await r.resolveTxt('dns-version.cluster.local'), [['1.1.0']]);
  assert.match(await dig('shop.svc.cluster.local', 'A'), /status: NOERROR/);
});

test('TCP answers, and a UDP answer too big is truncated so the client retries over TCP', async () => {
  assert.match(await dig('+tcp', 'web.shop.svc.cluster.local', 'A', '+short'), /^10\.43\.7\.7$/m);
  const udp = await dig('+ignore', '+noedns', 'big.shop.svc.cluster.local', 'A');
  assert.match(udp, /flags: qr aa tc rd ra; QUERY: 1, ANSWER: 0/);
  const full = await dig('+noedns', 'big.shop.svc.cluster.local', 'A', '+short');
  assert.equal(full.trim().split('\n').length, 60);
  assert.equal((await resolver().resolve4('big.shop.svc.cluster.local')).length, 60);
});

test('names outside the cluster go to the upstream (UDP and TCP); SERVFAIL when it is down', async () => {
  const r = resolver();
  assert.deepEqual(await r.resolve4('example.test'), ['192.0.2.10']);
  assert.match(await dig('+tcp', 'example.test', 'A', '+short'), /^192\.0\.2\.10$/m);
  assert.equal(await errCode(r.resolve4('missing.example.test')), 'ENOTFOUND');
  assert.equal(await errCode(r.reverse('192.0.2.77')), 'ENOTFOUND', 'unknown addresses fall through to the upstream');
  assert.ok(stub.asked.includes('example.test A'));
  await stub.close();
  const t0 = Date.now();
  assert.equal(await errCode(r.resolve4('example.test')), 'ESERVFAIL');
  assert.ok(Date.now() - t0 < 2500, 'SERVFAIL comes within the forward deadline');
  assert.match(await dig('+tcp', 'example.test', 'A'), /status: SERVFAIL/);
  // Cluster names do not depend on the upstream.
  assert.deepEqual(await r.resolve4('web.shop.svc.cluster.local'), ['10.43.7.7']);
});

test('the kube-dns Service and this node\'s endpoint for it', async () => {
  const svc = await client.get<any>({ ...svcRef('kube-system'), name: 'kube-dns' });
  assert.equal(svc.spec.clusterIP, '10.43.0.10');
  assert.equal(svc.spec.internalTrafficPolicy, 'Local');
  assert.deepEqual(svc.spec.ports.map((p: any) => `${p.name}/${p.port}/${p.protocol}`), ['dns/53/UDP', 'dns-tcp/53/TCP']);
  const slice = await client.get<any>({ ...sliceRef('kube-system'), name: 'kube-dns-node-a' });
  assert.deepEqual(slice.endpoints, [{ addresses: ['10.42.0.1'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-a' }]);
  assert.deepEqual(slice.ports.map((p: any) => p.port), [dns.bound[0].port, dns.bound[0].port]);
  assert.deepEqual(await resolver().resolve4('kube-dns.kube-system.svc.cluster.local'), ['10.43.0.10']);
  const stats = await dns.stats();
  assert.ok(stats.queries > 0 && stats.services >= 6, JSON.stringify(stats));
});
