import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { startTestCluster, type TestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { startSimulatedNodes, type SimulatedNodes } from '../../kubelet/simulated/simulator.ts';
import { eventually, startRoundRobinBinder, testControllerEnv, type TestControllerEnv } from '../test-support.ts';
import { newJobController, JOB_TRACKING_FINALIZER } from './job-controller.ts';
import { JOBS, PODS } from './pod-helpers.ts';
import { formatIndexes, parseIndexes } from './indexes.ts';

function job(name: string, spec: any, annotations: Record<string, string> = {}): KObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      ...spec,
      template: {
        metadata: { annotations },
        spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
      },
    },
  };
}

describe('completed index intervals', () => {
  it('parses and formats', () => {
    assert.deepEqual([...parseIndexes('0,2-4,9', 8)].sort(), [0, 2, 3, 4]);
    assert.equal(formatIndexes([5, 1, 2, 3, 7]), '1-3,5,7');
    assert.equal(formatIndexes([]), '');
  });
});

describe('job controller', () => {
  let tc: TestCluster;
  let nodes: SimulatedNodes;
  let binder: { stop(): Promise<void> };
  let env: TestControllerEnv;
  const ns = 'default';

  before(async () => {
    tc = await startTestCluster();
    nodes = await startSimulatedNodes({ client: tc.client, count: 2, maxStopMs: 50 });
    binder = startRoundRobinBinder(tc.client, nodes.nodes);
    env = testControllerEnv(tc.client);
    await env.start(newJobController({ backoffBaseMs: 50, backoffMaxMs: 200 }));
  });
  after(async () => {
    await env.stop();
    await binder.stop();
    await nodes.close();
    await tc.close();
  });

  const get = (name: string) => tc.client.get<KObject>({ ...JOBS, namespace: ns, name });
  const podsOf = async (name: string) => (await tc.client.list<KObject>({ ...PODS, namespace: ns }, { labelSelector: `batch.kubernetes.io/job-name=${name}` })).items;
  const cond = (j: KObject, t: string) => (j.status?.conditions ?? []).find((c: any) => c.type === t && c.status === 'True');

  it('runs pods to completion with parallelism and counts each success once', async () => {
    await tc.client.create({ ...JOBS, namespace: ns }, job('three', { completions: 3, parallelism: 2 }, { 'mizzen.dev/simulate-duration': '100ms' }));
    const done = await eventually('job complete', async () => {
      const j = await get('three');
      return cond(j, 'Complete') ? j : undefined;
    });
    assert.equal(done.status.succeeded, 3);
    assert.equal(done.status.failed ?? 0, 0);
    assert.equal(done.status.active ?? 0, 0);
    assert.ok(done.status.startTime && done.status.completionTime);
    assert.ok(cond(done, 'SuccessCriteriaMet'));
    assert.equal(cond(done, 'Complete').reason, 'CompletionsReached');
    const pods = await podsOf('three');
    assert.equal(pods.length, 3);
    for (const p of pods) assert.ok(!(p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER), 'finalizer removed');
    const evs = await eventually('events', async () => {
      const l = await tc.client.list<KObject>({ version: 'v1', resource: 'events', namespace: ns }, { fieldSelector: 'involvedObject.name=three' });
      const reasons = l.items.map((e) => e.reason);
      return reasons.includes('Completed') && reasons.includes('SuccessfulCreate') ? l.items : undefined;
    });
    assert.match(evs.find((e) => e.reason === 'SuccessfulCreate')!.message, /^Created pod: three-[a-z0-9]{5}$/);
  });

  it('fails with BackoffLimitExceeded after backoffLimit+1 failures', async () => {
    await tc.client.create({ ...JOBS, namespace: ns }, job('fails', { backoffLimit: 1 }, { 'mizzen.dev/simulate-exit-code': '1' }));
    const failed = await eventually('job failed', async () => {
      const j = await get('fails');
      return cond(j, 'Failed') ? j : undefined;
    });
    assert.equal(failed.status.failed, 2);
    assert.equal(cond(failed, 'Failed').reason, 'BackoffLimitExceeded');
    assert.equal(cond(failed, 'Failed').message, 'Job has reached the specified backoff limit');
    assert.ok(cond(failed, 'FailureTarget'));
    assert.equal((await podsOf('fails')).length, 2);
  });

  it('fails with DeadlineExceeded and stops running pods', async () => {
    await tc.client.create({ ...JOBS, namespace: ns }, job('slow', { activeDeadlineSeconds: 1 }, { 'mizzen.dev/simulate-duration': '1h' }));
    const failed = await eventually('deadline', async () => {
      const j = await get('slow');
      return cond(j, 'Failed') ? j : undefined;
    });
    assert.equal(cond(failed, 'Failed').reason, 'DeadlineExceeded');
    assert.equal(cond(failed, 'Failed').message, 'Job was active longer than specified deadline');
    assert.equal(failed.status.active ?? 0, 0);
    assert.equal(failed.status.failed, 1);
  });

  it('runs Indexed jobs with one success per index', async () => {
    await tc.client.create({ ...JOBS, namespace: ns }, job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }, { 'mizzen.dev/simulate-duration': '100ms' }));
    const done = await eventually('indexed complete', async () => {
      const j = await get('idx');
      return cond(j, 'Complete') ? j : undefined;
    });
    assert.equal(done.status.completedIndexes, '0-2');
    assert.equal(done.status.succeeded, 3);
    const pods = await podsOf('idx');
    const idx = pods.map((p) => p.metadata.annotations!['batch.kubernetes.io/job-completion-index']).sort();
    assert.deepEqual(idx, ['0', '1', '2']);
    const p0 = pods.find((p) => p.metadata.labels!['batch.kubernetes.io/job-completion-index'] === '0')!;
    assert.equal(p0.spec.hostname, 'idx-0');
    assert.match(p0.metadata.name!, /^idx-0-/);
    assert.ok(p0.spec.containers[0].env.some((e: any) => e.name === 'JOB_COMPLETION_INDEX'));
  });

  it('suspends (deleting active pods) and resumes', async () => {
    await tc.client.create({ ...JOBS, namespace: ns }, job('sus', { parallelism: 2, completions: 2 }));
    await eventually('two active', async () => ((await get('sus')).status?.active === 2 ? true : undefined));
    await tc.client.patch({ ...JOBS, namespace: ns, name: 'sus' }, 'merge', { spec: { suspend: true } });
    const s = await eventually('suspended', async () => {
      const j = await get('sus');
      return cond(j, 'Suspended') && (j.status.active ?? 0) === 0 && (await podsOf('sus')).length === 0 ? j : undefined;
    });
    assert.equal(cond(s, 'Suspended').reason, 'JobSuspended');
    assert.equal(s.status.failed ?? 0, 0, 'suspension is not a failure');
    await tc.client.patch({ ...JOBS, namespace: ns, name: 'sus' }, 'merge', { spec: { suspend: false } });
    const r = await eventually('resumed', async () => {
      const j = await get('sus');
      return j.status?.active === 2 ? j : undefined;
    });
    const c = r.status.conditions.find((x: any) => x.type === 'Suspended');
    assert.equal(c.status, 'False');
    assert.equal(c.reason, 'JobResumed');
  });

  it('does not duplicate pods when the controller restarts mid-run', async () => {
    await tc.client.create({ ...JOBS, namespace: ns }, job('restart', { parallelism: 3, completions: 3 }));
    await eventually('three active', async () => ((await get('restart')).status?.active === 3 ? true : undefined));
    await env.stop();
    env = testControllerEnv(tc.client);
    await env.start(newJobController({ backoffBaseMs: 50, backoffMaxMs: 200 }));
    // Let the new controller sync a few times, then check nothing was added.
    await tc.client.patch({ ...JOBS, namespace: ns, name: 'restart' }, 'merge', { metadata: { labels: { poke: '1' } } });
    await eventually('resynced', async () => ((await get('restart')).status?.active === 3 ? true : undefined));
    assert.equal((await podsOf('restart')).length, 3);
  });
});
