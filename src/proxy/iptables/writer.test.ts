// The writer's plans: only changed chains are rewritten, gone chains deleted, and a verifying sync
// repairs what iptables-save shows missing (hand-deleted rules, chains, jumps).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleWriter, parseSave } from './writer.ts';
import type { BuiltinJump, Ruleset } from '../rules/chains.ts';
import type { Exec } from './exec.ts';

const jumps: BuiltinJump[] = [{ table: 'nat', chain: 'PREROUTING', rule: '-m comment --comment "mizzen service portals" -j MZ-SERVICES' }];

function rules(svcA: string[], extra: Record<string, string[]> = {}): Ruleset {
  return {
    nat: new Map<string, string[]>([['MZ-SERVICES', ['-d 10.43.0.1/32 -j MZ-SVC-A']], ['MZ-SVC-A', svcA], ...Object.entries(extra)]),
    filter: new Map(),
  };
}

function fakeExec(save: () => string, restored: string[]): Exec {
  return async (argv, input) => {
    if (argv[0] === 'iptables-save') return { stdout: save(), stderr: '' };
    restored.push(input ?? '');
    return { stdout: '', stderr: '' };
  };
}

test('first sync verifies and writes everything with the jumps; later syncs write only what changed', async () => {
  const restored: string[] = [];
  const w = new RuleWriter(fakeExec(() => '', restored), jumps);
  await w.write(rules(['-j DNAT --to-destination 10.42.0.1:80']));
  assert.equal(
    restored[0],
    [
      '*nat',
      ':MZ-SERVICES - [0:0]',
      ':MZ-SVC-A - [0:0]',
      '-A MZ-SERVICES -d 10.43.0.1/32 -j MZ-SVC-A',
      '-A MZ-SVC-A -j DNAT --to-destination 10.42.0.1:80',
      '-I PREROUTING 1 -m comment --comment "mizzen service portals" -j MZ-SERVICES',
      'COMMIT',
      '',
    ].join('\n'),
  );
  const s = await w.write(rules(['-j DNAT --to-destination 10.42.0.2:80']));
  assert.equal(restored[1], '*nat\n:MZ-SVC-A - [0:0]\n-A MZ-SVC-A -j DNAT --to-destination 10.42.0.2:80\nCOMMIT\n');
  assert.deepEqual(s, { written: 1, deleted: 0, lines: 4, verified: false });
  // Nothing changed: no restore at all.
  await w.write(rules(['-j DNAT --to-destination 10.42.0.2:80']));
  assert.equal(restored.length, 2);
  // A chain no longer wanted is flushed and deleted in the same batch.
  await w.write({ nat: new Map([['MZ-SERVICES', []]]), filter: new Map() });
  assert.equal(restored[2], '*nat\n:MZ-SERVICES - [0:0]\n:MZ-SVC-A - [0:0]\n-X MZ-SVC-A\nCOMMIT\n');
});

test('a verifying sync repairs hand edits: a flushed chain, a deleted jump, a leftover chain', async () => {
  const restored: string[] = [];
  let live = '';
  const w = new RuleWriter(fakeExec(() => live, restored), jumps);
  const want = rules(['-j DNAT --to-destination 10.42.0.1:80']);
  await w.write(want);
  live = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':MZ-SERVICES - [0:0]',
    ':MZ-SVC-A - [0:0]',
    ':MZ-SVC-OLD - [0:0]',
    '-A PREROUTING -j SOMEONE-ELSE',
    '-A MZ-SERVICES -d 10.43.0.1/32 -j MZ-SVC-A',
    'COMMIT',
  ].join('\n');
  await w.write(want, { verify: true });
  assert.equal(
    restored[1],
    [
      '*nat',
      ':MZ-SVC-A - [0:0]',
      ':MZ-SVC-OLD - [0:0]',
      '-A MZ-SVC-A -j DNAT --to-destination 10.42.0.1:80',
      '-I PREROUTING 1 -m comment --comment "mizzen service portals" -j MZ-SERVICES',
      '-X MZ-SVC-OLD',
      'COMMIT',
      '',
    ].join('\n'),
  );
  // Our jump below someone else's rule is moved back to the top.
  live = live.replace('-A PREROUTING -j SOMEONE-ELSE', '-A PREROUTING -j SOMEONE-ELSE\n-A PREROUTING -m comment --comment "mizzen service portals" -j MZ-SERVICES').replace(':MZ-SVC-OLD - [0:0]\n', '') + '\n-A MZ-SVC-A -j DNAT --to-destination 10.42.0.1:80';
  await w.write(want, { verify: true });
  assert.equal(
    restored[2],
    '*nat\n-D PREROUTING -m comment --comment "mizzen service portals" -j MZ-SERVICES\n-I PREROUTING 1 -m comment --comment "mizzen service portals" -j MZ-SERVICES\nCOMMIT\n',
  );
});

test('a failed restore makes the next sync rewrite everything', async () => {
  const restored: string[] = [];
  let fail = true;
  const exec: Exec = async (argv, input) => {
    if (argv[0] === 'iptables-save') return { stdout: '', stderr: '' };
    restored.push(input ?? '');
    if (fail) throw new Error('boom');
    return { stdout: '', stderr: '' };
  };
  const w = new RuleWriter(exec, []);
  await assert.rejects(w.write(rules(['-j RETURN'])));
  fail = false;
  await w.write(rules(['-j RETURN']));
  assert.equal(restored[1], restored[0]);
});

test('parseSave counts our rules per chain and keeps built-in chains verbatim', () => {
  const s = parseSave('*nat\n:PREROUTING ACCEPT [0:0]\n:MZ-A - [0:0]\n-A PREROUTING -j MZ-A\n-A MZ-A -j RETURN\n-A MZ-A -j RETURN\nCOMMIT\n*mangle\n:MZ-B - [0:0]\nCOMMIT\n');
  assert.deepEqual([...s.keys()], ['nat']);
  assert.deepEqual(s.get('nat')!.chains, new Map([['MZ-A', 2]]));
  assert.deepEqual(s.get('nat')!.builtins.get('PREROUTING'), ['-A PREROUTING -j MZ-A']);
});
