import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeConditions } from './pod-conditions.ts';

const t0 = '2025-01-02T03:04:00Z';
const now = new Date('2025-01-02T03:04:05Z');

test('mergeConditions: ours first, then PodScheduled, then the others; unflipped ones keep their time', () => {
  const existing = [
    { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: t0 },
    { type: 'Ready', status: 'False', lastTransitionTime: t0 },
    { type: 'Initialized', status: 'True', lastTransitionTime: t0 },
    { type: 'DisruptionTarget', status: 'True', reason: 'X' },
  ];
  const out = mergeConditions(existing, [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: 'm' }], now);
  assert.deepEqual(out, [
    { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: t0 },
    { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2025-01-02T03:04:05Z' },
    { type: 'ContainersReady', status: 'False', lastProbeTime: null, lastTransitionTime: '2025-01-02T03:04:05Z', reason: 'ContainersNotReady', message: 'm' },
    existing[0],
    existing[3],
  ]);
});

test('mergeConditions: PodScheduled True now when the pod has none', () => {
  const out = mergeConditions(undefined, [{ type: 'Ready', status: 'False' }], now);
  assert.deepEqual(out[1], { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2025-01-02T03:04:05Z' });
  assert.equal(out.length, 2);
});
