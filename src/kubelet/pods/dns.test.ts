import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from './api-types.ts';
import { kernelHostname, parseResolvConf, podDNSConfig, podHostnameAndDomain, resolvConfText } from './dns.ts';

const hostResolv = `# generated
nameserver 192.168.1.1
nameserver 192.168.1.2
search corp.example. home
options timeout:2 ndots:1
options attempts:3 timeout:4
`;

function pod(spec: Partial<Pod['spec']> = {}): Pod {
  return { metadata: { name: 'web-0', namespace: 'shop', uid: 'u1' }, spec: { containers: [{ name: 'c' }], ...spec } };
}

const base = { clusterDNS: ['10.43.0.10'], clusterDomain: 'cluster.local', resolvConfText: hostResolv };

test('parseResolvConf', () => {
  assert.deepEqual(parseResolvConf(hostResolv), {
    nameservers: ['192.168.1.1', '192.168.1.2'],
    searches: ['corp.example', 'home'],
    options: ['timeout:4', 'ndots:1', 'attempts:3'],
  });
  assert.deepEqual(parseResolvConf('search a.\nsearch b . c\n').searches, ['b', 'c']);
});

test('podDNSConfig per dnsPolicy', () => {
  const cases: [string, Partial<Pod['spec']>, object][] = [
    [
      'ClusterFirst (default)',
      {},
      { servers: ['10.43.0.10'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'home'], options: ['ndots:5'] },
    ],
    ['ClusterFirst with hostNetwork falls back to Default', { hostNetwork: true }, { servers: ['192.168.1.1', '192.168.1.2'], searches: ['corp.example', 'home'], options: ['timeout:4', 'ndots:1', 'attempts:3'] }],
    [
      'ClusterFirstWithHostNet',
      { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' },
      { servers: ['10.43.0.10'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'home'], options: ['ndots:5'] },
    ],
    ['Default', { dnsPolicy: 'Default' }, { servers: ['192.168.1.1', '192.168.1.2'], searches: ['corp.example', 'home'], options: ['timeout:4', 'ndots:1', 'attempts:3'] }],
    [
      'None with dnsConfig',
      { dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: ['a.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } },
      { servers: ['1.1.1.1'], searches: ['a.example'], options: ['ndots:2', 'edns0'] },
    ],
    [
      'ClusterFirst merged with dnsConfig',
      { dnsConfig: { nameservers: ['10.43.0.10', '9.9.9.9'], searches: ['svc.cluster.local', 'extra.example'], options: [{ name: 'ndots', value: '3' }, { name: 'single-request' }] } },
      {
        servers: ['10.43.0.10', '9.9.9.9'],
        searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'home', 'extra.example'],
        options: ['ndots:3', 'single-request'],
      },
    ],
  ];
  for (const [name, spec, want] of cases) assert.deepEqual(podDNSConfig(pod(spec), base), want, name);
});

test('podDNSConfig limits and missing cluster DNS produce upstream events', () => {
  const events: string[] = [];
  const recordEvent = (_t: string, reason: string, msg: string) => events.push(`${reason}: ${msg}`);
  const cfg = podDNSConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'], searches: ['a'.repeat(254), 'ok.example'] } }), { ...base, recordEvent });
  assert.deepEqual(cfg.servers, ['1.1.1.1', '2.2.2.2', '3.3.3.3']);
  assert.deepEqual(cfg.searches, ['ok.example']);
  assert.deepEqual(events, [
    'DNSConfigForming: Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ok.example',
    'DNSConfigForming: Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 1.1.1.1 2.2.2.2 3.3.3.3',
  ]);
  events.length = 0;
  const fallback = podDNSConfig(pod(), { ...base, clusterDNS: [], recordEvent });
  assert.deepEqual(fallback.servers, ['192.168.1.1', '192.168.1.2']);
  assert.match(events[0], /^MissingClusterDNS: pod: "web-0_shop\(u1\)". kubelet does not have ClusterDNS IP configured/);
  const localhost = podDNSConfig(pod({ dnsPolicy: 'Default' }), { clusterDNS: [], clusterDomain: 'cluster.local', resolvConfPath: '', nodeIPs: ['10.0.0.5'] });
  assert.deepEqual(localhost, { servers: ['127.0.0.1'], searches: ['.'], options: [] });
});

test('resolvConfText', () => {
  assert.equal(resolvConfText({ servers: ['10.43.0.10'], searches: ['a', 'b'], options: ['ndots:5'] }), 'search a b\nnameserver 10.43.0.10\noptions ndots:5\n');
});

test('hostname and domain', () => {
  assert.deepEqual(podHostnameAndDomain(pod(), 'cluster.local'), { hostname: 'web-0', domain: '' });
  assert.deepEqual(podHostnameAndDomain(pod({ hostname: 'db', subdomain: 'backend' }), 'cluster.local'), { hostname: 'db', domain: 'backend.shop.svc.cluster.local' });
  const long: Pod = { ...pod(), metadata: { ...pod().metadata, name: 'x'.repeat(62) + '-abc' } };
  assert.equal(podHostnameAndDomain(long, 'cluster.local').hostname, 'x'.repeat(62));
  assert.throws(() => podHostnameAndDomain(pod({ hostname: 'Bad_Name' }), 'cluster.local'), /pod Hostname "Bad_Name" is not a valid DNS label/);
  assert.equal(kernelHostname('db', 'backend.shop.svc.cluster.local', true), 'db.backend.shop.svc.cluster.local');
  assert.equal(kernelHostname('db', 'backend.shop.svc.cluster.local', false), 'db');
  assert.throws(() => kernelHostname('x'.repeat(40), 'y'.repeat(30), true), /FQDN .* is too long \(64 characters is the max, 71 characters requested\)/);
});

test('podDNSConfig: loopback host resolvers are not given to pods in their own network namespace', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-dns-loopback-'));
  try {
    const resolved = join(dir, 'resolv.conf');
    writeFileSync(resolved, 'nameserver 192.168.7.1\nnameserver 127.0.0.1\n');
    const stub = { clusterDNS: ['10.43.0.10'], clusterDomain: 'cluster.local', resolvConfText: 'nameserver 127.0.0.53\nsearch lan\n', loopbackFallbackPath: resolved };
    assert.deepEqual(podDNSConfig(pod({ dnsPolicy: 'Default' }), stub).servers, ['192.168.7.1']);
    assert.deepEqual(podDNSConfig(pod({ dnsPolicy: 'Default', hostNetwork: true }), stub).servers, ['127.0.0.53'], 'the host network reaches loopback');
    assert.deepEqual(podDNSConfig(pod({ dnsPolicy: 'Default' }), { ...stub, resolvConfText: 'nameserver 127.0.0.53\nnameserver 10.0.0.2\n' }).servers, ['10.0.0.2']);
    const events: string[] = [];
    const none = podDNSConfig(pod({ dnsPolicy: 'Default' }), { ...stub, loopbackFallbackPath: join(dir, 'missing'), recordEvent: (_t, r, m) => events.push(`${r}: ${m}`) });
    assert.deepEqual(none.servers, ['127.0.0.53']);
    assert.match(events[0], /^DNSConfigForming: the node's resolv.conf names only loopback nameservers \(127.0.0.53\)/);
    assert.deepEqual(podDNSConfig(pod(), stub).servers, ['10.43.0.10'], 'ClusterFirst is unaffected');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
