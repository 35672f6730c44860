import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultPreemption, NOT_HELPFUL } from './default-preemption.ts';
import { pickOneNode, splitByPDBViolation, type Candidate } from './candidates.ts';
import { newPodInfo, nodeInfoWith, type NodeInfo } from '../../framework/node-info.ts';
import { Framework, emptyProfilePlugins } from '../../framework/framework.ts';
import { CycleState, type NodeToStatus } from '../../framework/types.ts';
import { Code, Status } from '../../framework/status.ts';
import { fakeHandle, mkNode, mkPod } from '../../framework/testing.ts';
import { NodeResourcesFit } from '../node-resources-fit/node-resources-fit.ts';

function setup(nodes: NodeInfo[], pdbs: any[] = []) {
  const pp = emptyProfilePlugins();
  const fit = new NodeResourcesFit();
  pp.preFilter.push(fit);
  pp.filter.push(fit);
  const fwk = new Framework('default-scheduler', pp);
  const handle = fakeHandle(nodes, { framework: fwk, pdbs });
  return { fwk, handle, pl: new DefaultPreemption(handle, {}, () => 0) };
}

async function preempt(pod: ReturnType<typeof mkPod>, nodes: NodeInfo[], pdbs: any[] = [], statuses?: NodeToStatus) {
  const { fwk, handle, pl } = setup(nodes, pdbs);
  const st = new CycleState();
  fwk.runPreFilterPlugins(st, pod, nodes);
  const filtered: NodeToStatus = statuses ?? new Map(nodes.map((n) => [n.name, new Status(Code.Unschedulable, ['Insufficient cpu'])]));
  const [res, s] = await pl.postFilter(st, pod, filtered);
  return { res, s, deleted: handle.deleted };
}

const cpuPod = (name: string, cpu: string, priority: number, o: { node?: string; labels?: Record<string, string>; start?: string } = {}) =>
  mkPod(name, { requests: [{ cpu }], priority, nodeName: o.node, labels: o.labels, start: o.start });
const node = (name: string, pods: ReturnType<typeof mkPod>[]) => nodeInfoWith(mkNode(name, { cpu: '2', memory: '8Gi', pods: '110' }), pods);

describe('DefaultPreemption', () => {
  it('evicts the lower-priority pods that block the preemptor and nominates the node', async () => {
    const nodes = [node('n1', [cpuPod('low', '1500m', 0, { node: 'n1' })])];
    const { res, s, deleted } = await preempt(cpuPod('high', '1', 100), nodes);
    assert.equal(s, undefined);
    assert.equal(res?.nominatedNodeName, 'n1');
    assert.deepEqual(deleted, ['low']);
  });
  it('keeps victims that need not go (reprieve)', async () => {
    const nodes = [node('n1', [cpuPod('a', '1', 0, { node: 'n1' }), cpuPod('b', '1', 1, { node: 'n1' })])];
    const { deleted } = await preempt(cpuPod('high', '1', 100), nodes);
    assert.deepEqual(deleted, ['a']); // the less important one goes, b is reprieved
  });
  it('never evicts equal or higher priority pods', async () => {
    const nodes = [node('n1', [cpuPod('peer', '2', 100, { node: 'n1' })])];
    const { res, s } = await preempt(cpuPod('high', '1', 100), nodes);
    assert.equal(s?.code, Code.Unschedulable);
    assert.equal(s?.message(), 'preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
    assert.equal(res?.nominatedNodeName, '');
  });
  it('is not helpful on nodes rejected as unresolvable', async () => {
    const nodes = [node('n1', [cpuPod('low', '2', 0, { node: 'n1' })])];
    const statuses: NodeToStatus = new Map([['n1', new Status(Code.UnschedulableAndUnresolvable, ['node(s) had untolerated taint {a: }'])]]);
    const { s } = await preempt(cpuPod('high', '1', 100), nodes, [], statuses);
    assert.equal(s?.message(), `preemption: 0/1 nodes are available: 1 ${NOT_HELPFUL}.`);
  });
  it('honours preemptionPolicy Never', async () => {
    const p = cpuPod('high', '1', 100);
    p.spec.preemptionPolicy = 'Never';
    const { s, deleted } = await preempt(p, [node('n1', [cpuPod('low', '2', 0, { node: 'n1' })])]);
    assert.equal(s?.message(), 'preemption: not eligible due to preemptionPolicy=Never.');
    assert.deepEqual(deleted, []);
  });
  it('waits while victims on the nominated node are terminating', async () => {
    const victim = cpuPod('low', '2', 0, { node: 'n1' });
    victim.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
    const p = cpuPod('high', '1', 100);
    p.status = { nominatedNodeName: 'n1' };
    const { s } = await preempt(p, [node('n1', [victim])]);
    assert.equal(s?.message(), 'preemption: not eligible due to a terminating pod on the nominated node.');
  });
  it('prefers the node whose victims violate no PDB', async () => {
    const nodes = [node('n1', [cpuPod('guarded', '2', 0, { node: 'n1', labels: { app: 'db' } })]), node('n2', [cpuPod('free', '2', 0, { node: 'n2', labels: { app: 'web' } })])];
    const pdb = { metadata: { name: 'db', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'db' } } }, status: { disruptionsAllowed: 0 } };
    const { res, deleted } = await preempt(cpuPod('high', '1', 100), nodes, [pdb]);
    assert.equal(res?.nominatedNodeName, 'n2');
    assert.deepEqual(deleted, ['free']);
  });
});

describe('splitByPDBViolation', () => {
  it('counts down disruptionsAllowed per matching pod', () => {
    const pods = ['a', 'b'].map((n) => newPodInfo(cpuPod(n, '1', 0, { labels: { app: 'db' } })));
    const pdb = { metadata: { name: 'db', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'db' } } }, status: { disruptionsAllowed: 1 } };
    const [violating, ok] = splitByPDBViolation(pods, [pdb]);
    assert.deepEqual(ok.map((p) => p.pod.metadata.name), ['a']);
    assert.deepEqual(violating.map((p) => p.pod.metadata.name), ['b']);
  });
  it('an empty selector protects nothing', () => {
    const pods = [newPodInfo(cpuPod('a', '1', 0, { labels: { app: 'db' } }))];
    const [violating] = splitByPDBViolation(pods, [{ metadata: { namespace: 'default' }, spec: { selector: {} }, status: { disruptionsAllowed: 0 } }]);
    assert.equal(violating.length, 0);
  });
});

describe('pickOneNode', () => {
  const cand = (name: string, prios: number[], pdb = 0, start = '2024-01-01T00:00:00Z'): Candidate => ({
    name,
    numPDBViolations: pdb,
    victims: prios.map((p, i) => newPodInfo(cpuPod(`${name}-${i}`, '1', p, { start }))),
  });
  const cases: Array<[string, Candidate[], string]> = [
    ['fewest PDB violations', [cand('a', [1], 1), cand('b', [5], 0)], 'b'],
    ['lowest highest-victim priority', [cand('a', [5, 1]), cand('b', [3, 3])], 'b'],
    ['smallest priority sum', [cand('a', [3, 3]), cand('b', [3, 1])], 'b'],
    ['fewest victims', [cand('a', [3, 0, 0]), cand('b', [3, 0])], 'b'],
    ['latest start time', [cand('a', [3], 0, '2024-01-01T00:00:00Z'), cand('b', [3], 0, '2024-06-01T00:00:00Z')], 'b'],
    ['first on a full tie', [cand('a', [3]), cand('b', [3])], 'a'],
  ];
  for (const [name, cs, want] of cases) it(name, () => assert.equal(pickOneNode(cs)?.name, want));
});
