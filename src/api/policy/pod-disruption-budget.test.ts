import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poddisruptionbudgets as pdbs } from './pod-disruption-budget.ts';

test('pdb validation paths', () => {
  const cases: [any, string[]][] = [
    [{ minAvailable: 2, selector: { matchLabels: { app: 'a' } } }, []],
    [{ maxUnavailable: '50%' }, []],
    [{ minAvailable: 1, maxUnavailable: 1 }, ['spec']],
    [{ minAvailable: 'lots' }, ['spec.minAvailable']],
    [{ maxUnavailable: '120%' }, ['spec.maxUnavailable']],
    [{ minAvailable: -1 }, ['spec.minAvailable']],
    [{ unhealthyPodEvictionPolicy: 'Never' }, ['spec.unhealthyPodEvictionPolicy']],
  ];
  for (const [spec, want] of cases) assert.deepEqual(pdbs.strategy.validate!({ metadata: { name: 'p' }, spec }).map((e) => e.field), want, JSON.stringify(spec));
  const both = pdbs.strategy.validate!({ metadata: { name: 'p' }, spec: { minAvailable: 1, maxUnavailable: 1 } })[0];
  assert.match(both.detail, /minAvailable and maxUnavailable cannot be both set$/);
});

test('pdb create resets status; table row', () => {
  const p: any = { metadata: { name: 'p', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { minAvailable: '50%' }, status: { disruptionsAllowed: 4 } };
  pdbs.strategy.prepareForCreate!(p, {});
  assert.deepEqual(p.status, {});
  assert.deepEqual(pdbs.table!.row(p, Date.parse('2024-01-01T00:00:09Z')), ['p', '50%', 'N/A', 0, '9s']);
});
