import { test } from 'node:test';
import assert from 'node:assert/strict';
import { priorityclasses, systemPriorityClasses } from './priority-class.ts';

test('priorityclass defaults, validation, immutability and table', () => {
  const pc: any = { metadata: { name: 'high', creationTimestamp: '2024-01-01T00:00:00Z' }, value: 1000 };
  priorityclasses.strategy.defaults!(pc);
  assert.equal(pc.preemptionPolicy, 'PreemptLowerPriority');
  assert.deepEqual(priorityclasses.strategy.validate!(pc), []);
  const cases: [any, string][] = [
    [{ metadata: { name: 'huge' }, value: 1000000001 }, 'value'],
    [{ metadata: { name: 'system-mine' }, value: 1 }, 'metadata.name'],
    [{ metadata: { name: 'p' }, value: 1, preemptionPolicy: 'Always' }, 'preemptionPolicy'],
  ];
  for (const [obj, path] of cases) assert.deepEqual(priorityclasses.strategy.validate!(obj).map((e) => e.field), [path]);
  const changed = { ...pc, value: 5 };
  const errs = priorityclasses.strategy.validateUpdate!(changed, pc);
  assert.deepEqual(errs.map((e) => [e.field, e.detail]), [['value', 'Forbidden: may not be changed in an update.']]);
  assert.deepEqual(priorityclasses.table!.row(pc, Date.parse('2024-01-01T00:00:05Z')), ['high', 1000, false, '5s', 'PreemptLowerPriority']);
});

test('system priority classes pass validation', () => {
  assert.deepEqual(
    systemPriorityClasses.map((p) => [p.metadata.name, p.value]),
    [
      ['system-cluster-critical', 2000000000],
      ['system-node-critical', 2000001000],
    ],
  );
  for (const p of systemPriorityClasses) assert.deepEqual(priorityclasses.strategy.validate!(structuredClone(p)), []);
});
