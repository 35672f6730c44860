// TTL-after-finished against a real API server: a finished Job with a TTL is deleted in the
// foreground (its pods with it), one without a TTL stays.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { isNotFound, rfc3339 } from '../../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { createNamespace, eventually, testControllerEnv, type TestControllerEnv } from '../test-support.ts';
import { garbageCollectorController } from '../garbagecollector/index.ts';
import { timeLeft, ttlAfterFinishedController } from './index.ts';

let tc: TestCluster;
let env: TestControllerEnv;

before(async () => {
  tc = await startTestCluster();
  env = testControllerEnv(tc.kubeconfig);
  await env.start(ttlAfterFinishedController, garbageCollectorController);
});
after(async () => {
  await env.stop();
  await tc.close();
});

const jobsIn = (ns: string) => ({ group: 'batch', version: 'v1', resource: 'jobs', namespace: ns });

async function createJob(ns: string, name: string, ttl?: number): Promise<KObject> {
  return tc.client.create<KObject>(jobsIn(ns), {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      ttlSecondsAfterFinished: ttl,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
    },
  });
}

async function finish(job: KObject): Promise<KObject> {
  const now = rfc3339();
  job.status = {
    startTime: now,
    completionTime: now,
    succeeded: 1,
    conditions: [
      { type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: now, lastTransitionTime: now },
      { type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now },
    ],
  };
  return tc.client.updateStatus<KObject>({ ...jobsIn(job.metadata.namespace!), name: job.metadata.name! }, job);
}

test('a finished job is deleted with its pods once its TTL has passed', async () => {
  const ns = await createNamespace(tc.client, 'ttl');
  const job = await createJob(ns, 'short', 0);
  await finish(await createJob(ns, 'forever'));
  const pods = { version: 'v1', resource: 'pods', namespace: ns };
  await tc.client.create(pods, {
    metadata: {
      name: 'short-x',
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'short', uid: job.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
  });
  // Finish the job only once the collector's pod cache has its pod (watches of kinds are not ordered).
  await eventually('pod cached', () => env.informers.informerFor({ version: 'v1', resource: 'pods' }).indexer.getByKey(`${ns}/short-x`));
  await finish(job);
  await eventually('job deleted', async () => {
    try {
      await tc.client.get({ group: 'batch', version: 'v1', resource: 'jobs', namespace: ns, name: 'short' });
      return undefined;
    } catch (e) {
      return isNotFound(e) ? true : undefined;
    }
  });
  const left = await tc.client.list<KObject>(pods);
  assert.equal(left.items.length, 0, 'pods deleted before the job');
  await tc.client.get({ group: 'batch', version: 'v1', resource: 'jobs', namespace: ns, name: 'forever' });
});

test('timeLeft counts from the finish condition and ignores unfinished or TTL-less jobs', () => {
  const at = '2024-01-01T00:00:00Z';
  const t0 = Date.parse(at);
  const job = (ttl: number | undefined, type?: string): KObject => ({
    metadata: { name: 'j' },
    spec: { ttlSecondsAfterFinished: ttl },
    status: { conditions: type ? [{ type, status: 'True', lastTransitionTime: at }] : [] },
  });
  assert.equal(timeLeft(job(10, 'Complete'), t0 + 4000), 6000);
  assert.equal(timeLeft(job(10, 'Failed'), t0 + 12_000), -2000);
  assert.equal(timeLeft(job(undefined, 'Complete'), t0), undefined);
  assert.equal(timeLeft(job(10), t0), undefined);
  assert.equal(timeLeft(job(10, 'Suspended'), t0), undefined);
});
