// Server-side apply and managed fields through the HTTP API, against a real API server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { ApiClient, ApiError } from '../client/api-client.ts';
import type { KObject } from '../api/types.ts';

let api: TestApiServer;
let client: ApiClient;

before(async () => {
  api = await startTestApiServer({ name: 'apply', unixSocket: true });
  client = new ApiClient({ socketPath: api.socketPath, maxSockets: 4, userAgent: 'apply-test/1.0 (linux)' });
});

after(async () => {
  client?.close();
  await api?.close();
});

const applyType = { 'Content-Type': 'application/apply-patch+yaml' };
const deployments = '/apis/apps/v1/namespaces/default/deployments';

function deployment(name: string, replicas?: number): KObject {
  const d: KObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'registry.local/app:1' }] } },
    },
  };
  if (replicas !== undefined) d.spec.replicas = replicas;
  return d;
}

const mf = (o: KObject): any[] => (o.metadata.managedFields ?? []) as any[];

async function status(p: Promise<unknown>): Promise<{ code: number; message: string; causes?: unknown[] }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return { code: e.status.code, message: e.status.message ?? '', causes: e.status.details?.causes };
    throw e;
  }
  return { code: 200, message: '' };
}

test('apply creates the object, and the same apply again writes nothing', async () => {
  const created = await client.request<KObject>('PATCH', `${deployments}/first?fieldManager=tester`, deployment('first', 2), applyType);
  assert.equal(created.spec.replicas, 2);
  assert.equal(mf(created)[0].manager, 'tester');
  assert.equal(mf(created)[0].operation, 'Apply');
  const again = await client.request<KObject>('PATCH', `${deployments}/first?fieldManager=tester`, deployment('first', 2), applyType);
  assert.equal(again.metadata.resourceVersion, created.metadata.resourceVersion);
  // YAML works too, and an apply changing a value writes.
  const yaml = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: first\nspec:\n  replicas: 4\n  selector:\n    matchLabels:\n      app: first\n  template:\n    metadata:\n      labels:\n        app: first\n    spec:\n      containers:\n      - name: c\n        image: registry.local/app:1\n`;
  const changed = await client.request<KObject>('PATCH', `${deployments}/first?fieldManager=tester`, yaml, applyType);
  assert.equal(changed.spec.replicas, 4);
  assert.notEqual(changed.metadata.resourceVersion, created.metadata.resourceVersion);
});

test('patch options are checked as upstream', async () => {
  let s = await status(client.request('PATCH', `${deployments}/x`, deployment('x'), applyType));
  assert.equal(s.code, 422);
  assert.equal(s.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  s = await status(client.request('PATCH', `${deployments}/first?force=true`, { spec: { replicas: 1 } }, { 'Content-Type': 'application/merge-patch+json' }));
  assert.equal(s.code, 422);
  assert.equal(s.message, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
  s = await status(client.request('POST', `/api/v1/namespaces/default/configmaps?fieldManager=${'x'.repeat(129)}`, { metadata: { name: 'long' } }));
  assert.equal(s.code, 422);
  assert.match(s.message, /^CreateOptions\.meta\.k8s\.io "" is invalid: fieldManager: Too long/);
  s = await status(client.request('PATCH', `${deployments}/first?fieldManager=tester`, deployment('first'), { 'Content-Type': 'application/apply-patch+cbor' }));
  assert.equal(s.code, 415);
  s = await status(client.request('PATCH', `${deployments}/first?fieldManager=tester`, { ...deployment('first'), spec: { replicass: 1 } }, applyType));
  assert.equal(s.code, 400);
  assert.equal(s.message, 'failed to create typed patch object (/first; apps/v1, Kind=Deployment): .spec.replicass: field not declared in schema');
  s = await status(client.request('PATCH', `${deployments}/other?fieldManager=tester`, deployment('first'), applyType));
  assert.equal(s.code, 400);
  assert.equal(s.message, 'the name of the object (first) does not match the name on the URL (other)');
});

test('conflicts between two managers: 409 with causes; force takes the field', async () => {
  await client.request('PATCH', `${deployments}/shared?fieldManager=one`, deployment('shared', 1), applyType);
  const s = await status(client.request('PATCH', `${deployments}/shared?fieldManager=two`, deployment('shared', 3), applyType));
  assert.equal(s.code, 409);
  assert.equal(s.message, 'Apply failed with 1 conflict: conflict with "one": .spec.replicas');
  assert.deepEqual(s.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "one"', field: '.spec.replicas' }]);
  const forced = await client.request<KObject>('PATCH', `${deployments}/shared?fieldManager=two&force=true`, deployment('shared', 3), applyType);
  assert.equal(forced.spec.replicas, 3);
  const one = mf(forced).find((e: any) => e.manager === 'one');
  assert.ok(!JSON.stringify(one.fieldsV1).includes('f:replicas'));
});

test('every write records its manager: the fieldManager parameter, else the user agent', async () => {
  const cm = await client.request<KObject>('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'ua' }, data: { a: '1' } });
  assert.deepEqual(
    mf(cm).map((e: any) => [e.manager, e.operation, e.apiVersion, JSON.stringify(e.fieldsV1)]),
    [['apply-test', 'Update', 'v1', '{"f:data":{".":{},"f:a":{}}}']],
  );
  const patched = await client.request<KObject>('PATCH', '/api/v1/namespaces/default/configmaps/ua?fieldManager=editor', { data: { b: '2' } }, { 'Content-Type': 'application/merge-patch+json' });
  assert.deepEqual(mf(patched).map((e: any) => e.manager), ['apply-test', 'editor']);
  // A PUT of what was read changes nothing and writes nothing.
  const put = await client.request<KObject>('PUT', '/api/v1/namespaces/default/configmaps/ua', patched);
  assert.equal(put.metadata.resourceVersion, patched.metadata.resourceVersion);
  // `[{}]` resets managed fields (and later updates are not tracked until an apply).
  const reset = await client.request<KObject>('PATCH', '/api/v1/namespaces/default/configmaps/ua', { metadata: { managedFields: [{}] } }, { 'Content-Type': 'application/merge-patch+json' });
  assert.equal(reset.metadata.managedFields, undefined);
});

test('dry-run applies are answered but not stored', async () => {
  const dry = await client.request<KObject>('PATCH', `${deployments}/dry?fieldManager=tester&dryRun=All`, deployment('dry', 1), applyType);
  assert.equal(dry.spec.replicas, 1);
  assert.equal((await status(client.request('GET', `${deployments}/dry`))).code, 404);
});

test('status and scale subresources', async () => {
  await client.request('PATCH', `${deployments}/sub?fieldManager=tester`, deployment('sub', 1), applyType);
  // An apply to the main resource does not change status.
  const statusCfg = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'sub' }, status: { conditions: [{ type: 'MyStatus', status: 'True' }] } };
  const main = await client.request<KObject>('PATCH', `${deployments}/sub?fieldManager=status-applier`, statusCfg, applyType);
  assert.equal(main.status?.conditions, undefined);
  const st = await client.request<KObject>('PATCH', `${deployments}/sub/status?fieldManager=status-applier`, statusCfg, applyType);
  assert.deepEqual(st.status.conditions, [{ type: 'MyStatus', status: 'True' }]);
  const e = mf(st).find((x: any) => x.manager === 'status-applier' && x.subresource === 'status');
  assert.equal(JSON.stringify(e.fieldsV1), '{"f:status":{"f:conditions":{"k:{\\"type\\":\\"MyStatus\\"}":{".":{},"f:status":{},"f:type":{}}}}}');
  // Scale: the replicas, owned by the scale applier (the deployment's applier had them: force).
  const scale = await client.request<KObject>(
    'PATCH',
    `${deployments}/sub/scale?fieldManager=scaler&force=true`,
    { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'sub' }, spec: { replicas: 5 } },
    applyType,
  );
  assert.equal(scale.kind, 'Scale');
  assert.equal(scale.spec.replicas, 5);
  const dep = await client.request<KObject>('GET', `${deployments}/sub`);
  const scaler = mf(dep).find((x: any) => x.manager === 'scaler');
  assert.equal(scaler.subresource, 'scale');
  assert.equal(JSON.stringify(scaler.fieldsV1), '{"f:spec":{"f:replicas":{}}}');
});
