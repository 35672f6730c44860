// The node services' flags on `mizzen kubelet` and `mizzen up` (the services themselves are tested
// in src/dns, src/proxy and, together on a real node, e2e/services-dns.test.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubeletOptions } from './command.ts';
import { upOptions, UsageError } from '../cli/options.ts';

const base = { kubeconfig: '/tmp/x.kubeconfig' };

test('mizzen kubelet: DNS and the proxy by default, pods told the service range\'s 10th address', () => {
  const o = kubeletOptions(base);
  assert.deepEqual(o.clusterDNS, ['10.43.0.10']);
  assert.deepEqual(o.services, { kubeconfig: undefined, dns: { upstreams: undefined }, proxy: { networkPolicy: true } });
  assert.deepEqual(kubeletOptions({ ...base, 'service-cluster-ip-range': '10.96.0.0/12' }).clusterDNS, ['10.96.0.10']);
  assert.deepEqual(kubeletOptions({ ...base, 'cluster-dns': '10.43.0.53' }).clusterDNS, ['10.43.0.53']);
});

test('mizzen kubelet: --no-cluster-dns, --no-service-proxy, --no-network-policy, --dns-upstream', () => {
  const o = kubeletOptions({ ...base, 'no-cluster-dns': true, 'no-network-policy': true, 'dns-upstream': '127.0.0.9:5353', 'services-kubeconfig': '/tmp/s.kubeconfig' });
  assert.deepEqual(o.clusterDNS, []);
  assert.equal(o.services.dns, false);
  assert.deepEqual(o.services.proxy, { networkPolicy: false });
  assert.equal(o.services.kubeconfig, '/tmp/s.kubeconfig');
  assert.equal(kubeletOptions({ ...base, 'no-service-proxy': true }).services.proxy, false);
  assert.deepEqual((kubeletOptions({ ...base, 'dns-upstream': '127.0.0.9:5353' }).services.dns as any).upstreams, [{ address: '127.0.0.9', port: 5353 }]);
  assert.throws(() => kubeletOptions({ ...base, 'dns-upstream': 'not an address' }), UsageError);
});

test('mizzen up: the node service flags, which need a local node', () => {
  const o = upOptions({ 'no-service-proxy': true, 'no-network-policy': true });
  assert.equal(o.node?.noServiceProxy, true);
  assert.equal(o.node?.noNetworkPolicy, true);
  assert.equal(o.node?.noClusterDNS, undefined);
  assert.throws(() => upOptions({ 'no-kubelet': true, 'no-cluster-dns': true }), /do not go with --no-kubelet/);
});
