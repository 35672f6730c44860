import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PodIPAllocator, derivedPodCIDR, formatIPv4, nodeInternalIP, parseCIDR, parseIPv4 } from './addresses.ts';

test('IPv4 and CIDR parsing round-trips and normalises the network address', () => {
  assert.equal(formatIPv4(parseIPv4('10.244.3.7')), '10.244.3.7');
  assert.deepEqual(parseCIDR('10.244.3.7/24'), { base: parseIPv4('10.244.3.0'), prefix: 24, size: 256 });
  assert.throws(() => parseIPv4('10.0.0.256'), /invalid IPv4/);
  assert.throws(() => parseCIDR('10.0.0.0'), /missing \/prefix/);
  assert.throws(() => parseCIDR('10.0.0.0/33'), /bad prefix/);
});

test('derived pod ranges are consecutive /24s from the base, continuing past it', () => {
  assert.equal(derivedPodCIDR(0), '10.244.0.0/24');
  assert.equal(derivedPodCIDR(7), '10.244.7.0/24');
  assert.equal(derivedPodCIDR(256), '10.245.0.0/24');
  assert.equal(derivedPodCIDR(3, '192.168.0.0/16'), '192.168.3.0/24');
});

test('node InternalIPs are distinct, never .0 or .255, and inside 172.16.0.0/12', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const ip = nodeInternalIP(i);
    assert.ok(!seen.has(ip), `duplicate ${ip}`);
    seen.add(ip);
    const last = Number(ip.split('.')[3]);
    assert.ok(last !== 0 && last !== 255, ip);
    const n = parseIPv4(ip);
    assert.ok(n >= parseIPv4('172.16.0.0') && n <= parseIPv4('172.31.255.255'), ip);
  }
  assert.equal(nodeInternalIP(0), '172.31.0.1');
});

test('the pod IP allocator skips network, gateway and broadcast, and does not reuse at once', () => {
  const a = new PodIPAllocator('10.244.1.0/29'); // 8 addresses: .2 … .6 usable
  assert.equal(a.capacity(), 5);
  const got = [a.allocate(), a.allocate(), a.allocate()];
  assert.deepEqual(got, ['10.244.1.2', '10.244.1.3', '10.244.1.4']);
  a.release('10.244.1.2');
  assert.equal(a.allocate(), '10.244.1.5');
  assert.equal(a.allocate(), '10.244.1.6');
  assert.equal(a.allocate(), '10.244.1.2'); // wraps to the released one
  assert.throws(() => a.allocate(), /no free pod IPs left in 10.244.1.0\/29/);
  assert.equal(a.reserve('10.9.9.9'), false);
  assert.equal(a.contains('10.244.1.7'), true);
});

test('reserved addresses (adopted pods) are not handed out', () => {
  const a = new PodIPAllocator('10.244.0.0/24');
  assert.equal(a.reserve('10.244.0.2'), true);
  assert.equal(a.allocate(), '10.244.0.3');
  assert.equal(a.inUse(), 2);
});
