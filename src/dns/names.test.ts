import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashedIP, ipFromDashed, ipFromReverseName, normalizeIPv6, reverseName } from './names.ts';

test('dashed pod-name labels, both ways', () => {
  assert.equal(dashedIP('10.42.0.7'), '10-42-0-7');
  assert.equal(dashedIP('FD00::7'), 'fd00--7');
  assert.equal(ipFromDashed('10-42-0-7'), '10.42.0.7');
  assert.equal(ipFromDashed('fd00--7'), 'fd00::7');
  assert.equal(ipFromDashed('fd00-0-0-0-0-0-0-7'), 'fd00::7');
  for (const bad of ['10-42-0', '10-42-0-256', 'web', '1-2-3-4-5', '']) assert.equal(ipFromDashed(bad), undefined, bad);
});

test('reverse names, both ways', () => {
  assert.equal(reverseName('10.43.0.10'), '10.0.43.10.in-addr.arpa');
  assert.equal(ipFromReverseName('10.0.43.10.in-addr.arpa'), '10.43.0.10');
  const v6 = reverseName('fd00:10:42::20');
  assert.equal(v6, '0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.4.0.0.0.1.0.0.0.0.d.f.ip6.arpa');
  assert.equal(ipFromReverseName(v6), 'fd00:10:42::20');
  for (const bad of ['0.43.10.in-addr.arpa', '01.0.43.10.in-addr.arpa', '300.0.43.10.in-addr.arpa', 'x.ip6.arpa', 'in-addr.arpa']) assert.equal(ipFromReverseName(bad), undefined, bad);
  assert.equal(normalizeIPv6('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(normalizeIPv6('::ffff:10.0.0.1'), '::ffff:a00:1');
});
