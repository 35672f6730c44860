import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderCniConflist, writeCniConfig, conflistFile } from './cni-config.ts';
import { cidrsOverlap, nthAddress, parseCidr } from './cidr.ts';

test('the conflist: bridge with gateway, masquerade and hairpin, host-local from the podCIDR, portmap with SNAT', () => {
  const conf = renderCniConflist({ podCIDR: '10.42.3.0/24', bridge: 'mzt1', networkName: 'net1', ipamDataDir: '/data/cni/ipam', mtu: 1400 });
  assert.deepEqual(conf, {
    cniVersion: '1.0.0',
    name: 'net1',
    plugins: [
      {
        type: 'bridge',
        bridge: 'mzt1',
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        mtu: 1400,
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.42.3.0/24' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: '/data/cni/ipam' },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  });
  assert.equal((renderCniConflist({ podCIDR: '10.42.3.7/24', ipamDataDir: '/x' }) as { plugins: { ipam: { ranges: { subnet: string }[][] } }[] }).plugins[0]!.ipam.ranges[0]![0]!.subnet, '10.42.3.0/24', 'host bits dropped');
  assert.throws(() => renderCniConflist({ podCIDR: '10.42.3.0/24', bridge: 'a-very-long-bridge-name', ipamDataDir: '/x' }), /invalid bridge name/);
  assert.throws(() => renderCniConflist({ podCIDR: '10.42.3.0', ipamDataDir: '/x' }), /invalid IPv4 CIDR/);
});

test('writeCniConfig replaces other configs so containerd loads ours', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-cni-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, '05-other.conflist'), '{}');
  writeFileSync(join(dir, 'README'), 'kept');
  const f = await writeCniConfig(dir, { podCIDR: '10.9.0.0/24', networkName: 'n', ipamDataDir: join(dir, 'ipam') });
  assert.equal(f, join(dir, conflistFile('n')));
  assert.deepEqual(readdirSync(dir).sort(), ['10-n.conflist', 'README', 'ipam']);
  assert.equal(JSON.parse(readFileSync(f, 'utf8')).name, 'n');
});

test('CIDR helpers', () => {
  assert.deepEqual(parseCidr('10.42.1.9/16'), { base: '10.42.0.0', prefix: 16, first: 0x0a2a0000, last: 0x0a2affff });
  assert.ok(cidrsOverlap('10.42.0.0/16', '10.42.7.0/24'));
  assert.ok(!cidrsOverlap('10.42.0.0/16', '10.43.0.0/16'));
  assert.equal(nthAddress('10.42.7.0/24', 1), '10.42.7.1');
  assert.throws(() => nthAddress('10.42.7.0/30', 4), /no address number 4/);
  for (const bad of ['10.0.0.0/33', '10.0.0/8', 'x/8', '256.0.0.0/8']) assert.throws(() => parseCidr(bad), /invalid IPv4 CIDR/, bad);
});
