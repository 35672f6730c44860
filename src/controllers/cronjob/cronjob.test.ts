import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { startTestCluster, type TestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { startSimulatedNodes, type SimulatedNodes } from '../../kubelet/simulated/simulator.ts';
import { eventually, startRoundRobinBinder, testControllerEnv, type TestControllerEnv } from '../test-support.ts';
import { newJobController } from '../job/job-controller.ts';
import { CRONJOBS, JOBS } from '../job/pod-helpers.ts';
import { newCronJobController, jobNameFor, SCHEDULED_TIMESTAMP_ANNOTATION } from './cronjob-controller.ts';

describe('cronjob controller', () => {
  let tc: TestCluster;
  let nodes: SimulatedNodes;
  let binder: { stop(): Promise<void> };
  let env: TestControllerEnv;
  const ns = 'default';
  // The controller's clock; tests move it and poke the CronJob to make it look again.
  let now = Date.now();

  before(async () => {
    tc = await startTestCluster();
    nodes = await startSimulatedNodes({ client: tc.client, count: 1, maxStopMs: 50 });
    binder = startRoundRobinBinder(tc.client, nodes.nodes);
    env = testControllerEnv(tc.client);
    await env.start(newCronJobController({ now: () => now }), newJobController({ backoffBaseMs: 50 }));
  });
  after(async () => {
    await env.stop();
    await binder.stop();
    await nodes.close();
    await tc.close();
  });

  let pokes = 0;
  const poke = (name: string) => tc.client.patch({ ...CRONJOBS, namespace: ns, name }, 'merge', { metadata: { labels: { poke: String(++pokes) } } });
  const getCJ = (name: string) => tc.client.get<KObject>({ ...CRONJOBS, namespace: ns, name });
  const jobsOf = async (name: string) =>
    (await tc.client.list<KObject>({ ...JOBS, namespace: ns })).items.filter((j) => j.metadata.ownerReferences?.[0]?.name === name && !j.metadata.deletionTimestamp);
  const events = async (name: string) =>
    (await tc.client.list<KObject>({ version: 'v1', resource: 'events', namespace: ns }, { fieldSelector: `involvedObject.name=${name}` })).items;

  function cronJob(name: string, spec: any, podAnnotations: Record<string, string> = {}): KObject {
    return {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name },
      spec: {
        schedule: '* * * * *',
        ...spec,
        jobTemplate: {
          metadata: { labels: { app: name } },
          spec: { template: { metadata: { annotations: podAnnotations }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
        },
      },
    };
  }

  /** The start of the next minute after the CronJob's creation (what the schedule fires at). */
  async function firstMinute(name: string): Promise<number> {
    const created = Date.parse((await getCJ(name)).metadata.creationTimestamp!);
    return Math.floor(created / 60_000) * 60_000 + 60_000;
  }

  it('starts a Job per schedule time, records status and prunes history', async () => {
    await tc.client.create({ ...CRONJOBS, namespace: ns }, cronJob('tick', { successfulJobsHistoryLimit: 2 }, { 'mizzen.dev/simulate-duration': '50ms' }));
    const t0 = await firstMinute('tick');
    for (let i = 0; i < 3; i++) {
      const t = t0 + i * 60_000;
      now = t + 5_000;
      await poke('tick');
      const jobName = jobNameFor('tick', t);
      const cj = await eventually(`job ${i} done`, async () => {
        const c = await getCJ('tick');
        return c.status?.lastSuccessfulTime && Date.parse(c.status.lastScheduleTime) === t && !c.status.active ? c : undefined;
      });
      assert.ok(cj.status.lastSuccessfulTime);
      if (i === 0) {
        const j = await tc.client.get<KObject>({ ...JOBS, namespace: ns, name: jobName });
        assert.equal(j.metadata.annotations![SCHEDULED_TIMESTAMP_ANNOTATION], new Date(t).toISOString().replace('.000Z', 'Z'));
        assert.equal(j.metadata.labels!.app, 'tick');
        assert.equal(j.metadata.ownerReferences![0].kind, 'CronJob');
      }
    }
    await eventually('history pruned to 2', async () => ((await jobsOf('tick')).length === 2 ? true : undefined));
    const evs = await eventually('events', async () => {
      const e = await events('tick');
      const reasons = new Set(e.map((x) => x.reason));
      return reasons.has('SuccessfulCreate') && reasons.has('SawCompletedJob') && reasons.has('SuccessfulDelete') ? e : undefined;
    });
    assert.equal(evs.find((e) => e.reason === 'SuccessfulCreate' && e.message === `Created job ${jobNameFor('tick', t0)}`)?.type, 'Normal');
    assert.ok(evs.some((e) => e.reason === 'SawCompletedJob' && e.message === `Saw completed job: ${jobNameFor('tick', t0)}, condition: Complete`));
    assert.ok(evs.some((e) => e.reason === 'SuccessfulDelete' && e.message === `Deleted job ${jobNameFor('tick', t0)}`));
  });

  it('Forbid skips while a Job runs; Replace swaps it', async () => {
    await tc.client.create({ ...CRONJOBS, namespace: ns }, cronJob('busy', { concurrencyPolicy: 'Forbid' }));
    const t0 = await firstMinute('busy');
    now = t0 + 1_000;
    await poke('busy');
    await eventually('first job active', async () => ((await getCJ('busy')).status?.active?.length === 1 ? true : undefined));
    now = t0 + 61_000;
    await poke('busy');
    await eventually('JobAlreadyActive', async () => ((await events('busy')).some((e) => e.reason === 'JobAlreadyActive') ? true : undefined));
    assert.equal((await jobsOf('busy')).length, 1);

    now = t0 + 121_000;
    await tc.client.patch({ ...CRONJOBS, namespace: ns, name: 'busy' }, 'merge', { spec: { concurrencyPolicy: 'Replace' } });
    const second = jobNameFor('busy', t0 + 120_000);
    const cj = await eventually('replaced', async () => {
      const c = await getCJ('busy');
      return c.status?.active?.length === 1 && c.status.active[0].name === second ? c : undefined;
    });
    assert.equal(cj.status.active[0].kind, 'Job');
    const names = (await jobsOf('busy')).map((j) => j.metadata.name);
    assert.deepEqual(names, [second]);
  });

  it('skips a start past startingDeadlineSeconds, and does nothing while suspended', async () => {
    await tc.client.create({ ...CRONJOBS, namespace: ns }, cronJob('late', { startingDeadlineSeconds: 10, suspend: true }));
    const t0 = await firstMinute('late');
    now = t0 + 5_000;
    await poke('late');
    await tc.client.patch({ ...CRONJOBS, namespace: ns, name: 'late' }, 'merge', { metadata: { labels: { seen: 'yes' } } });
    assert.equal((await jobsOf('late')).length, 0);
    now = t0 + 30_000;
    await tc.client.patch({ ...CRONJOBS, namespace: ns, name: 'late' }, 'merge', { spec: { suspend: false, startingDeadlineSeconds: 20 } });
    // The t0 run is outside the 20 s window at t0+30s: it is skipped, not started late.
    await tc.client.patch({ ...CRONJOBS, namespace: ns, name: 'late' }, 'merge', { metadata: { labels: { seen: 'again' } } });
    assert.equal((await jobsOf('late')).length, 0);
    now = t0 + 65_000;
    await poke('late');
    await eventually('next run starts on time', async () => ((await jobsOf('late')).some((j) => j.metadata.name === jobNameFor('late', t0 + 60_000)) ? true : undefined));
    assert.equal((await jobsOf('late')).length, 1);
  });
});
