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

describe('snapshot label index, updated by changes only', () => {
  // What a full scan of the snapshot's nodes says the index must hold: label -> uid -> node name.
  function scan(snap: Snapshot): Map<string, Map<string, string>> {
    const want = new Map<string, Map<string, string>>();
    for (const ni of snap.list())
      for (const pi of ni.pods)
        for (const [k, v] of Object.entries(pi.pod.metadata.labels ?? {})) {
          const key = `${pi.pod.metadata.namespace}/${k}=${v}`;
          if (!want.has(key)) want.set(key, new Map());
          want.get(key)!.set(pi.pod.metadata.uid!, ni.name);
        }
    return want;
  }

  it('matches a full scan after pods are assumed, confirmed, moved, relabelled and removed, and nodes go and come back', () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const cache = new SchedulerCache();
    const snap = new Snapshot();
    const nodes = Array.from({ length: 6 }, (_, i) => mkNode(`n${i}`));
    for (const n of nodes) cache.addNode(n);
    const live = new Map<string, Pod>();
    const labelsOf = () => ({ app: `a${rand(3)}`, ...(rand(2) ? { tier: `t${rand(2)}` } : {}) });
    for (let step = 0; step < 600; step++) {
      const pods = [...live.values()];
      const op = rand(8);
      if (op <= 2 || pods.length === 0) {
        const name = `p${step}`;
        const pod = mkPod(name, { labels: labelsOf(), nodeName: `n${rand(6)}`, uid: `u-${name}` });
        // Half through the scheduler's path (assumed, then confirmed by the informer's copy).
        if (rand(2)) {
          cache.assumePod(pod);
          if (rand(2)) snap.update(cache);
          cache.addPod(structuredClone(pod));
        } else cache.addPod(pod);
        live.set(pod.metadata.uid!, pod);
      } else if (op === 3) {
        const old = pods[rand(pods.length)];
        const moved = { ...structuredClone(old), spec: { ...old.spec, nodeName: `n${rand(6)}` } };
        cache.updatePod(old, moved);
        live.set(old.metadata.uid!, moved);
      } else if (op === 4) {
        const old = pods[rand(pods.length)];
        const relabelled = structuredClone(old);
        relabelled.metadata.labels = labelsOf();
        cache.updatePod(old, relabelled);
        live.set(old.metadata.uid!, relabelled);
      } else if (op === 5) {
        const gone = pods[rand(pods.length)];
        cache.removePod(gone);
        live.delete(gone.metadata.uid!);
      } else if (op === 6) {
        const n = nodes[rand(6)];
        if (rand(2)) cache.removeNode(n);
        else cache.addNode(n);
      }
      if (rand(3) === 0) continue;
      snap.update(cache);
      const want = scan(snap);
      for (const ns of ['default'])
        for (const app of ['a0', 'a1', 'a2', 't0', 't1']) {
          const [k, v] = app.startsWith('t') ? ['tier', app] : ['app', app];
          const got = new Map<string, string>();
          for (const ref of snap.podsWithLabel(ns, k, v)) {
            // Every entry's node is the snapshot's current copy of it, holding that very pod.
            assert.equal(ref.ni, snap.get(ref.ni.name), `step ${step}: stale node copy`);
            assert.ok(ref.ni.pods.includes(ref.pi), `step ${step}: pod not on its node`);
            got.set(ref.pi.pod.metadata.uid!, ref.ni.name);
          }
          assert.deepEqual(got, want.get(`${ns}/${k}=${v}`) ?? new Map(), `step ${step}, ${k}=${v}`);
        }
    }
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
