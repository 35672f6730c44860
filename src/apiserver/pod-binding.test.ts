// pods/<name>/binding, the scheduler's write: what it changes, the Status of every refusal, and the
// Scheduled event the scheduler writes after it, as `kubectl describe pod` shows it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { ApiClient, ApiError } from '../client/api-client.ts';
import { ScheduledEventWriter } from '../scheduler/scheduled-events.ts';
import type { KObject } from '../api/types.ts';
import type { Pod } from '../scheduler/framework/types.ts';

let api: TestApiServer;
let client: ApiClient;
const pods = { version: 'v1', resource: 'pods', namespace: 'default' };

before(async () => {
  api = await startTestApiServer({ name: 'pod-binding', unixSocket: true });
  client = new ApiClient({ socketPath: api.socketPath, maxSockets: 4 });
});

after(async () => {
  client?.close();
  await api?.close();
});

function pod(name: string): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'bind' } }, spec: { containers: [{ name: 'c', image: 'pause' }] } };
}

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  assert.fail('the request was not refused');
}

const post = (name: string, body: unknown) => client.request('POST', `/api/v1/namespaces/default/pods/${name}/binding`, body);

test('a binding sets the node and PodScheduled, keeps managedFields, and is a new revision', async () => {
  const created = await client.create<KObject>(pods, pod('b1'));
  const status = await client.bind('default', 'b1', 'node-a', created.metadata.uid);
  assert.equal(status.status, 'Success');
  const bound = await client.get<KObject>({ ...pods, name: 'b1' });
  assert.equal(bound.spec.nodeName, 'node-a');
  const cond = bound.status.conditions.find((c: any) => c.type === 'PodScheduled');
  assert.equal(cond.status, 'True');
  assert.ok(Number(bound.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
  assert.deepEqual(bound.metadata.managedFields, created.metadata.managedFields);
  assert.deepEqual(bound.spec.containers, created.spec.containers);
});

test('binding a pod that has a node already is a 409 Conflict naming the node', async () => {
  await client.create(pods, pod('b2'));
  await client.bind('default', 'b2', 'node-a');
  const e = await refusal(client.bind('default', 'b2', 'node-b'));
  assert.equal(e.code, 409);
  assert.equal(e.reason, 'Conflict');
  assert.match(e.message, /pod b2 is already assigned to node "node-a"/);
  assert.equal((await client.get<KObject>({ ...pods, name: 'b2' })).spec.nodeName, 'node-a');
});

test('a binding for another uid is a 409 Conflict, and the pod stays unbound', async () => {
  await client.create(pods, pod('b3'));
  const e = await refusal(client.bind('default', 'b3', 'node-a', 'not-its-uid'));
  assert.equal(e.code, 409);
  assert.match(e.message, /Precondition failed: UID in precondition: not-its-uid/);
  assert.equal((await client.get<KObject>({ ...pods, name: 'b3' })).spec.nodeName, undefined);
});

test('bad bindings get 422 or 400, a missing pod 404', async () => {
  await client.create(pods, pod('b4'));
  const noTarget = await refusal(post('b4', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'b4' }, target: {} }));
  assert.equal(noTarget.code, 422);
  assert.equal(noTarget.reason, 'Invalid');
  assert.equal(noTarget.details?.causes?.[0]?.field, 'target.name');
  const notNode = await refusal(post('b4', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'b4' }, target: { kind: 'Service', name: 'x' } }));
  assert.equal(notNode.code, 422);
  assert.equal(notNode.details?.causes?.[0]?.field, 'target.kind');
  const otherName = await refusal(post('b4', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'b5' }, target: { kind: 'Node', name: 'node-a' } }));
  assert.equal(otherName.code, 400);
  const missing = await refusal(client.bind('default', 'no-such-pod', 'node-a'));
  assert.equal(missing.code, 404);
  assert.equal(missing.reason, 'NotFound');
  assert.equal((await client.get<KObject>({ ...pods, name: 'b4' })).spec.nodeName, undefined);
});

test('the Scheduled event written after a binding shows in kubectl describe pod', async () => {
  await client.create(pods, pod('b6'));
  await client.bind('default', 'b6', 'node-c');
  const bound = await client.get<KObject>({ ...pods, name: 'b6' });
  const writer = new ScheduledEventWriter(client);
  writer.scheduled(bound as unknown as Pod, 'node-c');
  await writer.flush();
  const { stdout } = await promisify(execFile)('/usr/bin/kubectl', ['--kubeconfig', api.kubeconfig, 'describe', 'pod', 'b6', '-n', 'default']);
  assert.match(stdout, /Node:\s+node-c/);
  assert.match(stdout, /Normal\s+Scheduled\s+.*default-scheduler\s+Successfully assigned default\/b6 to node-c/);
});
