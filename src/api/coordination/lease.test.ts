import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leases } from './lease.ts';

test('lease validation and table', () => {
  const l = { metadata: { name: 'node-1', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } };
  assert.deepEqual(leases.strategy.validate!(l), []);
  const bad = { metadata: { name: 'x' }, spec: { leaseDurationSeconds: 0, leaseTransitions: -1 } };
  assert.deepEqual(leases.strategy.validate!(bad).map((e) => e.field), ['spec.leaseDurationSeconds', 'spec.leaseTransitions']);
  assert.deepEqual(leases.table!.row(l, Date.parse('2024-01-01T00:00:30Z')), ['node-1', 'node-1', '30s']);
  assert.deepEqual(leases.table!.row({ metadata: { name: 'y' } }, 0)[1], '');
});
