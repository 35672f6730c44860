// core/v1 and events.k8s.io/v1 Events are one set of objects, as upstream: what is written through
// one API is read, watched, changed and deleted through the other, with the field names converted.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { ApiClient, isNotFound, type WatchEvent } from '../client/api-client.ts';
import type { KObject } from '../api/types.ts';
import { eventFromCore, eventToCore } from '../api/events/event.ts';

let api: TestApiServer;
let client: ApiClient;

const core = { version: 'v1', resource: 'events', namespace: 'default' };
const v1 = { group: 'events.k8s.io', version: 'v1', resource: 'events', namespace: 'default' };
const now = '2026-01-02T03:04:05Z';

before(async () => {
  api = await startTestApiServer({ name: 'events', unixSocket: true });
  client = new ApiClient({ socketPath: api.socketPath, maxSockets: 4 });
});

after(async () => {
  client?.close();
  await api?.close();
});

test('an event created through core/v1 is an events.k8s.io/v1 event, and the other way round', async () => {
  await client.create(core, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'from-core' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'p1' },
    reason: 'Started',
    message: 'Started container c',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 3,
    type: 'Normal',
  });
  const seen = await client.get<KObject>({ ...v1, name: 'from-core' });
  assert.equal(seen.apiVersion, 'events.k8s.io/v1');
  assert.deepEqual(seen.regarding, { kind: 'Pod', namespace: 'default', name: 'p1' });
  assert.equal(seen.note, 'Started container c');
  assert.deepEqual(seen.deprecatedSource, { component: 'kubelet', host: 'node-1' });
  assert.equal(seen.deprecatedCount, 3);
  assert.equal(seen.deprecatedFirstTimestamp, now);
  assert.equal(seen.eventTime, null);
  assert.equal(seen.message, undefined);
  assert.equal(seen.involvedObject, undefined);

  await client.create(v1, {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'from-v1' },
    eventTime: '2026-01-02T03:04:05.123456Z',
    regarding: { kind: 'Node', name: 'n1' },
    reason: 'Scheduled',
    note: 'hello',
    action: 'Binding',
    reportingController: 'default-scheduler',
    reportingInstance: 'sched-1',
    type: 'Normal',
  });
  const asCore = await client.get<KObject>({ ...core, name: 'from-v1' });
  assert.equal(asCore.apiVersion, 'v1');
  assert.deepEqual(asCore.involvedObject, { kind: 'Node', name: 'n1' });
  assert.equal(asCore.message, 'hello');
  assert.equal(asCore.reportingComponent, 'default-scheduler');
  assert.equal(asCore.reportingInstance, 'sched-1');
  assert.equal(asCore.eventTime, '2026-01-02T03:04:05.123456Z');
  assert.equal(asCore.note, undefined);

  const names = (l: { items: KObject[] }) => l.items.map((e) => e.metadata.name).sort();
  assert.deepEqual(names(await client.list(core)), ['from-core', 'from-v1']);
  assert.deepEqual(names(await client.list(v1)), ['from-core', 'from-v1']);
  // Field selectors in each API's own names.
  assert.deepEqual(names(await client.list(v1, { fieldSelector: 'regarding.name=p1' })), ['from-core']);
  assert.deepEqual(names(await client.list(core, { fieldSelector: 'involvedObject.name=n1' })), ['from-v1']);
});

test('a watch through one API sees changes made through the other; deletes go for both', async () => {
  const list = await client.list(v1);
  const events: WatchEvent[] = [];
  const w = client.watch(v1, { resourceVersion: list.metadata.resourceVersion }, (ev) => events.push(ev), () => {});
  await client.patch({ ...core, name: 'from-core' }, 'merge', { count: 4, lastTimestamp: '2026-01-02T03:05:00Z' });
  await client.delete({ ...v1, name: 'from-v1' });
  const deadline = Date.now() + 5000;
  while (events.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  w.abort();
  assert.deepEqual(
    events.map((e) => `${e.type} ${e.object.metadata.name} ${e.object.deprecatedCount ?? ''}`),
    ['MODIFIED from-core 4', 'DELETED from-v1 '],
  );
  assert.equal(events[0].object.apiVersion, 'events.k8s.io/v1');
  await assert.rejects(client.get({ ...core, name: 'from-v1' }), (e) => isNotFound(e));
});

test('events.k8s.io/v1 validation still applies to what is written through it', async () => {
  await assert.rejects(
    client.create(v1, { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'bad' }, regarding: { kind: 'Pod', name: 'x' }, type: 'Normal' }),
    (e: Error) => /eventTime: Required value/.test(e.message) && /reportingController: Required value/.test(e.message),
  );
});

test('conversion round trips', () => {
  const c = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, involvedObject: { kind: 'Pod' }, message: 'm', count: 2, source: { component: 'x' }, reportingComponent: 'rc', type: 'Warning' };
  assert.deepEqual(eventToCore(eventFromCore(c)), c);
});
