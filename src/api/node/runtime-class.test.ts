import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeClasses } from './runtime-class.ts';

test('runtime class: DNS-label handler, immutable, overhead and scheduling checked', () => {
  const rc: any = { metadata: { name: 'gvisor', creationTimestamp: '2024-01-01T00:00:00Z' }, handler: 'runsc', overhead: { podFixed: { cpu: '250m', memory: '120Mi' } }, scheduling: { nodeSelector: { sandbox: 'true' } } };
  assert.deepEqual(runtimeClasses.strategy.validate!(rc), []);
  assert.deepEqual(runtimeClasses.table!.row(rc, Date.parse('2024-01-01T00:01:00Z')), ['gvisor', 'runsc', '60s']);
  const f = (o: any) => runtimeClasses.strategy.validate!(o).map((e) => e.field);
  assert.deepEqual(f({ ...rc, handler: 'Not_A_Label' }), ['handler']);
  assert.deepEqual(f({ ...rc, handler: '' }), ['handler']);
  assert.deepEqual(f({ ...rc, overhead: { podFixed: { cpu: 'lots' } } }), ['overhead.podFixed[cpu]']);
  assert.deepEqual(f({ ...rc, scheduling: { tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] } }), ['scheduling.tolerations[0].operator']);
  assert.deepEqual(runtimeClasses.strategy.validateUpdate!({ ...rc, handler: 'kata' }, rc).map((e) => e.field), ['handler']);
});
