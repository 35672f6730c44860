import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CAPACITY, parseCapacity, parseLabels } from './capacity.ts';

test('parseCapacity fills in defaults and overrides named resources', () => {
  assert.deepEqual(parseCapacity(''), DEFAULT_CAPACITY);
  assert.deepEqual(parseCapacity('cpu=32,memory=256Gi,pods=110'), { cpu: '32', memory: '256Gi', pods: '110' });
  assert.deepEqual(parseCapacity('cpu=4, nvidia.com/gpu=2,'), { cpu: '4', memory: '256Gi', pods: '110', 'nvidia.com/gpu': '2' });
  assert.deepEqual(parseCapacity('cpu=500m', {}), { cpu: '500m' });
});

test('parseCapacity rejects malformed input with clear messages', () => {
  assert.throws(() => parseCapacity('cpu'), /invalid capacity entry "cpu": expected NAME=VALUE/);
  assert.throws(() => parseCapacity('=4'), /expected NAME=VALUE/);
  assert.throws(() => parseCapacity('cpu='), /invalid capacity for "cpu": missing quantity/);
  assert.throws(() => parseCapacity('memory=lots'), /"lots" is not a quantity/);
  assert.throws(() => parseCapacity('cpu=-1'), /must not be negative/);
  assert.throws(() => parseCapacity('cpu=1,cpu=2'), /resource "cpu" given twice/);
  assert.throws(() => parseCapacity('bad name=1'), /invalid capacity resource name "bad name"/);
});

test('parseLabels validates keys and values', () => {
  assert.deepEqual(parseLabels('topology.kubernetes.io/zone=zone-a,rack=r1'), { 'topology.kubernetes.io/zone': 'zone-a', rack: 'r1' });
  assert.deepEqual(parseLabels('empty='), { empty: '' });
  assert.throws(() => parseLabels('a/b/c=1'), /invalid label key "a\/b\/c"/);
  assert.throws(() => parseLabels('k=not valid'), /invalid label value "not valid" for "k"/);
});
