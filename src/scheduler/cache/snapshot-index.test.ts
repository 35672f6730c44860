// The snapshot's label index and anti-affinity groups must give plugins the same answers as a
// full scan of every node.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulerCache } from './cache.ts';
import { Snapshot } from './snapshot.ts';
import { makeHandle } from '../handle.ts';
import { fakeHandle, mkNode, mkPod } from '../framework/testing.ts';
import { CycleState, type Handle, type Pod } from '../framework/types.ts';
import { InterPodAffinity } from '../plugins/inter-pod-affinity/inter-pod-affinity.ts';
import { PodTopologySpread } from '../plugins/pod-topology-spread/pod-topology-spread.ts';
import type { Framework } from '../framework/framework.ts';

function cluster() {
  const cache = new SchedulerCache();
  const snap = new Snapshot();
  for (let i = 0; i < 12; i++) cache.addNode(mkNode(`n${i}`, undefined, { labels: { zone: `z${i % 3}` } }));
  let k = 0;
  for (let i = 0; i < 12; i++) {
    for (let j = 0; j < i % 4; j++) {
      const app = `a${k % 3}`;
      const anti = k % 2 ? { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'a1' } }, topologyKey: 'zone' }] } } : undefined;
      cache.addPod(mkPod(`p${k++}`, { labels: { app }, nodeName: `n${i}`, spec: anti ? { affinity: anti } : {} }));
    }
  }
  snap.update(cache);
  return { cache, snap };
}

function verdicts(handle: Handle, make: (h: Handle) => InterPodAffinity | PodTopologySpread, pod: Pod, snap: Snapshot): string[] {
  const pl = make(handle);
  const st = new CycleState();
  const [, s] = pl.preFilter(st, pod, snap.list());
  return snap.list().map((n) => (s ? 'skip' : (pl.filter(st, pod, n)?.reasons[0] ?? 'ok')));
}

describe('snapshot indexes', () => {
  const pods: Pod[] = [
    mkPod('x', { labels: { app: 'a1' }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'a2' } }, topologyKey: 'kubernetes.io/hostname' }] } } } }),
    mkPod('y', { labels: { app: 'a1' }, spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'a0' } }, topologyKey: 'zone' }] } } } }),
    mkPod('z', { labels: { app: 'a2' }, spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'a2' } } }] } }),
  ];
  for (const pod of pods) {
    it(`agree with a full scan for ${pod.metadata.name}`, () => {
      const { snap } = cluster();
      const real = makeHandle({ snapshot: snap }, 'default-scheduler', () => undefined as unknown as Framework);
      const scan = fakeHandle(snap.list());
      for (const make of [(h: Handle) => new InterPodAffinity(h), (h: Handle) => new PodTopologySpread(h)]) {
        assert.deepEqual(verdicts(real, make, pod, snap), verdicts(scan, make, pod, snap));
      }
    });
  }

  it('stay correct as pods come and go', () => {
    const { cache, snap } = cluster();
    const extra = mkPod('late', { labels: { app: 'a2' }, nodeName: 'n0' });
    cache.addPod(extra);
    snap.update(cache);
    assert.equal([...snap.podsWithLabel('default', 'app', 'a2')].filter((r) => r.pi.pod.metadata.name === 'late').length, 1);
    cache.removePod(extra);
    snap.update(cache);
    assert.equal([...snap.podsWithLabel('default', 'app', 'a2')].filter((r) => r.pi.pod.metadata.name === 'late').length, 0);
    const groups = [...snap.antiAffinityGroups()];
    assert.equal(groups.length, 1);
    const total = [...groups[0].counts.values()].reduce((a, b) => a + b, 0);
    assert.ok(total > 0);
  });
});

describe('snapshot nodesVersion', () => {
  it('moves when nodes come and go or labels change, not on status-only updates', () => {
    const cache = new SchedulerCache();
    const snap = new Snapshot();
    const n = mkNode('n0', undefined, { labels: { zone: 'a' } });
    cache.addNode(n);
    snap.update(cache);
    const v0 = snap.nodesVersion();
    // A heartbeat: a new Node object with the same labels.
    cache.updateNode({ ...n, status: { ...n.status, conditions: [{ type: 'Ready', status: 'True' }] } });
    snap.update(cache);
    assert.equal(snap.nodesVersion(), v0);
    cache.updateNode({ ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, zone: 'b' } } });
    snap.update(cache);
    assert.ok(snap.nodesVersion() > v0);
    const v1 = snap.nodesVersion();
    cache.addNode(mkNode('n1'));
    snap.update(cache);
    assert.ok(snap.nodesVersion() > v1);
  });
});
