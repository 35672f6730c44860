// Server-side apply and managed fields on custom resources, against a real API server: the apply
// type comes from the served version's structural schema (x-kubernetes-list-type map/set,
// x-kubernetes-map-type), so lists are merged by key between managers, conflicts name the owner,
// and a CRD change (a new schema) is what the next apply follows.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { ApiClient, ApiError } from '../client/api-client.ts';
import { poll } from '../testing/poll.ts';
import type { KObject } from '../api/types.ts';

let api: TestApiServer;
let client: ApiClient;

const applyType = { 'Content-Type': 'application/apply-patch+yaml' };
const mergeType = { 'Content-Type': 'application/merge-patch+json' };
const crdPath = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const widgets = '/apis/apply.example.com/v1/namespaces/default/widgets';

function widgetSchema(tagsListType?: 'set') {
  return {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          replicas: { type: 'integer' },
          image: { type: 'string' },
          ports: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['name', 'protocol'],
            items: {
              type: 'object',
              required: ['name'],
              properties: { name: { type: 'string' }, port: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' } },
            },
          },
          tags: { type: 'array', items: { type: 'string' }, ...(tagsListType ? { 'x-kubernetes-list-type': tagsListType } : {}) },
          settings: { type: 'object', 'x-kubernetes-map-type': 'atomic', additionalProperties: { type: 'string' } },
        },
      },
      status: { type: 'object', properties: { ready: { type: 'boolean' } } },
    },
  };
}

function widgetCRD(tagsListType?: 'set'): KObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.apply.example.com' },
    spec: {
      group: 'apply.example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: widgetSchema(tagsListType) } }],
    },
  };
}

function widget(name: string, spec: Record<string, unknown>): KObject {
  return { apiVersion: 'apply.example.com/v1', kind: 'Widget', metadata: { name }, spec };
}

const mf = (o: KObject): any[] => (o.metadata.managedFields ?? []) as any[];
const entry = (o: KObject, manager: string) => mf(o).find((e) => e.manager === manager);

async function failure(p: Promise<unknown>): Promise<{ code: number; message: string; causes?: unknown[] }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return { code: e.status.code, message: e.status.message ?? '', causes: e.status.details?.causes };
    throw e;
  }
  throw new Error('expected the request to fail');
}

/** Until the API server serves the CRD at this resourceVersion or later (its serving bundle swapped in). */
async function served(crd: KObject): Promise<void> {
  await poll(() => api.server.customResources.serving('apply.example.com', 'widgets')?.crd.metadata.resourceVersion, {
    what: `the CRD served at ${crd.metadata.resourceVersion}`,
    timeoutMs: 10_000,
    done: (rv) => rv !== undefined && Number(rv) >= Number(crd.metadata.resourceVersion),
  });
  await poll(() => api.server.customResources.lookup('apply.example.com', 'v1', 'widgets'), { what: 'widgets served', timeoutMs: 10_000 });
}

before(async () => {
  api = await startTestApiServer({ name: 'cr-apply', unixSocket: true });
  client = new ApiClient({ socketPath: api.socketPath, maxSockets: 4, userAgent: 'cr-apply-test/1.0 (linux)' });
  await served(await client.request<KObject>('POST', crdPath, widgetCRD()));
  await poll(
    async () => (await client.request<KObject>('GET', `${crdPath}/widgets.apply.example.com`)).status?.conditions?.some((c: any) => c.type === 'Established' && c.status === 'True'),
    { what: 'the CRD established', timeoutMs: 10_000 },
  );
});

after(async () => {
  client?.close();
  await api?.close();
});

test('apply creates a custom resource with an Apply entry in its version; a create records an Update entry', async () => {
  const created = await client.request<KObject>('PATCH', `${widgets}/first?fieldManager=alice`, widget('first', { replicas: 1, ports: [{ name: 'http', port: 80 }] }), applyType);
  assert.equal(created.spec.replicas, 1);
  assert.deepEqual(created.spec.ports, [{ name: 'http', port: 80, protocol: 'TCP' }], 'defaulted by the schema');
  const e = entry(created, 'alice');
  assert.deepEqual([e.operation, e.apiVersion, e.fieldsType], ['Apply', 'apply.example.com/v1', 'FieldsV1']);
  // The list item is owned by its keys (name and the defaulted protocol), as upstream writes them.
  assert.equal(
    JSON.stringify(e.fieldsV1),
    '{"f:spec":{"f:ports":{"k:{\\"name\\":\\"http\\",\\"protocol\\":\\"TCP\\"}":{".":{},"f:name":{},"f:port":{}}},"f:replicas":{}}}',
  );
  // The same apply again writes nothing.
  const again = await client.request<KObject>('PATCH', `${widgets}/first?fieldManager=alice`, widget('first', { replicas: 1, ports: [{ name: 'http', port: 80 }] }), applyType);
  assert.equal(again.metadata.resourceVersion, created.metadata.resourceVersion);

  const posted = await client.request<KObject>('POST', widgets, widget('posted', { image: 'x' }));
  assert.deepEqual(
    mf(posted).map((x) => [x.manager, x.operation, x.apiVersion, JSON.stringify(x.fieldsV1)]),
    [['cr-apply-test', 'Update', 'apply.example.com/v1', '{"f:spec":{".":{},"f:image":{}}}']],
  );
});

test('two managers: a map-type list merged by key, a conflict on a shared field, force, and removal', async () => {
  await client.request('PATCH', `${widgets}/shared?fieldManager=alice`, widget('shared', { replicas: 1, image: 'a:1', ports: [{ name: 'http', port: 80 }] }), applyType);
  // Bob adds his own port: both items stay, each owned by its applier.
  const merged = await client.request<KObject>('PATCH', `${widgets}/shared?fieldManager=bob`, widget('shared', { ports: [{ name: 'metrics', port: 9090 }] }), applyType);
  assert.deepEqual(
    merged.spec.ports.map((p: any) => [p.name, p.port]),
    [
      ['http', 80],
      ['metrics', 9090],
    ],
  );
  assert.match(JSON.stringify(entry(merged, 'bob').fieldsV1), /metrics/);
  assert.doesNotMatch(JSON.stringify(entry(merged, 'bob').fieldsV1), /http/);

  // Bob changing Alice's replicas is a conflict naming her and the field.
  const s = await failure(client.request('PATCH', `${widgets}/shared?fieldManager=bob`, widget('shared', { replicas: 3, ports: [{ name: 'metrics', port: 9090 }] }), applyType));
  assert.equal(s.code, 409);
  assert.equal(s.message, 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas');
  assert.deepEqual(s.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.spec.replicas' }]);
  // Changing the same item of the keyed list is a conflict on that item's field.
  const item = await failure(client.request('PATCH', `${widgets}/shared?fieldManager=bob`, widget('shared', { ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }] }), applyType));
  assert.equal(item.code, 409);
  assert.equal(item.message, 'Apply failed with 1 conflict: conflict with "alice": .spec.ports[name="http",protocol="TCP"].port');

  // Forced, Bob takes replicas; Alice no longer owns it.
  const forced = await client.request<KObject>('PATCH', `${widgets}/shared?fieldManager=bob&force=true`, widget('shared', { replicas: 3, ports: [{ name: 'metrics', port: 9090 }] }), applyType);
  assert.equal(forced.spec.replicas, 3);
  assert.doesNotMatch(JSON.stringify(entry(forced, 'alice').fieldsV1), /f:replicas/);

  // Alice stops applying her port (and replicas, now Bob's): her port goes, Bob's fields stay.
  const removed = await client.request<KObject>('PATCH', `${widgets}/shared?fieldManager=alice`, widget('shared', { image: 'a:1' }), applyType);
  assert.deepEqual(removed.spec.ports.map((p: any) => p.name), ['metrics']);
  assert.equal(removed.spec.replicas, 3);

  // An update by a third writer takes the field it changed; an apply then conflicts with it.
  await client.request('PATCH', `${widgets}/shared?fieldManager=carol`, { spec: { image: 'c:1' } }, mergeType);
  const c = await failure(client.request('PATCH', `${widgets}/shared?fieldManager=alice`, widget('shared', { image: 'a:2' }), applyType));
  assert.equal(c.code, 409);
  assert.equal(c.message, 'Apply failed with 1 conflict: conflict with "carol" using apply.example.com/v1: .spec.image');
});

test('an atomic map is replaced whole; a field the schema does not declare is refused', async () => {
  await client.request('PATCH', `${widgets}/atomic?fieldManager=alice`, widget('atomic', { settings: { a: '1', b: '2' } }), applyType);
  const s = await failure(client.request('PATCH', `${widgets}/atomic?fieldManager=bob`, widget('atomic', { settings: { c: '3' } }), applyType));
  assert.equal(s.message, 'Apply failed with 1 conflict: conflict with "alice": .spec.settings');
  const forced = await client.request<KObject>('PATCH', `${widgets}/atomic?fieldManager=bob&force=true`, widget('atomic', { settings: { c: '3' } }), applyType);
  assert.deepEqual(forced.spec.settings, { c: '3' });

  const bad = await failure(client.request('PATCH', `${widgets}/atomic?fieldManager=bob`, widget('atomic', { colour: 'red' }), applyType));
  assert.equal(bad.code, 400);
  assert.equal(bad.message, 'failed to create typed patch object (/atomic; apply.example.com/v1, Kind=Widget): .spec.colour: field not declared in schema');
});

test('status is applied through its subresource, owned there', async () => {
  await client.request('PATCH', `${widgets}/st?fieldManager=alice`, widget('st', { replicas: 1 }), applyType);
  const cfg = { apiVersion: 'apply.example.com/v1', kind: 'Widget', metadata: { name: 'st' }, status: { ready: true } };
  const main = await client.request<KObject>('PATCH', `${widgets}/st?fieldManager=controller`, cfg, applyType);
  assert.equal(main.status, undefined, 'the main resource does not apply status');
  const st = await client.request<KObject>('PATCH', `${widgets}/st/status?fieldManager=controller`, cfg, applyType);
  assert.deepEqual(st.status, { ready: true });
  const e = mf(st).find((x) => x.manager === 'controller' && x.subresource === 'status');
  assert.equal(JSON.stringify(e.fieldsV1), '{"f:status":{"f:ready":{}}}');
});

test('after a CRD change the next apply follows the new schema (a list that became a set)', async () => {
  // Atomic (no list type): a second applier's tags conflict with the first's.
  await client.request('PATCH', `${widgets}/tags?fieldManager=alice`, widget('tags', { tags: ['a'] }), applyType);
  const atomic = await failure(client.request('PATCH', `${widgets}/tags?fieldManager=bob`, widget('tags', { tags: ['b'] }), applyType));
  assert.equal(atomic.message, 'Apply failed with 1 conflict: conflict with "alice": .spec.tags');

  const current = await client.request<KObject>('GET', `${crdPath}/widgets.apply.example.com`);
  const next = widgetCRD('set');
  next.metadata.resourceVersion = current.metadata.resourceVersion;
  await served(await client.request<KObject>('PUT', `${crdPath}/widgets.apply.example.com`, next));

  // As a set, each applier owns its own values and both stay.
  await client.request('PATCH', `${widgets}/tags?fieldManager=alice`, widget('tags', { tags: ['a'] }), applyType);
  const union = await client.request<KObject>('PATCH', `${widgets}/tags?fieldManager=bob`, widget('tags', { tags: ['b'] }), applyType);
  assert.deepEqual(union.spec.tags, ['a', 'b']);
  assert.equal(JSON.stringify(entry(union, 'bob').fieldsV1), '{"f:spec":{"f:tags":{"v:\\"b\\"":{}}}}');
});
