import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FitError, fitErrorMessage, numFeasibleNodesToFind, schedulePod, selectHost, NodeWindow } from './schedule-pod.ts';
import { Framework, emptyProfilePlugins } from './framework.ts';
import { Code, Status, unschedulable } from './status.ts';
import { nodeInfoWith, type NodeInfo } from './node-info.ts';
import { CycleState, type SnapshotLister } from './types.ts';
import { mkNode, mkPod } from './testing.ts';

function lister(nodes: NodeInfo[]): SnapshotLister {
  return { list: () => nodes, get: (n) => nodes.find((x) => x.name === n), havePodsWithAffinity: () => [], havePodsWithRequiredAntiAffinity: () => [] };
}

describe('numFeasibleNodesToFind', () => {
  const cases: Array<[number, number, number]> = [
    // [percentage, nodes, expected]
    [0, 10, 10],
    [0, 99, 99],
    [0, 100, 100],
    [0, 1000, 420], // 50 - 1000/125 = 42%
    [0, 5000, 500], // 50 - 40 = 10%
    [0, 6000, 300], // 50 - 48 = 2% -> 5% floor
    [0, 1_000_000, 50_000],
    [10, 500, 100], // 50 -> raised to the 100 minimum
    [100, 5000, 5000],
    [40, 1000, 400],
  ];
  for (const [pct, n, want] of cases) it(`${pct}% of ${n}`, () => assert.equal(numFeasibleNodesToFind(pct, n), want));
});

describe('selectHost', () => {
  it('picks the highest score', () => {
    assert.equal(selectHost([{ name: 'a', score: 1 }, { name: 'b', score: 5 }, { name: 'c', score: 3 }]), 'b');
  });
  it('breaks ties at random among the top scores only', () => {
    const scores = [{ name: 'a', score: 5 }, { name: 'b', score: 1 }, { name: 'c', score: 5 }];
    assert.equal(selectHost(scores, () => 0.99), 'a');
    assert.equal(selectHost(scores, () => 0), 'c');
  });
});

describe('fit error message', () => {
  it('sorts the reason histogram and appends the preemption message', () => {
    const d = {
      nodeToStatus: new Map([
        ['a', unschedulable('Insufficient cpu')],
        ['b', new Status(Code.UnschedulableAndUnresolvable, ['node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }'])],
        ['c', new Status(Code.UnschedulableAndUnresolvable, ['node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }'])],
      ]),
      unschedulablePlugins: new Set<string>(),
      preFilterMsg: '',
      postFilterMsg: 'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    };
    assert.equal(
      fitErrorMessage(3, d),
      '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
  });
});

describe('schedulePod', () => {
  const rejectB = { name: 'RejectB', filter: (_s: CycleState, _p: unknown, n: NodeInfo) => (n.name === 'b' ? unschedulable('no b') : undefined) };
  it('filters, scores with weights and picks the best node', () => {
    const pp = emptyProfilePlugins();
    pp.filter.push(rejectB);
    pp.score.push({ plugin: { name: 'PreferC', score: (_s, _p, n) => [n.name === 'c' ? 10 : 1, undefined] }, weight: 2 });
    const fwk = new Framework('default-scheduler', pp);
    const nodes = ['a', 'b', 'c'].map((n) => nodeInfoWith(mkNode(n)));
    const r = schedulePod(fwk, new CycleState(), mkPod('p'), lister(nodes), new NodeWindow());
    assert.equal(r.suggestedHost, 'c');
    assert.equal(r.feasibleNodes, 2);
  });
  it('throws a FitError naming the rejecting plugin', () => {
    const pp = emptyProfilePlugins();
    pp.filter.push(rejectB);
    const fwk = new Framework('default-scheduler', pp);
    try {
      schedulePod(fwk, new CycleState(), mkPod('p'), lister([nodeInfoWith(mkNode('b'))]), new NodeWindow());
      assert.fail('expected FitError');
    } catch (e) {
      assert.ok(e instanceof FitError);
      assert.equal(e.message, '0/1 nodes are available: 1 no b.');
      assert.deepEqual([...e.diagnosis.unschedulablePlugins], ['RejectB']);
    }
  });
  it('rotates the starting node between cycles', () => {
    const fwk = new Framework('default-scheduler', emptyProfilePlugins(), 0);
    const w = new NodeWindow();
    const nodes = Array.from({ length: 3 }, (_, i) => nodeInfoWith(mkNode(`n${i}`)));
    schedulePod(fwk, new CycleState(), mkPod('p'), lister(nodes), w);
    assert.equal(w.next, 0); // no filter plugins: all nodes, window wraps
  });
});
