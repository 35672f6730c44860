import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { averageValueReplicas, milli, resourceReplicas, type CalculatorOptions, type PodSample } from './replica-calculator.ts';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const o: CalculatorOptions = { tolerance: 0.1, cpuInitializationPeriodMs: 300_000, initialReadinessDelayMs: 30_000, now: NOW };
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();

function pod(name: string, opts: { ready?: boolean; phase?: string; started?: number; transition?: number; deleted?: boolean; cpu?: string } = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'd', ...(opts.deleted ? { deletionTimestamp: ago(1) } : {}) },
    spec: { containers: [{ name: 'c', resources: { requests: { cpu: opts.cpu ?? '100m', memory: '100Mi' } } }] },
    status: {
      phase: opts.phase ?? 'Running',
      startTime: ago(opts.started ?? 600),
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: ago(opts.transition ?? 590) }],
    },
  };
}
const samples = (m: Record<string, number>, at = NOW - 5000) => new Map<string, PodSample>(Object.entries(m).map(([k, v]) => [k, { value: v, timestampMs: at, windowMs: 15_000 }]));

test('utilization: ceil(ratio × ready pods), and nothing within the 10 % tolerance', () => {
  const pods = [pod('a'), pod('b')];
  assert.equal(resourceReplicas(2, 50, 'cpu', pods, samples({ a: 90, b: 90 }), o).replicas, 4);
  assert.equal(resourceReplicas(2, 50, 'cpu', pods, samples({ a: 90, b: 90 }), o).utilization, 90);
  assert.equal(resourceReplicas(2, 50, 'cpu', pods, samples({ a: 54, b: 54 }), o).replicas, 2);
  assert.equal(resourceReplicas(2, 50, 'cpu', pods, samples({ a: 10, b: 10 }), o).replicas, 1);
});

test('missing pods count as 100 % when scaling down and 0 % when scaling up', () => {
  const pods = [pod('a'), pod('b'), pod('c'), pod('d')];
  // Down: 2 pods at 10 %, two missing taken at 100 % → (10+10+100+100)/400 = 55 % of 50 → within tolerance.
  assert.equal(resourceReplicas(4, 50, 'cpu', pods, samples({ a: 10, b: 10 }), o).replicas, 4);
  // Up: 2 pods at 200 %, two missing at 0 % → 100 % → 8 replicas (ceil(2 × 4)).
  assert.equal(resourceReplicas(4, 50, 'cpu', pods, samples({ a: 200, b: 200 }), o).replicas, 8);
});

test('unready pods count as 0 % only when scaling up; pending, deleted and failed pods are left out', () => {
  const pods = [pod('a'), pod('b', { ready: false, started: 10, transition: 10 }), pod('p', { phase: 'Pending' }), pod('x', { deleted: true }), pod('f', { phase: 'Failed' })];
  // a at 200 %, b unready and p pending taken at 0 %: 200/300 → 66 % of 50 % → ceil(1.32 × 3) = 4.
  assert.equal(resourceReplicas(3, 50, 'cpu', pods, samples({ a: 200, b: 500, x: 900, f: 900 }), o).replicas, 4);
  // A sample taken less than one window after the pod became ready, during its first 5 minutes, is
  // not trusted: n counts as 0 % when scaling up, (100 + 0) / 200 = 50 % → stays at 2.
  const fresh = [pod('a'), pod('n', { started: 60, transition: 10 })];
  assert.equal(resourceReplicas(2, 50, 'cpu', fresh, samples({ a: 100, n: 500 }), o).replicas, 2);
  // Five minutes in, the same sample counts: 600 / 200 = 300 % → 2 × 6 = 12.
  const settled = [pod('a'), pod('n', { started: 400, transition: 10 })];
  assert.equal(resourceReplicas(2, 50, 'cpu', settled, samples({ a: 100, n: 500 }), o).replicas, 12);
});

test('errors name what went wrong', () => {
  assert.throws(() => resourceReplicas(1, 50, 'cpu', [], samples({}), o), /no pods returned by selector/);
  assert.throws(() => resourceReplicas(1, 50, 'cpu', [pod('a', { phase: 'Pending' })], samples({ a: 1 }), o), /did not receive metrics/);
  const noReq = pod('a');
  delete noReq.spec.containers[0].resources.requests.cpu;
  assert.throws(() => resourceReplicas(1, 50, 'cpu', [noReq], samples({ a: 1 }), o), /missing request for cpu in container c of Pod a/);
});

test('average value targets', () => {
  const pods = [pod('a'), pod('b')];
  assert.equal(averageValueReplicas(2, 100, 'cpu', pods, samples({ a: 300, b: 300 }), o).replicas, 6);
  assert.equal(averageValueReplicas(2, 100, 'memory', pods, samples({ a: 105, b: 100 }), o).replicas, 2);
});

test('milli-units of quantities', () => {
  assert.equal(milli('1'), 1000);
  assert.equal(milli('250m'), 250);
  assert.equal(milli('1Ki'), 1_024_000);
  assert.equal(milli('1500000n'), 2);
});
