import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceDef } from '../../api/types.ts';
import { field } from '../../machinery/errors.ts';
import { MemoryStore } from '../../storage/memory-store.ts';
import { WatchCache } from '../../storage/watch-cache.ts';
import { keyPrefix, objectKey } from '../../api/resource-keys.ts';
import { cacheView } from './cache-view.ts';
import { CachedObject, decodeKeyValue, objectsInFlight } from './cached-object.ts';
import { ResourceStore, noAdmission } from './resource-store.ts';

const widgets: ResourceDef = {
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  plural: 'widgets',
  singular: 'widget',
  namespaced: true,
  model: 'V1ConfigMap',
  tracksGeneration: true,
  status: {},
  strategy: {
    defaults: (o) => {
      o.spec ??= {};
      o.spec.size ??= 1;
    },
    validate: (o) => (o.spec.size < 0 ? [field.invalid('spec.size', o.spec.size, 'must be greater than or equal to 0')] : []),
  },
};

async function setup() {
  const store = new MemoryStore();
  const cache = new WatchCache<CachedObject>(store, keyPrefix(widgets), decodeKeyValue);
  await cache.start();
  const view = cacheView(cache, false);
  return new ResourceStore(widgets, store, view, {}, noAdmission);
}

test('create sets uid, timestamps, generation and defaults; status is dropped', async () => {
  const rs = await setup();
  const o = await rs.create('ns1', { metadata: { name: 'a' }, status: { ready: true } });
  assert.equal(o.kind, 'Widget');
  assert.equal(o.apiVersion, 'example.com/v1');
  assert.ok(o.metadata.uid);
  assert.ok(o.metadata.creationTimestamp);
  assert.equal(o.metadata.generation, 1);
  assert.equal(o.spec.size, 1);
  assert.equal(o.status, undefined);
  assert.equal(rs.get('ns1', 'a').obj.metadata.resourceVersion, o.metadata.resourceVersion);
});

test('generateName, duplicates and validation errors', async () => {
  const rs = await setup();
  const g = await rs.create('ns1', { metadata: { generateName: 'w-' } });
  assert.match(g.metadata.name!, /^w-[a-z0-9]{5}$/);
  await rs.create('ns1', { metadata: { name: 'dup' } });
  await assert.rejects(rs.create('ns1', { metadata: { name: 'dup' } }), (e: any) => e.code === 409 && e.reason === 'AlreadyExists');
  await assert.rejects(rs.create('ns1', { metadata: { name: 'bad' }, spec: { size: -1 } }), (e: any) => e.code === 422 && e.details.causes[0].field === 'spec.size');
  await assert.rejects(rs.create('ns1', { metadata: { name: 'Bad_Name' } }), (e: any) => e.code === 422 && e.details.causes[0].field === 'metadata.name');
  await assert.rejects(rs.create('ns1', { kind: 'Gadget', metadata: { name: 'x' } }), (e: any) => e.code === 400);
});

test('update: stale resourceVersion conflicts, generation bumps on spec only, status kept', async () => {
  const rs = await setup();
  const o = await rs.create('ns1', { metadata: { name: 'a' } });
  const rv = o.metadata.resourceVersion;
  const s = await rs.update('ns1', 'a', (cur) => ({ ...cur, status: { ready: true } }), { subresource: 'status' });
  assert.deepEqual(s.status, { ready: true });
  assert.equal(s.metadata.generation, 1);
  await assert.rejects(
    rs.update('ns1', 'a', () => ({ metadata: { name: 'a', resourceVersion: rv }, spec: { size: 2 } })),
    (e: any) => e.code === 409 && e.reason === 'Conflict',
  );
  const u = await rs.update('ns1', 'a', (cur) => ({ ...cur, spec: { size: 3 }, status: { ready: false } }));
  assert.equal(u.metadata.generation, 2);
  assert.deepEqual(u.status, { ready: true }, 'main resource update ignores status');
  const l = await rs.update('ns1', 'a', (cur) => ({ ...cur, metadata: { ...cur.metadata, labels: { x: 'y' } } }));
  assert.equal(l.metadata.generation, 2, 'metadata changes do not bump generation');
  const same = await rs.update('ns1', 'a', (cur) => cur);
  assert.equal(same.metadata.resourceVersion, l.metadata.resourceVersion, 'no-op update keeps resourceVersion');
});

test('delete with finalizers waits; removing the last finalizer deletes', async () => {
  const rs = await setup();
  await rs.create('ns1', { metadata: { name: 'f', finalizers: ['example.com/hold'] } });
  const r = await rs.delete('ns1', 'f');
  assert.equal(r.deleted, false);
  assert.ok(r.obj.metadata.deletionTimestamp);
  await assert.rejects(
    rs.update('ns1', 'f', (cur) => ({ ...cur, metadata: { ...cur.metadata, finalizers: ['example.com/hold', 'new'] } })),
    (e: any) => e.code === 422,
  );
  await rs.update('ns1', 'f', (cur) => ({ ...cur, metadata: { ...cur.metadata, finalizers: [] } }));
  assert.equal(rs.tryGet('ns1', 'f'), undefined);
  await rs.create('ns1', { metadata: { name: 'o' } });
  const orphan = await rs.delete('ns1', 'o', { propagationPolicy: 'Orphan' });
  assert.deepEqual(orphan.obj.metadata.finalizers, ['orphan']);
  await rs.create('ns1', { metadata: { name: 'p' } });
  await assert.rejects(rs.delete('ns1', 'p', { preconditions: { uid: 'nope' } }), (e: any) => e.code === 409);
  const gone = await rs.delete('ns1', 'p');
  assert.equal(gone.deleted, true);
  await assert.rejects(rs.delete('ns1', 'p'), (e: any) => e.code === 404);
});

test('dry run writes nothing', async () => {
  const rs = await setup();
  await rs.create('ns1', { metadata: { name: 'd' } }, { dryRun: true });
  assert.equal(rs.tryGet('ns1', 'd'), undefined);
});

test("a dry-run update answers the object with the stored resourceVersion, as upstream's dry-run storage does", async () => {
  // kubectl diff --server-side compares the live object with this answer: without the
  // resourceVersion it shows a spurious `-  resourceVersion: "N"` line.
  const rs = await setup();
  const live = await rs.create('ns1', { metadata: { name: 'd' } });
  const dry = await rs.update('ns1', 'd', (cur) => ({ ...cur, spec: { size: 5 } }), { dryRun: true });
  assert.equal(dry.spec.size, 5);
  assert.equal(dry.metadata.resourceVersion, live.metadata.resourceVersion);
  assert.equal(rs.get('ns1', 'd').obj.spec.size, 1);
});

test('the watch cache takes a written object as is (no parse of its stored text); nothing lingers', async () => {
  const store = new MemoryStore();
  const cache = new WatchCache<CachedObject>(store, keyPrefix(widgets), decodeKeyValue);
  await cache.start();
  const view = cacheView(cache, false);
  const rs = new ResourceStore(widgets, store, view, {}, noAdmission);
  const cached = () => cache.get(objectKey(widgets, 'ns1', 'w'))!.obj;
  const created = await rs.create('ns1', { metadata: { name: 'w' }, spec: { size: 2 } });
  assert.equal(cached().obj, created);
  assert.deepEqual(JSON.parse(cached().json), created);
  const updated = await rs.update('ns1', 'w', (cur) => ({ ...cur, spec: { size: 3 } }));
  assert.equal(cached().obj, updated);
  assert.equal(cached().obj.metadata.resourceVersion, updated.metadata.resourceVersion);
  await assert.rejects(rs.create('ns1', { metadata: { name: 'w' } }), (e: any) => e.code === 409);
  assert.equal(objectsInFlight.size, 0);
});
