// The snapshot packs each listed node's numbers into one array (see PACKED_STRIDE in node-info.ts);
// NodeResourcesFit and the resource scorers read them there. They must give the answers the
// Resource objects give, and a NodeInfo that left the snapshot or changed must not read them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulerCache } from './cache.ts';
import { Snapshot } from './snapshot.ts';
import { mkNode, mkPod } from '../framework/testing.ts';
import { podRequests } from '../framework/resource.ts';
import { fits, fitsRequest } from '../plugins/node-resources-fit/node-resources-fit.ts';
import { DEFAULT_RESOURCES, allocatableAndRequested } from '../plugins/node-resources-fit/resource-allocation.ts';

const none = new Set<string>();

function cluster() {
  const cache = new SchedulerCache();
  for (let i = 0; i < 6; i++) cache.addNode(mkNode(`n${i}`, { cpu: '2', memory: '4Gi', 'ephemeral-storage': '10Gi', pods: String(2 + i) }));
  for (let i = 0; i < 6; i++) for (let j = 0; j < i % 3; j++) cache.addPod(mkPod(`p${i}-${j}`, { nodeName: `n${i}`, requests: [{ cpu: '700m', memory: '1Gi', 'ephemeral-storage': '3Gi' }] }));
  const snap = new Snapshot();
  snap.update(cache);
  return { cache, snap };
}

const probes = [
  mkPod('small', { requests: [{ cpu: '100m', memory: '100Mi' }] }),
  mkPod('cpu', { requests: [{ cpu: '700m' }] }),
  mkPod('memory', { requests: [{ memory: '2Gi' }] }),
  mkPod('disk', { requests: [{ 'ephemeral-storage': '5Gi' }] }),
  mkPod('nothing'),
];

describe('snapshot packed numbers', () => {
  it('fit and scoring inputs are the same as from the Resource objects', () => {
    const { snap } = cluster();
    for (const ni of snap.list()) {
      assert.ok(ni.packed, `${ni.name} is packed`);
      const plain = ni.clone();
      assert.equal(plain.packed, undefined);
      for (const pod of probes) {
        const req = podRequests(pod);
        assert.equal(fits(req, ni, none, none), fits(req, plain, none, none), `${pod.metadata.name} on ${ni.name}`);
        assert.equal(fits(req, ni, none, none), fitsRequest(req, plain).length === 0);
        for (const useRequested of [true, false]) {
          const scoring = podRequests(pod, !useRequested);
          assert.deepEqual(allocatableAndRequested(ni, scoring, DEFAULT_RESOURCES, useRequested), allocatableAndRequested(plain, scoring, DEFAULT_RESOURCES, useRequested));
        }
      }
    }
  });

  it('a node replaced by the next update stops reading its old slot; the new copy reads the new numbers', () => {
    const { cache, snap } = cluster();
    const old = snap.get('n0')!;
    const cpu = podRequests(probes[1]);
    assert.equal(fits(cpu, old, none, none), true);
    // n0 (2 cpu, room for 2 pods) gets two 700m pods: the third does not fit.
    cache.addPod(mkPod('fill-a', { nodeName: 'n0', requests: [{ cpu: '700m' }] }));
    cache.addPod(mkPod('fill-b', { nodeName: 'n0', requests: [{ cpu: '700m' }] }));
    snap.update(cache);
    const now = snap.get('n0')!;
    assert.notEqual(now, old);
    assert.equal(old.packed, undefined);
    assert.equal(fits(cpu, old, none, none), true, 'the replaced copy still answers from its own objects');
    assert.equal(fits(cpu, now, none, none), false);
    assert.deepEqual(fitsRequest(cpu, now).map((r) => r.reason).sort(), ['Insufficient cpu', 'Too many pods']);
    // Adding a node rebuilds the array; every listed node is packed again, at its new place.
    cache.addNode(mkNode('n9'));
    snap.update(cache);
    for (const ni of snap.list()) assert.ok(ni.packed && snap.list()[ni.slot] === ni);
    assert.equal(fits(cpu, snap.get('n0')!, none, none), false);
  });

  it('changing a packed NodeInfo (as preemption does with its own copies) unpacks it', () => {
    const { snap } = cluster();
    const ni = snap.get('n1')!;
    ni.addPod(mkPod('extra', { nodeName: 'n1', requests: [{ cpu: '1' }] }));
    assert.equal(ni.packed, undefined);
    assert.equal(fits(podRequests(probes[1]), ni, none, none), false);
  });
});

describe('snapshot label values', () => {
  it('are each listed node’s label by slot, and follow relabelling and new nodes', () => {
    const cache = new SchedulerCache();
    for (let i = 0; i < 4; i++) cache.addNode(mkNode(`n${i}`, undefined, { labels: { zone: `z${i % 2}` } }));
    const snap = new Snapshot();
    snap.update(cache);
    const zones = () => snap.labelValues('zone');
    assert.deepEqual(snap.list().map((ni) => zones()[ni.slot]), snap.list().map((ni) => ni.node!.metadata.labels!.zone));
    assert.equal(zones(), zones(), 'cached while nothing changes');
    const old = snap.get('n1')!.node!;
    cache.updateNode({ ...old, metadata: { ...old.metadata, labels: { zone: 'z9' } } });
    cache.addNode(mkNode('n4'));
    snap.update(cache);
    const byName = Object.fromEntries(snap.list().map((ni) => [ni.name, zones()[ni.slot]]));
    assert.deepEqual(byName, { n0: 'z0', n1: 'z9', n2: 'z0', n3: 'z1', n4: undefined });
  });
});

describe('snapshot anti-affinity groups by label', () => {
  it('offers a pod only the groups whose terms could select it, and forgets groups that empty', () => {
    const cache = new SchedulerCache();
    for (let i = 0; i < 3; i++) cache.addNode(mkNode(`n${i}`));
    const anti = (sel: Record<string, unknown>) => ({ affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: sel, topologyKey: 'kubernetes.io/hostname' }] } } });
    cache.addPod(mkPod('g1', { nodeName: 'n0', labels: { group: 'g1' }, spec: anti({ matchLabels: { group: 'g1' } }) }));
    const g2 = mkPod('g2', { nodeName: 'n1', labels: { group: 'g2' }, spec: anti({ matchLabels: { group: 'g2', tier: 'web' } }) });
    cache.addPod(g2);
    cache.addPod(mkPod('any', { nodeName: 'n2', spec: anti({ matchExpressions: [{ key: 'group', operator: 'Exists' }] }) }));
    const snap = new Snapshot();
    snap.update(cache);
    const offered = (labels: Record<string, string>) => [...snap.antiAffinityGroups(labels)].map((g) => g.term.selector.toString()).sort();
    assert.equal([...snap.antiAffinityGroups()].length, 3);
    assert.deepEqual(offered({ group: 'g1' }), ['group', 'group=g1']);
    assert.deepEqual(offered({ group: 'g2', tier: 'web' }), ['group', 'group=g2,tier=web']);
    assert.deepEqual(offered({ app: 'x' }), ['group']);
    cache.removePod(g2);
    snap.update(cache);
    assert.deepEqual(offered({ group: 'g2', tier: 'web' }), ['group']);
  });
});
