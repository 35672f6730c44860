import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hpaFlagOptions } from './flags.ts';

test('the HPA flags become controller manager options', () => {
  assert.deepEqual(hpaFlagOptions({}), {});
  assert.deepEqual(
    hpaFlagOptions({
      'horizontal-pod-autoscaler-sync-period': '2s',
      'horizontal-pod-autoscaler-downscale-stabilization': '0',
      'horizontal-pod-autoscaler-tolerance': '0.05',
      'horizontal-pod-autoscaler-cpu-initialization-period': '1m',
      'horizontal-pod-autoscaler-initial-readiness-delay': '500ms',
    }),
    { hpaSyncPeriodMs: 2000, hpaDownscaleStabilizationMs: 0, hpaTolerance: 0.05, hpaCpuInitializationPeriodMs: 60_000, hpaInitialReadinessDelayMs: 500 },
  );
});

test('bad HPA flag values name the flag', () => {
  assert.throws(() => hpaFlagOptions({ 'horizontal-pod-autoscaler-sync-period': '0' }), /invalid --horizontal-pod-autoscaler-sync-period "0": must be positive/);
  assert.throws(() => hpaFlagOptions({ 'horizontal-pod-autoscaler-downscale-stabilization': 'soon' }), /invalid --horizontal-pod-autoscaler-downscale-stabilization "soon": must be a duration/);
  assert.throws(() => hpaFlagOptions({ 'horizontal-pod-autoscaler-tolerance': '-1' }), /invalid --horizontal-pod-autoscaler-tolerance "-1"/);
  assert.throws(() => hpaFlagOptions({ 'horizontal-pod-autoscaler-tolerance': '' }), /invalid --horizontal-pod-autoscaler-tolerance/);
});
