// Lists in the smaller forms clients ask for with Accept: a Table without the objects (what the web
// console draws 5,000 nodes from before their full list, and what kubectl prints), gzipped when big,
// and metadata-only lists and watches (PartialObjectMetadataList, as client-go's metadata informers
// read them).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { ApiClient } from '../client/api-client.ts';

const TABLE = 'application/json;as=Table;g=meta.k8s.io;v=v1, application/json';
const METADATA = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1, application/json';
/** Enough nodes for a Table with each row's metadata to pass the 128 KB above which answers are gzipped. */
const MANY = 300;

let api: TestApiServer;
let sock: string;

const cond = (type: string, status: string) => ({ type, status, reason: `Test${status}`, message: '', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' });
const node = (name: string, over: { ready?: string; unschedulable?: boolean } = {}) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  spec: over.unschedulable ? { unschedulable: true } : {},
  status: {
    capacity: { cpu: '4', memory: '8Gi', pods: '110' },
    conditions: over.ready ? [cond('Ready', over.ready)] : [],
    nodeInfo: { kubeletVersion: 'v1.32.4-test' },
  },
});

before(async () => {
  api = await startTestApiServer({ name: 'list-forms', unixSocket: true });
  sock = api.socketPath;
  const client = new ApiClient({ socketPath: sock, maxSockets: 8 });
  const ref = { version: 'v1', resource: 'nodes' };
  await client.create(ref, node('a-ready', { ready: 'True' }));
  await client.create(ref, node('b-down', { ready: 'False', unschedulable: true }));
  await client.create(ref, node('c-new'));
  for (let i = 0; i < MANY; i += 50) await Promise.all(Array.from({ length: Math.min(50, MANY - i) }, (_, j) => client.create(ref, node(`n-${i + j}`, { ready: 'True' }))));
  client.close();
});

after(async () => {
  await api?.close();
});

function get(path: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: sock, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

const body = (r: { headers: http.IncomingHttpHeaders; body: Buffer }) => JSON.parse((r.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(r.body) : r.body).toString());

test('the nodes as a Table without objects: the columns kubectl prints, health in Status, gzipped when big', async () => {
  const r = await get('/api/v1/nodes?includeObject=None', { Accept: TABLE, 'Accept-Encoding': 'gzip, deflate, br' });
  assert.equal(r.status, 200);
  const t = body(r);
  assert.equal(t.kind, 'Table');
  assert.equal(t.apiVersion, 'meta.k8s.io/v1');
  assert.ok(t.metadata.resourceVersion);
  assert.deepEqual(
    t.columnDefinitions.slice(0, 5).map((c: any) => c.name),
    ['Name', 'Status', 'Roles', 'Age', 'Version'],
  );
  assert.equal(t.rows.length, MANY + 3);
  const byName = new Map<string, any>(t.rows.map((row: any) => [row.cells[0], row]));
  assert.equal(byName.get('a-ready').cells[1], 'Ready');
  assert.equal(byName.get('b-down').cells[1], 'NotReady,SchedulingDisabled');
  assert.equal(byName.get('c-new').cells[1], 'Unknown');
  assert.equal(byName.get('a-ready').cells[4], 'v1.32.4-test');
  // includeObject=None: the rows alone, a tenth of the bytes of the nodes.
  for (const row of t.rows) assert.equal(row.object, undefined);
  const full = await get('/api/v1/nodes', { Accept: 'application/json' });
  assert.ok(JSON.stringify(t).length < full.body.length / 2, `${JSON.stringify(t).length} vs ${full.body.length}`);
  // Without includeObject, each row carries the object's metadata (upstream's default): big
  // enough to be gzipped for a client that accepts it, as a browser's fetch does.
  const big = await get('/api/v1/nodes', { Accept: TABLE, 'Accept-Encoding': 'gzip, deflate, br' });
  assert.equal(big.headers['content-encoding'], 'gzip');
  assert.match(String(big.headers.vary), /Accept-Encoding/);
  const withMeta = body(big);
  assert.equal(withMeta.rows.length, MANY + 3);
  assert.equal(withMeta.rows[0].object.kind, 'PartialObjectMetadata');
  assert.equal(withMeta.rows[0].object.metadata.name, 'a-ready');
  assert.equal(body(await get('/api/v1/nodes?limit=1', { Accept: TABLE })).rows.length, 1);
});

test("a node's row follows its changes (rows are kept per object version, ages redone)", async () => {
  const rowOf = async (name: string) => body(await get('/api/v1/nodes?includeObject=None', { Accept: TABLE })).rows.find((r: any) => r.cells[0] === name).cells;
  const client = new ApiClient({ socketPath: sock });
  try {
    await client.create({ version: 'v1', resource: 'nodes' }, node('d-kept', { ready: 'True' }));
    const first = await rowOf('d-kept');
    assert.equal(first[1], 'Ready');
    assert.equal((await rowOf('d-kept')).join('|'), first.join('|'));
    await client.patch({ version: 'v1', resource: 'nodes', name: 'd-kept' }, 'merge', { spec: { unschedulable: true } });
    assert.equal((await rowOf('d-kept'))[1], 'Ready,SchedulingDisabled');
  } finally {
    await client.delete({ version: 'v1', resource: 'nodes', name: 'd-kept' });
    client.close();
  }
});

test('kubectl reads the same Status from its Table', { skip: !existsSync('/usr/bin/kubectl') && 'no /usr/bin/kubectl' }, async () => {
  const { stdout } = await promisify(execFile)('/usr/bin/kubectl', ['--kubeconfig', api.kubeconfig, 'get', 'nodes', 'a-ready', 'b-down', 'c-new', '--no-headers']);
  const status = Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 2)));
  assert.deepEqual(status, { 'a-ready': 'Ready', 'b-down': 'NotReady,SchedulingDisabled', 'c-new': 'Unknown' });
});

test('metadata-only lists and watches: PartialObjectMetadata with no spec or status', async () => {
  const l = body(await get('/api/v1/nodes?limit=2', { Accept: METADATA }));
  assert.equal(l.kind, 'PartialObjectMetadataList');
  assert.equal(l.apiVersion, 'meta.k8s.io/v1');
  assert.ok(l.metadata.resourceVersion && l.metadata.continue);
  assert.equal(l.items.length, 2);
  for (const it of l.items) {
    assert.equal(it.kind, 'PartialObjectMetadata');
    assert.equal(it.apiVersion, 'meta.k8s.io/v1');
    assert.ok(it.metadata.uid && it.metadata.name);
    assert.equal(it.spec, undefined);
    assert.equal(it.status, undefined);
  }
  // One object, asked for as PartialObjectMetadata.
  const one = body(await get('/api/v1/nodes/a-ready', { Accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' }));
  assert.equal(one.kind, 'PartialObjectMetadata');
  assert.equal(one.metadata.labels['kubernetes.io/hostname'], 'a-ready');
  // A watch from that list's revision: events carry PartialObjectMetadata.
  const events: any[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const req = http.get(
      { socketPath: sock, path: `/api/v1/nodes?watch=1&resourceVersion=${l.metadata.resourceVersion}&fieldSelector=metadata.name%3Da-ready`, headers: { Accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' } },
      (res) => {
        let buf = '';
        res.on('data', (c) => {
          buf += c;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            events.push(JSON.parse(buf.slice(0, i)));
            buf = buf.slice(i + 1);
            req.destroy();
            resolve();
          }
        });
      },
    );
    req.on('error', (e) => (events.length ? resolve() : reject(e)));
  });
  const client = new ApiClient({ socketPath: sock });
  await client.patch({ version: 'v1', resource: 'nodes', name: 'a-ready' }, 'merge', { metadata: { labels: { touched: 'yes' } } });
  client.close();
  await done;
  assert.equal(events[0].type, 'MODIFIED');
  assert.equal(events[0].object.kind, 'PartialObjectMetadata');
  assert.equal(events[0].object.metadata.labels.touched, 'yes');
  assert.equal(events[0].object.status, undefined);
});

test('a form the server cannot give is refused with 406, as a Status', async () => {
  const r = await get('/api/v1/nodes', { Accept: 'application/json;as=Nothing;g=meta.k8s.io;v=v1' });
  assert.equal(r.status, 406);
  const s = body(r);
  assert.equal(s.kind, 'Status');
  assert.equal(s.code, 406);
});
