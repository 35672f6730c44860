import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../client/clock.ts';
import { SchedulingQueue } from './scheduling-queue.ts';
import { mkPod } from '../framework/testing.ts';
import type { ClusterEvent } from '../framework/types.ts';

const events = (...e: ClusterEvent[]) => new Set<ClusterEvent>(e);

const newQueue = (clock = new FakeClock()) =>
  new SchedulingQueue({ clock, pluginEvents: new Map([
      ['NodeResourcesFit', events('NodeAdd', 'AssignedPodDelete')],
      ['TaintToleration', events('NodeAdd', 'NodeUpdate')],
    ]) });

describe('SchedulingQueue', () => {
  it('pops by priority, then by age', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    q.add(mkPod('old-low', { priority: 1 }));
    clock.step(10);
    q.add(mkPod('high', { priority: 100 }));
    clock.step(10);
    q.add(mkPod('new-low', { priority: 1 }));
    assert.deepEqual([q.tryPop(), q.tryPop(), q.tryPop()].map((p) => p?.podInfo.pod.metadata.name), ['high', 'old-low', 'new-low']);
    assert.equal(q.tryPop(), undefined);
  });

  it('pop waits for a pod', async () => {
    const q = newQueue();
    const p = q.pop();
    q.add(mkPod('a'));
    assert.equal((await p)?.podInfo.pod.metadata.name, 'a');
    q.close();
    assert.equal(await q.pop(), undefined);
  });

  it('backoff doubles from 1 s and caps at 10 s', () => {
    const q = newQueue();
    const qp = { podInfo: {} as any, timestamp: 0, attempts: 1, unschedulablePlugins: new Set<string>(), gated: false };
    const ds = [1, 2, 3, 4, 5, 6].map((a) => q.backoffDuration({ ...qp, attempts: a }));
    assert.deepEqual(ds, [1000, 2000, 4000, 8000, 10000, 10000]);
  });

  it('errors go to backoff and come back once it expires', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const pod = mkPod('a');
    q.add(pod);
    const qp = q.tryPop()!;
    q.addUnschedulableIfNotPresent(qp); // no rejecting plugins = error
    assert.equal(q.where(pod), 'backoff');
    clock.step(999);
    q.flushBackoffQCompleted();
    assert.equal(q.where(pod), 'backoff');
    clock.step(1);
    q.flushBackoffQCompleted();
    assert.equal(q.where(pod), 'active');
  });

  it('unschedulable pods move only on events their plugins registered', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const pod = mkPod('a');
    q.add(pod);
    const qp = q.tryPop()!;
    qp.unschedulablePlugins = new Set(['TaintToleration']);
    q.addUnschedulableIfNotPresent(qp);
    assert.equal(q.where(pod), 'unschedulable');
    q.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
    assert.equal(q.where(pod), 'unschedulable');
    q.moveAllToActiveOrBackoffQueue('NodeUpdate');
    assert.equal(q.where(pod), 'backoff'); // still backing off from the failed attempt
    clock.step(1000);
    q.flushBackoffQCompleted();
    assert.equal(q.where(pod), 'active');
  });

  it('a moved pod whose backoff is over goes straight to active', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const pod = mkPod('a');
    q.add(pod);
    const qp = q.tryPop()!;
    qp.unschedulablePlugins = new Set(['NodeResourcesFit']);
    q.addUnschedulableIfNotPresent(qp);
    clock.step(5000);
    q.moveAllToActiveOrBackoffQueue('NodeAdd');
    assert.equal(q.where(pod), 'active');
  });

  it('an event during the attempt sends the rejected pod to backoff, not unschedulable', () => {
    const q = newQueue();
    const pod = mkPod('a');
    q.add(pod);
    const qp = q.tryPop()!;
    q.moveAllToActiveOrBackoffQueue('NodeAdd'); // while in flight
    qp.unschedulablePlugins = new Set(['NodeResourcesFit']);
    q.addUnschedulableIfNotPresent(qp);
    assert.equal(q.where(pod), 'backoff');
  });

  it('an irrelevant event during the attempt does not', () => {
    const q = newQueue();
    const pod = mkPod('a');
    q.add(pod);
    const qp = q.tryPop()!;
    q.moveAllToActiveOrBackoffQueue('NodeUpdate');
    qp.unschedulablePlugins = new Set(['NodeResourcesFit']);
    q.addUnschedulableIfNotPresent(qp);
    assert.equal(q.where(pod), 'unschedulable');
  });

  it('flushes pods stuck in unschedulable for more than 5 minutes', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const pod = mkPod('a');
    q.add(pod);
    const qp = q.tryPop()!;
    qp.unschedulablePlugins = new Set(['NodeResourcesFit']);
    q.addUnschedulableIfNotPresent(qp);
    clock.step(5 * 60_000);
    q.flushUnschedulablePodsLeftover();
    assert.equal(q.where(pod), 'unschedulable');
    clock.step(1);
    q.flushUnschedulablePodsLeftover();
    assert.equal(q.where(pod), 'active');
  });

  it('periodic flushes run on the clock', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    q.run();
    const pod = mkPod('a');
    q.add(pod);
    q.addUnschedulableIfNotPresent(q.tryPop()!);
    clock.step(1000);
    assert.equal(q.where(pod), 'active');
    q.close();
  });

  it('spec updates move an unschedulable pod; status-only updates do not', () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const pod = mkPod('a');
    q.add(pod);
    const qp = q.tryPop()!;
    qp.unschedulablePlugins = new Set(['NodeResourcesFit']);
    q.addUnschedulableIfNotPresent(qp);
    const statusOnly = { ...pod, status: { conditions: [{ type: 'PodScheduled', status: 'False' }] } };
    q.update(pod, statusOnly);
    assert.equal(q.where(pod), 'unschedulable');
    const relabelled = { ...statusOnly, metadata: { ...pod.metadata, labels: { x: 'y' } } };
    q.update(statusOnly, relabelled);
    assert.equal(q.where(pod), 'backoff');
  });

  it('gated pods wait until their scheduling gates are removed', () => {
    const q = newQueue();
    const gated = mkPod('g', { spec: { schedulingGates: [{ name: 'example.com/wait' }] } });
    q.add(gated);
    assert.equal(q.where(gated), 'unschedulable');
    q.moveAllToActiveOrBackoffQueue('NodeAdd');
    assert.equal(q.where(gated), 'unschedulable');
    q.update(gated, { ...gated, spec: { ...gated.spec, schedulingGates: [] } });
    assert.equal(q.where(gated), 'active');
  });

  it('delete removes a pod from every queue', () => {
    const q = newQueue();
    const pod = mkPod('a');
    q.add(pod);
    q.delete(pod);
    assert.equal(q.where(pod), undefined);
    assert.equal(q.tryPop(), undefined);
  });
});
