import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScalingHistory, type Behavior } from './behavior.ts';

const up4or100: Behavior['scaleUp'] = { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] };
const down100: Behavior['scaleDown'] = { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

test('without behavior: the highest recommendation of the downscale window wins; scale-up is capped at max(2×, 4)', () => {
  const h = new ScalingHistory(300_000);
  const args = { key: 'd/h', min: 1, max: 20 };
  assert.deepEqual(
    [h.normalize({ ...args, current: 2, desired: 10, now: 0 }).replicas, h.normalize({ ...args, current: 4, desired: 2, now: 60_000 }).replicas, h.normalize({ ...args, current: 4, desired: 2, now: 400_000 }).replicas],
    // 2 → 4 (the scale-up cap), then held at the window's 10, capped at 2 × 4; after the window, 2.
    [4, 8, 2],
  );
  const out = h.normalize({ key: 'x', min: 1, max: 3, current: 2, desired: 5, now: 0 });
  assert.equal(out.replicas, 3);
  assert.equal(out.limitReason, 'TooManyReplicas');
  assert.equal(out.limited, true);
});

test('with behavior: scale-down stabilization window, then the rate policies', () => {
  const h = new ScalingHistory(300_000);
  const behavior: Behavior = { scaleUp: up4or100, scaleDown: { ...down100, stabilizationWindowSeconds: 30 } };
  const a = { key: 'd/h', min: 1, max: 50, behavior };
  // Up from 1: Pods policy allows 1+4 = 5, Percent allows 2; Max picks 5.
  let r = h.normalize({ ...a, current: 1, desired: 10, now: 0 });
  assert.equal(r.replicas, 5);
  assert.equal(r.limitReason, 'ScaleUpLimit');
  h.recordScale('d/h', behavior, 1, 5, 0);
  // Within the same 15 s period the 4 pods already added count: the limit stays 5.
  assert.equal(h.normalize({ ...a, current: 5, desired: 10, now: 5000 }).replicas, 5);
  // Later: down is held by the 30 s window (recommendations of 10), then allowed.
  r = h.normalize({ ...a, current: 5, desired: 1, now: 20_000 });
  assert.equal(r.replicas, 5);
  assert.equal(r.ableReason, 'ScaleDownStabilized');
  assert.equal(h.normalize({ ...a, current: 5, desired: 1, now: 60_000 }).replicas, 1);
});

test('selectPolicy Disabled and Min', () => {
  const h = new ScalingHistory(0);
  assert.equal(h.normalize({ key: 'a', min: 1, max: 10, current: 3, desired: 8, now: 0, behavior: { scaleUp: { ...up4or100, selectPolicy: 'Disabled' }, scaleDown: down100 } }).replicas, 3);
  assert.equal(h.normalize({ key: 'b', min: 1, max: 10, current: 3, desired: 9, now: 0, behavior: { scaleUp: { ...up4or100, selectPolicy: 'Min' }, scaleDown: down100 } }).replicas, 6);
  const downPods = { selectPolicy: 'Max' as const, stabilizationWindowSeconds: 0, policies: [{ type: 'Pods' as const, value: 1, periodSeconds: 60 }] };
  const r = h.normalize({ key: 'c', min: 1, max: 10, current: 5, desired: 1, now: 0, behavior: { scaleUp: up4or100, scaleDown: downPods } });
  assert.equal(r.replicas, 4);
  assert.equal(r.limitReason, 'ScaleDownLimit');
});
