import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TaintToleration } from './taint-toleration.ts';
import { toleratesTaint } from '../../../api/core/taints.ts';
import { nodeInfoWith } from '../../framework/node-info.ts';
import { CycleState, type NodeScore } from '../../framework/types.ts';
import { Code } from '../../framework/status.ts';
import { mkNode, mkPod } from '../../framework/testing.ts';

describe('toleratesTaint', () => {
  const taint = { key: 'k', value: 'v', effect: 'NoSchedule' };
  const cases: Array<[string, any, boolean]> = [
    ['Equal with same value', { key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }, true],
    ['default operator is Equal', { key: 'k', value: 'v' }, true],
    ['Equal with other value', { key: 'k', operator: 'Equal', value: 'x' }, false],
    ['Exists on key', { key: 'k', operator: 'Exists' }, true],
    ['empty key with Exists matches all', { operator: 'Exists' }, true],
    ['empty effect matches all effects', { key: 'k', operator: 'Exists', effect: '' }, true],
    ['other effect', { key: 'k', operator: 'Exists', effect: 'NoExecute' }, false],
    ['other key', { key: 'j', operator: 'Exists' }, false],
  ];
  for (const [name, tol, want] of cases) it(name, () => assert.equal(toleratesTaint(tol, taint), want));
});

describe('TaintToleration filter', () => {
  const run = (taints: any[], tolerations?: any[]) =>
    new TaintToleration().filter(new CycleState(), mkPod('p', { spec: { tolerations } }), nodeInfoWith(mkNode('n', undefined, { taints })));
  it('no taints', () => assert.equal(run([]), undefined));
  it('untolerated NoSchedule', () => {
    const s = run([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
    assert.equal(s?.code, Code.UnschedulableAndUnresolvable);
    assert.deepEqual(s?.reasons, ['node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }']);
  });
  it('untolerated NoExecute with value', () => {
    assert.deepEqual(run([{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }])?.reasons, ['node(s) had untolerated taint {dedicated: gpu}']);
  });
  it('PreferNoSchedule does not filter', () => assert.equal(run([{ key: 'a', effect: 'PreferNoSchedule' }]), undefined));
  it('tolerated', () => assert.equal(run([{ key: 'a', value: 'b', effect: 'NoSchedule' }], [{ key: 'a', value: 'b', effect: 'NoSchedule' }]), undefined));
  it('one of several untolerated', () => {
    assert.ok(run([{ key: 'a', effect: 'NoSchedule' }, { key: 'b', effect: 'NoSchedule' }], [{ key: 'a', operator: 'Exists' }]));
  });
});

describe('TaintToleration score', () => {
  it('counts untolerated PreferNoSchedule taints, fewer is better', () => {
    const pl = new TaintToleration();
    // The NoSchedule-only toleration does not help against PreferNoSchedule taints.
    const pod = mkPod('p', { spec: { tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoSchedule' }, { key: 'b', operator: 'Exists' }] } });
    const st = new CycleState();
    pl.preScore(st, pod);
    const nodes = [
      nodeInfoWith(mkNode('n1', undefined, { taints: [{ key: 'a', effect: 'PreferNoSchedule' }, { key: 'c', effect: 'PreferNoSchedule' }] })),
      nodeInfoWith(mkNode('n2', undefined, { taints: [{ key: 'b', effect: 'PreferNoSchedule' }, { key: 'c', effect: 'PreferNoSchedule' }] })),
      nodeInfoWith(mkNode('n3')),
    ];
    const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: pl.score(st, pod, n)[0] }));
    assert.deepEqual(scores.map((s) => s.score), [2, 1, 0]);
    pl.normalizeScore(st, pod, scores);
    assert.deepEqual(scores.map((s) => s.score), [0, 50, 100]);
  });
});
