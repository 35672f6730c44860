// Writes to /status keep the metadata changes they carry (labels, annotations), as upstream's
// status strategies do: only the spec comes from the stored object (and, per kind, what upstream
// resets too: a Deployment's labels, a Pod's owner references). Upstream's conformance tests
// "Job should apply changes to a job status" and "CronJob should support CronJob API operations"
// patch an annotation through /status and read it back.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../../testing/api-server.ts';
import { ApiClient, ApiError } from '../../client/api-client.ts';
import type { KObject } from '../../api/types.ts';

let api: TestApiServer;
let client: ApiClient;

before(async () => {
  api = await startTestApiServer({ name: 'status-sub', unixSocket: true });
  client = new ApiClient({ socketPath: api.socketPath, maxSockets: 4 });
});

after(async () => {
  client?.close();
  await api?.close();
});

const ns = 'default';
const JOBS = { group: 'batch', version: 'v1', resource: 'jobs', namespace: ns };
const CRONJOBS = { group: 'batch', version: 'v1', resource: 'cronjobs', namespace: ns };
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments', namespace: ns };
const PODS = { version: 'v1', resource: 'pods', namespace: ns };
const template = { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } };

test('a merge patch to jobs/status keeps its annotation and status, not its spec change', async () => {
  await client.create(JOBS, { metadata: { name: 'j1' }, spec: { parallelism: 1, template } });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const patched = await client.patch<KObject>({ ...JOBS, name: 'j1', subresource: 'status' }, 'merge', {
    metadata: { annotations: { patchedstatus: 'true' } },
    spec: { parallelism: 3 },
    status: { startTime: now },
  });
  assert.equal(patched.metadata.annotations?.patchedstatus, 'true');
  assert.equal(patched.status.startTime, now);
  assert.equal(patched.spec.parallelism, 1);
  const got = await client.get<KObject>({ ...JOBS, name: 'j1', subresource: 'status' });
  assert.equal(got.metadata.annotations?.patchedstatus, 'true');
  assert.equal(got.metadata.generation, 1);
});

test('an update of cronjobs/status keeps a new label and annotation', async () => {
  const cj = await client.create<KObject>(CRONJOBS, { metadata: { name: 'cj1' }, spec: { schedule: '*/1 * * * *', jobTemplate: { spec: { template } } } });
  cj.metadata.labels = { updated: 'yes' };
  cj.metadata.annotations = { updatedstatus: 'true' };
  cj.status = { lastScheduleTime: '2024-01-01T00:00:00Z' };
  cj.spec.schedule = '*/2 * * * *';
  const updated = await client.updateStatus<KObject>({ ...CRONJOBS, name: 'cj1' }, cj);
  assert.deepEqual(updated.metadata.labels, { updated: 'yes' });
  assert.equal(updated.metadata.annotations?.updatedstatus, 'true');
  assert.equal(updated.status.lastScheduleTime, '2024-01-01T00:00:00Z');
  assert.equal(updated.spec.schedule, '*/1 * * * *');
});

test('metadata written through /status is validated as in any update', async () => {
  await assert.rejects(
    client.patch({ ...JOBS, name: 'j1', subresource: 'status' }, 'merge', { metadata: { labels: { 'bad key!': 'x' } } }),
    (e: unknown) => e instanceof ApiError && e.status.code === 422 && /metadata\.labels/.test(e.message),
  );
});

test("deployments/status keeps the stored labels (upstream resets them) but takes annotations", async () => {
  await client.create(DEPLOYMENTS, {
    metadata: { name: 'd1', labels: { app: 'd1' } },
    spec: { selector: { matchLabels: { app: 'd1' } }, template: { metadata: { labels: { app: 'd1' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  });
  const patched = await client.patch<KObject>({ ...DEPLOYMENTS, name: 'd1', subresource: 'status' }, 'merge', {
    metadata: { labels: { app: 'changed' }, annotations: { note: 'x' } },
  });
  assert.deepEqual(patched.metadata.labels, { app: 'd1' });
  assert.equal(patched.metadata.annotations?.note, 'x');
});

test('pods/status keeps the stored owner references and takes labels', async () => {
  await client.create(PODS, { metadata: { name: 'p1' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  const patched = await client.patch<KObject>({ ...PODS, name: 'p1', subresource: 'status' }, 'strategic', {
    metadata: { labels: { seen: 'yes' }, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' }] },
  });
  assert.equal(patched.metadata.labels?.seen, 'yes');
  assert.equal(patched.metadata.ownerReferences, undefined);
});
