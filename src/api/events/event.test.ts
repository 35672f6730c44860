import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events } from './event.ts';

const ev = () => ({
  metadata: { name: 'web.1', namespace: 'default' },
  eventTime: '2024-01-01T00:00:00.000000Z',
  type: 'Normal',
  reason: 'Scheduled',
  action: 'Binding',
  note: 'Successfully assigned default/web to node-1 ',
  reportingController: 'default-scheduler',
  reportingInstance: 'default-scheduler-node-1',
  regarding: { kind: 'Pod', namespace: 'default', name: 'web', fieldPath: 'spec.containers{web}' },
});

test('events.k8s.io event validation', () => {
  assert.deepEqual(events.strategy.validate!(ev()), []);
  const bad: any = { ...ev(), type: 'Odd', eventTime: undefined, reportingController: '', deprecatedCount: 3, series: { count: 1 } };
  assert.deepEqual(events.strategy.validate!(bad).map((e) => e.field), [
    'series.count',
    'series.lastObservedTime',
    'eventTime',
    'type',
    'deprecatedCount',
    'reportingController',
  ]);
  const changed = { ...ev(), reason: 'Other' };
  assert.deepEqual(events.strategy.validateUpdate!(changed, ev()).map((e) => e.field), ['reason']);
});

test('events.k8s.io table row as kubectl prints events', () => {
  const now = Date.parse('2024-01-01T00:00:20Z');
  assert.deepEqual(events.table!.row(ev(), now), [
    '20s',
    'Normal',
    'Scheduled',
    'pod/web',
    'spec.containers{web}',
    'default-scheduler, default-scheduler-node-1',
    'Successfully assigned default/web to node-1',
    '20s',
    1,
    'web.1',
  ]);
  const series = { ...ev(), series: { count: 4, lastObservedTime: '2024-01-01T00:00:15.000000Z' } };
  const row = events.table!.row(series, now);
  assert.equal(row[0], '5s');
  assert.equal(row[8], 4);
  assert.equal(events.fieldSelectors!['involvedObject.name'](ev()), 'web');
});
