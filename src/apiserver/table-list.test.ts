// Tables of cached objects written as text (src/apiserver/table-list.ts) say what toTable says of
// the parsed objects: the same cells (kept cells with their ages redone later, pods whose restarts
// say "ago" made again), the same PartialObjectMetadata cut from the stored text, however tricky the
// text; and kubectl prints upstream's pod columns from them, across pages.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import http from 'node:http';
import { CachedObject, decodeKeyValue, encodeForStorage } from './registry/cached-object.ts';
import { PackedKeyValue } from '../storage/packed-text.ts';
import { noneRows, tableRows } from './table-list.ts';
import { toTable } from './output.ts';
import { pods } from '../api/core/pod.ts';
import { nodes } from '../api/core/node.ts';
import { configMaps } from '../api/core/config-data.ts';
import type { KObject, ResourceDef } from '../api/types.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { ApiClient } from '../client/api-client.ts';

const created = '2026-01-01T00:00:00Z';
const t0 = Date.parse(created) + 65_000;

const managedFields = [
  { manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: created, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {} } } } } },
];

function pod(name: string, over: { meta?: Record<string, unknown>; spec?: Record<string, unknown>; status?: Record<string, unknown> } = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: created, labels: { app: 'x' }, managedFields, ...over.meta },
    spec: { containers: [{ name: 'c', image: 'img' }], nodeName: 'node-1', ...over.spec },
    status: { phase: 'Running', podIPs: [{ ip: '10.0.0.9' }], ...over.status },
  };
}

const running = { containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }] };
const samples: KObject[] = [
  pod('plain'),
  pod('pending', { spec: { nodeName: undefined }, status: { phase: 'Pending', podIPs: undefined } }),
  pod('ready', { status: running }),
  // Restarts that say how long ago: their cells are made again at every listing.
  pod('restarted', { status: { containerStatuses: [{ name: 'c', ready: true, restartCount: 3, state: { running: {} }, lastState: { terminated: { finishedAt: '2026-01-01T00:00:30Z' } } }] } }),
  pod('gated', { spec: { readinessGates: [{ conditionType: 'x' }] }, status: { conditions: [{ type: 'x', status: 'True' }] } }),
  pod('terminating', { meta: { deletionTimestamp: created, finalizers: ['a/b'] } }),
  // Text that a careless cut would get wrong: quotes, braces and the key's name inside strings,
  // a backslash before a quote, characters beyond Latin-1.
  pod('tricky', { meta: { annotations: { 'a/"managedFields":[': '{"managedFields":[1]} \\"}', note: '帆 ]}\\', managedFields: 'x' } } }),
  pod('no-managed-fields', { meta: { managedFields: undefined } }),
  pod('no-age', { meta: { creationTimestamp: undefined } }),
];

const rowsAt = (def: ResourceDef, objs: CachedObject[], include: string, now: number) => tableRows(def, objs, 'v1', include, now).map((r) => JSON.parse(r));
const expected = (def: ResourceDef, objs: CachedObject[], include: string, now: number) => (toTable(def, objs.map((c) => c.copy()), undefined, 'v1', include) as { rows: unknown[] }).rows;

/** toTable's rows at `now` (it reads the clock itself): its Date.now pinned for the call. */
function expectedAt(def: ResourceDef, objs: CachedObject[], include: string, now: number): unknown[] {
  const real = Date.now;
  Date.now = () => now;
  try {
    return expected(def, objs, include, now);
  } finally {
    Date.now = real;
  }
}

test('rows as toTable makes them: cells, metadata cut from the text, every includeObject', () => {
  const cached = samples.map((o, i) => CachedObject.fromStored(encodeForStorage(o), 100 + i)!);
  // The same objects held as the SQLite store holds them: packed key/values (pieces joined when read).
  const packed = samples.map((o, i) => {
    const kv = new PackedKeyValue(`/registry/pods/ns/${o.metadata.name}`, encodeForStorage(o), 200 + i, 200 + i);
    kv.pack();
    return decodeKeyValue(kv);
  });
  for (const objs of [cached, packed]) {
    for (const include of ['Metadata', 'None', 'Object']) {
      // The first listing makes and keeps the cells (and where metadata ends); later ones reuse them with the ages redone.
      for (const now of [t0, t0, t0 + 3 * 3600_000, t0 + 9 * 86400_000]) {
        assert.deepEqual(rowsAt(pods, objs, include, now), expectedAt(pods, objs, include, now), `${include} at ${now - t0}`);
      }
    }
  }
  const meta = rowsAt(pods, cached, 'Metadata', t0);
  assert.equal(meta[0].object.metadata.resourceVersion, '100');
  assert.equal(meta[0].object.metadata.managedFields.length, 1);
  assert.deepEqual(meta[6].object.metadata.annotations, samples[6].metadata.annotations);
  assert.equal(rowsAt(pods, cached, 'None', t0 + 3600_000)[3].cells[3], '3 (60m ago)');
});

test('a new version of an object gets new cells; nodes and tables without columns too', () => {
  const a = CachedObject.fromStored(encodeForStorage(pod('p')), 5)!;
  const b = CachedObject.fromStored(encodeForStorage(pod('p', { meta: { deletionTimestamp: created } })), 6)!;
  assert.equal(rowsAt(pods, [a], 'None', t0)[0].cells[2], 'Running');
  assert.equal(rowsAt(pods, [b], 'None', t0)[0].cells[2], 'Terminating');
  assert.equal(rowsAt(pods, [a], 'None', t0)[0].cells[2], 'Running');

  const node = CachedObject.fromStored(encodeForStorage({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', creationTimestamp: created }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }), 7)!;
  const cm = CachedObject.fromStored(encodeForStorage({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'x', creationTimestamp: created }, data: { k: 'v' } }), 8)!;
  for (const now of [t0, t0 + 86400_000]) {
    assert.deepEqual(rowsAt(nodes, [node], 'Metadata', now), expectedAt(nodes, [node], 'Metadata', now));
    assert.deepEqual(rowsAt(configMaps, [cm], 'Metadata', now), expectedAt(configMaps, [cm], 'Metadata', now));
  }
  // An object not held as stored text (written as an object) goes the parsed way.
  const plain = new CachedObject(undefined, { ...pod('q'), metadata: { ...pod('q').metadata, resourceVersion: '9' } });
  assert.deepEqual(rowsAt(pods, [plain], 'Metadata', t0), expectedAt(pods, [plain], 'Metadata', t0));
});

test('includeObject=None rows kept whole while their Age reads the same: the same text and byte length as made afresh', () => {
  const objs = samples.map((o, i) => CachedObject.fromStored(encodeForStorage(o), 300 + i)!);
  // 65 s, 65.5 s (the same Age: rows reused), 3 h, 9 days: each as tableRows makes it.
  for (const now of [t0, t0, t0 + 500, t0 + 3 * 3600_000, t0 + 9 * 86400_000, t0 + 9 * 86400_000 + 1000]) {
    const items = noneRows(pods, objs, 'v1', now);
    assert.deepEqual(
      items.map((r) => r.json),
      tableRows(pods, objs, 'v1', 'None', now),
      `at ${now - t0}`,
    );
    for (const r of items) assert.equal(r.jsonBytes, Buffer.byteLength(r.json));
    assert.deepEqual(items.map((r) => JSON.parse(r.json)), expectedAt(pods, objs, 'None', now));
  }
  // The restarted pod's cells say "ago" (not kept): made again each time, right each time.
  assert.equal(JSON.parse(noneRows(pods, objs, 'v1', t0 + 3600_000)[3]!.json).cells[3], '3 (60m ago)');
  // A node row reused as it is while its Age reads the same.
  const node = CachedObject.fromStored(encodeForStorage({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', creationTimestamp: created }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }), 7)!;
  for (let i = 0; i < 3; i++) noneRows(nodes, [node], 'v1', t0);
  const a = noneRows(nodes, [node], 'v1', t0)[0]!;
  assert.equal(noneRows(nodes, [node], 'v1', t0 + 400)[0], a, 'the same row, not made again');
  assert.notEqual(noneRows(nodes, [node], 'v1', t0 + 60_000)[0]!.json, a.json, 'a new Age, a new row');
});

// ---- against a real API server, read by kubectl ----

let api: TestApiServer;
let client: ApiClient;

before(async () => {
  api = await startTestApiServer({ name: 'table-list', unixSocket: true });
  client = new ApiClient({ socketPath: api.socketPath, maxSockets: 4 });
  for (const ns of ['tl-a', 'tl-b']) await client.create({ version: 'v1', resource: 'namespaces' }, { metadata: { name: ns } });
  for (let i = 0; i < 12; i++) {
    const ns = i % 3 === 0 ? 'tl-b' : 'tl-a';
    await client.create({ version: 'v1', resource: 'pods', namespace: ns }, { metadata: { name: `p-${String(i).padStart(2, '0')}` }, spec: { containers: [{ name: 'c', image: 'img' }] } });
  }
  // One bound and running, with an IP.
  const ref = { version: 'v1', resource: 'pods', namespace: 'tl-a', name: 'p-01' };
  await client.bind('tl-a', 'p-01', 'node-x');
  await client.patch({ ...ref, subresource: 'status' }, 'merge', { status: { phase: 'Running', podIP: '10.1.2.3', podIPs: [{ ip: '10.1.2.3' }], containerStatuses: [{ name: 'c', image: 'img', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: created } } }] } });
});

after(async () => {
  client?.close();
  await api?.close();
});

const kubectl = (...args: string[]) => promisify(execFile)('/usr/bin/kubectl', ['--kubeconfig', api.kubeconfig, ...args]).then((r) => r.stdout);
const noKubectl = !existsSync('/usr/bin/kubectl') && 'no /usr/bin/kubectl';

test('kubectl get pods -A (and -o wide) in pages: upstream columns, every pod once, the running pod as it is', { skip: noKubectl }, async () => {
  for (const wide of [false, true]) {
    const out = (await kubectl('get', 'pods', '-A', '--chunk-size=5', ...(wide ? ['-o', 'wide'] : []))).trim().split('\n');
    const header = out[0].split(/\s{2,}/);
    assert.deepEqual(header, wide ? ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'] : ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    const rows = out.slice(1).map((l) => l.split(/\s+/));
    assert.equal(rows.length, 12);
    assert.deepEqual(rows.map((r) => `${r[0]}/${r[1]}`), [...rows.map((r) => `${r[0]}/${r[1]}`)].sort());
    const running = rows.find((r) => r[1] === 'p-01')!;
    assert.deepEqual(running.slice(0, 5), ['tl-a', 'p-01', '1/1', 'Running', '0']);
    if (wide) assert.deepEqual(running.slice(6), ['10.1.2.3', 'node-x', '<none>', '<none>']);
    const pending = rows.find((r) => r[1] === 'p-00')!;
    assert.deepEqual(pending.slice(0, 5), ['tl-b', 'p-00', '0/1', 'Pending', '0']);
  }
});

function getTable(path: string): Promise<any> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: api.socketPath, path, headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, ...JSON.parse(Buffer.concat(chunks).toString()) }));
      })
      .on('error', reject);
  });
}

test('Table pages keep the list semantics: one resourceVersion, continue and remainingItemCount, a snapshot', async () => {
  const pages: any[] = [];
  let cont = '';
  do {
    const t = await getTable(`/api/v1/pods?limit=5${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    assert.equal(t.status, 200);
    assert.equal(t.kind, 'Table');
    pages.push(t);
    // A pod created after the first page is not in the list's later pages.
    if (pages.length === 1) await client.create({ version: 'v1', resource: 'pods', namespace: 'tl-a' }, { metadata: { name: 'p-zz-late' }, spec: { containers: [{ name: 'c', image: 'img' }] } });
    cont = t.metadata.continue ?? '';
  } while (cont);
  assert.deepEqual(pages.map((p) => p.rows.length), [5, 5, 2]);
  assert.deepEqual(pages.map((p) => p.metadata.remainingItemCount), [7, 2, undefined]);
  assert.equal(new Set(pages.map((p) => p.metadata.resourceVersion)).size, 1);
  const names = pages.flatMap((p) => p.rows.map((r: any) => `${r.object.metadata.namespace}/${r.cells[0]}`));
  assert.equal(names.length, 12);
  assert.ok(!names.includes('tl-a/p-zz-late'));
  for (const p of pages) for (const r of p.rows) assert.equal(r.object.kind, 'PartialObjectMetadata');
  await client.delete({ version: 'v1', resource: 'pods', namespace: 'tl-a', name: 'p-zz-late' });
});
