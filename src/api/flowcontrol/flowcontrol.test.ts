import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flowSchemas, priorityLevelConfigurations } from './flow-schema.ts';
import { bootstrapFlowSchemas, bootstrapPriorityLevels } from './bootstrap.ts';

const fields = (errs: { field: string }[]) => errs.map((e) => e.field);

test("upstream's bootstrap objects are valid and unchanged by defaulting", () => {
  for (const o of [...bootstrapFlowSchemas, ...bootstrapPriorityLevels]) {
    const def = o.kind === 'FlowSchema' ? flowSchemas : priorityLevelConfigurations;
    const c = structuredClone(o);
    def.strategy.defaults!(c);
    assert.deepEqual(c, o, o.metadata.name);
    assert.deepEqual(def.strategy.validate!(c), [], o.metadata.name);
  }
  const names = bootstrapFlowSchemas.map((f) => f.spec.priorityLevelConfiguration.name);
  for (const n of names) assert.ok(bootstrapPriorityLevels.some((p) => p.metadata.name === n), n);
});

test('flow schema validation and printer', () => {
  const fs: any = { metadata: { name: 'fs', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { priorityLevelConfiguration: { name: 'workload-low' }, rules: [{ subjects: [{ kind: 'User', user: { name: 'alice' } }], nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] }] } };
  flowSchemas.strategy.defaults!(fs);
  assert.equal(fs.spec.matchingPrecedence, 1000);
  assert.deepEqual(flowSchemas.strategy.validate!(fs), []);
  assert.deepEqual(flowSchemas.table!.row(fs, Date.parse('2024-01-01T00:00:04Z')), ['fs', 'workload-low', 1000, '<none>', '4s', '?']);
  const v = (spec: any) => fields(flowSchemas.strategy.validate!({ ...fs, spec: { ...fs.spec, ...spec } }));
  assert.deepEqual(v({ matchingPrecedence: 20000 }), ['spec.matchingPrecedence']);
  assert.deepEqual(v({ distinguisherMethod: { type: 'ByColor' } }), ['spec.distinguisherMethod.type']);
  assert.deepEqual(v({ rules: [{ subjects: [{ kind: 'Group' }], resourceRules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] }] }), ['spec.rules[0].subjects[0].group', 'spec.rules[0].resourceRules[0].namespaces']);
  assert.deepEqual(v({ rules: [{ subjects: [] }] }), ['spec.rules[0].subjects', 'spec.rules[0]']);
});

test('priority level validation, defaults and printer', () => {
  const pl: any = { metadata: { name: 'pl', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { type: 'Limited', limited: { limitResponse: { type: 'Queue', queuing: {} } } } };
  priorityLevelConfigurations.strategy.defaults!(pl);
  assert.deepEqual(pl.spec.limited, { nominalConcurrencyShares: 30, lendablePercent: 0, limitResponse: { type: 'Queue', queuing: { queues: 64, handSize: 8, queueLengthLimit: 50 } } });
  assert.deepEqual(priorityLevelConfigurations.strategy.validate!(pl), []);
  assert.deepEqual(priorityLevelConfigurations.table!.row(pl, Date.parse('2024-01-01T00:00:04Z')), ['pl', 'Limited', 30, 64, 8, 50, '4s']);
  const v = (spec: any, name = 'pl') => fields(priorityLevelConfigurations.strategy.validate!({ metadata: { name }, spec }));
  assert.deepEqual(v({ type: 'Exempt' }), ['spec.type']);
  assert.deepEqual(v({ type: 'Limited', limited: { nominalConcurrencyShares: 1, limitResponse: { type: 'Queue', queuing: { queues: 128, handSize: 60, queueLengthLimit: 1 } } } }), ['spec.limited.limitResponse.queuing.handSize']);
  assert.deepEqual(v({ type: 'Limited', limited: { nominalConcurrencyShares: 1, limitResponse: { type: 'Reject', queuing: { queues: 1 } } } }), ['spec.limited.limitResponse.queuing']);
  assert.deepEqual(v({ type: 'Limited' }), ['spec.limited']);
});
