import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dnsFlagValues } from './dns-flags.ts';
import { upOptions, UsageError } from './options.ts';

test('cluster DNS flag defaults follow the service range', () => {
  assert.deepEqual(dnsFlagValues({}), { clusterDNS: '10.43.0.10', clusterDomain: 'cluster.local' });
  assert.deepEqual(dnsFlagValues({}, '10.96.0.0/12'), { clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local' });
  assert.deepEqual(upOptions({}).dns, { clusterDNS: '10.43.0.10', clusterDomain: 'cluster.local' });
});

test('cluster DNS flags: values and usage errors', () => {
  assert.deepEqual(dnsFlagValues({ 'cluster-dns': '10.43.0.53', 'cluster-domain': 'Corp.Example.', 'dns-upstream': '127.0.0.53, 10.0.0.2:5353,[fd00::1]:53' }), {
    clusterDNS: '10.43.0.53',
    clusterDomain: 'corp.example',
    upstreams: [
      { address: '127.0.0.53', port: 53 },
      { address: '10.0.0.2', port: 5353 },
      { address: 'fd00::1', port: 53 },
    ],
  });
  assert.throws(() => upOptions({ 'cluster-dns': '10.44.0.10' }), (e: unknown) => e instanceof UsageError && /invalid --cluster-dns "10.44.0.10": not in the service range 10.43.0.0\/16/.test(e.message));
  assert.throws(() => upOptions({ 'cluster-dns': 'dns' }), /must be an IPv4 address/);
  assert.throws(() => upOptions({ 'cluster-domain': 'bad_domain' }), /invalid --cluster-domain "bad_domain"/);
  assert.throws(() => upOptions({ 'dns-upstream': 'resolver.example' }), /invalid --dns-upstream: "resolver.example": expected IP or IP:port/);
  assert.throws(() => upOptions({ 'dns-upstream': ',' }), /name at least one resolver/);
});
