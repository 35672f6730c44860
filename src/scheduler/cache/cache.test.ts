import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulerCache } from './cache.ts';
import { Snapshot } from './snapshot.ts';
import { mkNode, mkPod } from '../framework/testing.ts';

const bound = (name: string, node: string, cpu = '1', extra: Record<string, unknown> = {}) => mkPod(name, { uid: `uid-${name}`, requests: [{ cpu }], nodeName: node, spec: extra });

describe('SchedulerCache', () => {
  it('assumed pods count against their node until confirmed', () => {
    const c = new SchedulerCache();
    c.addNode(mkNode('n1'));
    const p = bound('a', 'n1');
    c.assumePod(p);
    assert.equal(c.nodes.get('n1')!.requested.milliCPU, 1000);
    assert.ok(c.isAssumed(p));
    c.addPod(p); // informer confirms
    assert.ok(!c.isAssumed(p));
    assert.equal(c.nodes.get('n1')!.requested.milliCPU, 1000);
    assert.equal(c.nodes.get('n1')!.pods.length, 1);
  });

  it('confirmation on another node moves the pod', () => {
    const c = new SchedulerCache();
    c.addNode(mkNode('n1'));
    c.addNode(mkNode('n2'));
    c.assumePod(bound('a', 'n1'));
    c.addPod(bound('a', 'n2'));
    assert.equal(c.nodes.get('n1')!.pods.length, 0);
    assert.equal(c.nodes.get('n2')!.pods.length, 1);
  });

  it('forgetPod undoes an assumption', () => {
    const c = new SchedulerCache();
    c.addNode(mkNode('n1'));
    const p = bound('a', 'n1');
    c.assumePod(p);
    c.forgetPod(p);
    assert.equal(c.nodes.get('n1')!.requested.milliCPU, 0);
    assert.equal(c.podCount(), 0);
  });

  it('assumed pods expire a TTL after binding finished, not before', () => {
    let now = 0;
    const c = new SchedulerCache({ assumedTTLMs: 1000, now: () => now });
    c.addNode(mkNode('n1'));
    const p = bound('a', 'n1');
    c.assumePod(p);
    now = 5000;
    assert.equal(c.cleanupExpiredAssumedPods().length, 0); // binding still in flight
    c.finishBinding(p);
    now = 5999;
    assert.equal(c.cleanupExpiredAssumedPods().length, 0);
    now = 6000;
    assert.equal(c.cleanupExpiredAssumedPods().length, 1);
    assert.equal(c.nodes.get('n1')!.pods.length, 0);
  });

  it('keeps pods of a deleted node until they go, but hides the node', () => {
    const c = new SchedulerCache();
    const s = new Snapshot();
    c.addNode(mkNode('n1'));
    const p = bound('a', 'n1');
    c.addPod(p);
    c.removeNode(mkNode('n1'));
    s.update(c);
    assert.equal(s.list().length, 0);
    c.removePod(p);
    assert.equal(c.nodes.size, 0);
  });
});

describe('Snapshot', () => {
  it('copies only changed nodes and leaves earlier snapshots\' nodes untouched', () => {
    const c = new SchedulerCache();
    const s = new Snapshot();
    for (let i = 0; i < 3; i++) c.addNode(mkNode(`n${i}`));
    s.update(c);
    assert.equal(s.list().length, 3);
    const before0 = s.get('n0')!;
    const before1 = s.get('n1')!;
    c.addPod(bound('a', 'n1'));
    s.update(c);
    assert.equal(s.get('n0'), before0); // unchanged node: same object
    assert.notEqual(s.get('n1'), before1);
    assert.equal(before1.pods.length, 0); // the old copy did not change
    assert.equal(s.get('n1')!.pods.length, 1);
    assert.equal(s.list().find((n) => n.name === 'n1'), s.get('n1'));
  });

  it('tracks nodes with (anti-)affinity pods', () => {
    const c = new SchedulerCache();
    const s = new Snapshot();
    c.addNode(mkNode('n1'));
    c.addNode(mkNode('n2'));
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { a: 'b' } }, topologyKey: 'zone' }] } };
    c.addPod(bound('a', 'n2', '1', { affinity: anti }));
    s.update(c);
    assert.deepEqual(s.havePodsWithAffinity().map((n) => n.name), ['n2']);
    assert.deepEqual(s.havePodsWithRequiredAntiAffinity().map((n) => n.name), ['n2']);
  });
});
