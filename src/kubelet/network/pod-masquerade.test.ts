import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ensurePodMasquerade, masqueradeChain, masqueradeRestore, removePodMasquerade } from './pod-masquerade.ts';

test('the rules match what the bridge plugin made per pod', () => {
  assert.equal(masqueradeChain('mizzen0'), 'MZPOD-MASQ-mizzen0');
  assert.equal(
    masqueradeRestore('mizzen0', '10.42.3.0/24'),
    '*nat\n:MZPOD-MASQ-mizzen0 - [0:0]\n-A MZPOD-MASQ-mizzen0 -d 10.42.3.0/24 -j ACCEPT\n-A MZPOD-MASQ-mizzen0 ! -d 224.0.0.0/4 -j MASQUERADE\nCOMMIT\n',
  );
  assert.throws(() => masqueradeChain('a-very-long-bridge-name'), /invalid bridge name/);
});

const iptablesSkip = process.getuid?.() !== 0 ? 'needs root (iptables)' : undefined;

test('ensure is idempotent and remove takes it all away (real iptables)', { skip: iptablesSkip }, async () => {
  // A bridge name of our own, so the host-global nat table is shared safely with other nodes.
  const bridge = `mzkbt${randomBytes(3).toString('hex')}`;
  const cidr = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}.0/24`;
  const nat = () => execFileSync('iptables', ['-w', '5', '-t', 'nat', '-S'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(masqueradeChain(bridge)));
  try {
    await ensurePodMasquerade(bridge, cidr);
    await ensurePodMasquerade(bridge, cidr);
    const rules = nat();
    assert.equal(rules.filter((l) => l.startsWith('-A POSTROUTING')).length, 1, rules.join('\n'));
    assert.ok(rules.some((l) => l.includes(`-A POSTROUTING -s ${cidr}`)), rules.join('\n'));
    assert.equal(rules.filter((l) => l.startsWith(`-A ${masqueradeChain(bridge)}`)).length, 2, rules.join('\n'));
    await removePodMasquerade(bridge);
    assert.deepEqual(nat(), []);
  } finally {
    await removePodMasquerade(bridge);
  }
});
