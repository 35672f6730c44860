import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NodeResourcesFit } from './node-resources-fit.ts';
import { nodeInfoWith } from '../../framework/node-info.ts';
import { CycleState } from '../../framework/types.ts';
import { mkNode, mkPod } from '../../framework/testing.ts';
import { brokenLinear } from './scorers.ts';

const node = (alloc: Record<string, string>, pods: ReturnType<typeof mkPod>[] = []) => nodeInfoWith(mkNode('n', alloc), pods);

describe('NodeResourcesFit filter', () => {
  const alloc = { cpu: '10', memory: '20', pods: '32', 'example.com/gpu': '2', 'ephemeral-storage': '20' };
  const used = [mkPod('u', { requests: [{ cpu: '5', memory: '19' }] })];
  const cases: Array<{ name: string; pod: ReturnType<typeof mkPod>; reasons: string[]; nodeAlloc?: Record<string, string>; existing?: ReturnType<typeof mkPod>[] }> = [
    { name: 'no resources requested always fits', pod: mkPod('p'), reasons: [] },
    { name: 'fits', pod: mkPod('p', { requests: [{ cpu: '1', memory: '1' }] }), reasons: [] },
    { name: 'too much cpu', pod: mkPod('p', { requests: [{ cpu: '6' }] }), reasons: ['Insufficient cpu'] },
    { name: 'too much cpu and memory', pod: mkPod('p', { requests: [{ cpu: '6', memory: '2' }] }), reasons: ['Insufficient cpu', 'Insufficient memory'] },
    { name: 'init container counts', pod: mkPod('p', { requests: [{ cpu: '1' }], init: [{ requests: { cpu: '6' } }] }), reasons: ['Insufficient cpu'] },
    { name: 'sidecar counts alongside app containers', pod: mkPod('p', { requests: [{ cpu: '3' }], init: [{ requests: { cpu: '3' }, sidecar: true }] }), reasons: ['Insufficient cpu'] },
    { name: 'overhead counts', pod: mkPod('p', { requests: [{ cpu: '5' }], overhead: { cpu: '1' } }), reasons: ['Insufficient cpu'] },
    { name: 'extended resource fits', pod: mkPod('p', { requests: [{ 'example.com/gpu': '2' }] }), reasons: [] },
    { name: 'extended resource too much', pod: mkPod('p', { requests: [{ 'example.com/gpu': '3' }] }), reasons: ['Insufficient example.com/gpu'] },
    { name: 'extended resource unknown on node', pod: mkPod('p', { requests: [{ 'example.com/fpga': '1' }] }), reasons: ['Insufficient example.com/fpga'] },
    { name: 'ephemeral storage', pod: mkPod('p', { requests: [{ 'ephemeral-storage': '25' }] }), reasons: ['Insufficient ephemeral-storage'] },
    { name: 'pod count', pod: mkPod('p'), nodeAlloc: { cpu: '10', memory: '20', pods: '1' }, reasons: ['Too many pods'] },
    { name: 'pod count and cpu', pod: mkPod('p', { requests: [{ cpu: '6' }] }), nodeAlloc: { cpu: '10', memory: '20', pods: '1' }, reasons: ['Too many pods', 'Insufficient cpu'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pl = new NodeResourcesFit();
      const st = new CycleState();
      pl.preFilter(st, c.pod);
      const s = pl.filter(st, c.pod, node(c.nodeAlloc ?? alloc, c.existing ?? used));
      assert.deepEqual(s?.reasons ?? [], c.reasons);
    });
  }
  it('ignored resources are not checked', () => {
    const pl = new NodeResourcesFit({ ignoredResources: ['example.com/fpga'] });
    const p = mkPod('p', { requests: [{ 'example.com/fpga': '1' }] });
    const st = new CycleState();
    pl.preFilter(st, p);
    assert.equal(pl.filter(st, p, node(alloc)), undefined);
  });
});

describe('NodeResourcesFit scoring', () => {
  const score = (args: any, pod: ReturnType<typeof mkPod>, alloc: Record<string, string>, existing: ReturnType<typeof mkPod>[] = []) => {
    const pl = new NodeResourcesFit(args);
    const st = new CycleState();
    pl.preScore(st, pod);
    return pl.score(st, pod, node(alloc, existing))[0];
  };
  it('LeastAllocated: (cap - req) * 100 / cap averaged', () => {
    // cpu: (4000-3000)*100/4000 = 25; memory: (10000-5000)*100/10000 = 50 -> 37
    assert.equal(score(undefined, mkPod('p', { requests: [{ cpu: '3', memory: '5000' }] }), { cpu: '4', memory: '10000', pods: '10' }), 37);
  });
  it('LeastAllocated uses 100m / 200Mi defaults for containers without requests', () => {
    // cpu (1000-100)*100/1000 = 90; memory (1Gi-200Mi)*100/1Gi = 80 -> 85
    assert.equal(score(undefined, mkPod('p'), { cpu: '1', memory: '1Gi', pods: '10' }), 85);
  });
  it('MostAllocated', () => {
    assert.equal(score({ scoringStrategy: { type: 'MostAllocated' } }, mkPod('p', { requests: [{ cpu: '3', memory: '5000' }] }), { cpu: '4', memory: '10000', pods: '10' }), 62);
  });
  it('MostAllocated caps requests at capacity', () => {
    assert.equal(score({ scoringStrategy: { type: 'MostAllocated' } }, mkPod('p', { requests: [{ cpu: '8', memory: '20000' }] }), { cpu: '4', memory: '10000', pods: '10' }), 100);
  });
  it('weights per resource', () => {
    const args = { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'cpu', weight: 3 }, { name: 'memory', weight: 1 }] } };
    // (25*3 + 50*1) / 4 = 31
    assert.equal(score(args, mkPod('p', { requests: [{ cpu: '3', memory: '5000' }] }), { cpu: '4', memory: '10000', pods: '10' }), 31);
  });
  it('RequestedToCapacityRatio follows the shape', () => {
    const args = { scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [{ utilization: 0, score: 0 }, { utilization: 100, score: 10 }] } } };
    // cpu 75% -> 75, memory 50% -> 50: round(62.5) = 63
    assert.equal(score(args, mkPod('p', { requests: [{ cpu: '3', memory: '5000' }] }), { cpu: '4', memory: '10000', pods: '10' }), 63);
  });
  it('extended resources the pod does not request are left out', () => {
    const args = { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'cpu', weight: 1 }, { name: 'example.com/gpu', weight: 1 }] } };
    assert.equal(score(args, mkPod('p', { requests: [{ cpu: '2' }] }), { cpu: '4', memory: '10000', pods: '10', 'example.com/gpu': '4' }), 50);
  });
  it('brokenLinear interpolates and is flat beyond the ends', () => {
    const f = brokenLinear([{ utilization: 10, score: 0 }, { utilization: 50, score: 100 }]);
    assert.equal(f(0), 0);
    assert.equal(f(30), 50);
    assert.equal(f(90), 100);
  });
});
