import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NodeResourcesBalancedAllocation, balancedScore } from './node-resources-balanced-allocation.ts';
import { nodeInfoWith } from '../../framework/node-info.ts';
import { CycleState } from '../../framework/types.ts';
import { Code } from '../../framework/status.ts';
import { mkNode, mkPod } from '../../framework/testing.ts';

describe('NodeResourcesBalancedAllocation', () => {
  const cases: Array<[string, number[], number[], number]> = [
    ['perfectly balanced', [50, 50], [100, 100], 100],
    ['cpu 0.6 memory 0.4', [60, 40], [100, 100], 90],
    ['over capacity is capped at 1', [300, 0], [100, 100], 50],
    ['zero allocatable resources are ignored', [10, 50], [0, 100], 100],
    ['three resources use the standard deviation', [20, 50, 80], [100, 100, 100], 75],
  ];
  for (const [name, req, alloc, want] of cases) it(name, () => assert.equal(balancedScore(req, alloc), want));

  it('skips pods requesting no cpu or memory', () => {
    const pl = new NodeResourcesBalancedAllocation();
    assert.equal(pl.preScore(new CycleState(), mkPod('p'))?.code, Code.Skip);
  });

  it('scores with the pod added to the node requests', () => {
    const pl = new NodeResourcesBalancedAllocation();
    const st = new CycleState();
    const p = mkPod('p', { requests: [{ cpu: '1', memory: '1Gi' }] });
    pl.preScore(st, p);
    const ni = nodeInfoWith(mkNode('n', { cpu: '4', memory: '4Gi', pods: '10' }), [mkPod('e', { requests: [{ cpu: '1' }] })]);
    // cpu 2/4 = .5, memory 1/4 = .25 -> std .125 -> 87
    assert.equal(pl.score(st, p, ni)[0], 87);
  });
});
