import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from './api-client.ts';
import { FakeApiServer } from './fake-api-server.ts';
import { EventRecorder, referenceFor } from './event-recorder.ts';
import { FakeClock } from './clock.ts';

const EVENTS = 'api/v1/events';
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'web', name: 'p1', uid: 'u1', resourceVersion: '7' } };

async function setup(opts: Partial<ConstructorParameters<typeof EventRecorder>[1]> = {}) {
  const server = new FakeApiServer();
  await server.start();
  const client = new ApiClient({ server: server.url });
  const clock = new FakeClock(Date.parse('2024-01-02T03:04:05.678Z'));
  const rec = new EventRecorder(client, { source: { component: 'default-scheduler', host: 'node-a' }, clock, retryDelayMs: 1, log: () => {}, ...opts });
  const done = async () => {
    client.close();
    await server.stop();
  };
  return { server, client, clock, rec, done };
}

test('creates a core/v1 Event shaped like upstream', async () => {
  const { server, rec, done } = await setup();
  rec.event(pod, 'Normal', 'Scheduled', 'Successfully assigned web/p1 to node-1');
  await rec.flush();
  const [ev] = server.listObjects(EVENTS);
  assert.match(ev.metadata.name, /^p1\.[0-9a-f]+$/);
  const nanos = BigInt('0x' + ev.metadata.name.split('.')[1]);
  assert.equal(nanos / 1_000_000n, BigInt(Date.parse('2024-01-02T03:04:05.678Z')));
  assert.equal(ev.metadata.namespace, 'web');
  assert.deepEqual(ev.involvedObject, { apiVersion: 'v1', kind: 'Pod', namespace: 'web', name: 'p1', uid: 'u1', resourceVersion: '7' });
  assert.equal(ev.reason, 'Scheduled');
  assert.equal(ev.type, 'Normal');
  assert.equal(ev.count, 1);
  assert.equal(ev.firstTimestamp, '2024-01-02T03:04:05Z');
  assert.equal(ev.lastTimestamp, '2024-01-02T03:04:05Z');
  assert.deepEqual(ev.source, { component: 'default-scheduler', host: 'node-a' });
  assert.equal(ev.reportingComponent, 'default-scheduler');
  assert.equal(ev.reportingInstance, 'node-a');
  assert.equal(ev.eventTime, null);
  await done();
});

test('repeats within the window patch count and lastTimestamp; other messages make new events', async () => {
  const { server, clock, rec, done } = await setup();
  rec.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available');
  clock.step(5000);
  rec.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available');
  clock.step(5000);
  rec.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available');
  rec.event(pod, 'Warning', 'FailedScheduling', '0/4 nodes are available');
  await rec.flush();
  const events = server.listObjects(EVENTS);
  assert.equal(events.length, 2);
  const first = events.find((e) => e.message === '0/3 nodes are available');
  assert.equal(first.count, 3);
  assert.equal(first.firstTimestamp, '2024-01-02T03:04:05Z');
  assert.equal(first.lastTimestamp, '2024-01-02T03:04:15Z');
  const patches = server.requests.filter((r) => r.method === 'PATCH');
  assert.equal(patches.length, 2);
  assert.equal(patches[0].headers['content-type'], 'application/strategic-merge-patch+json');
  assert.deepEqual(patches[1].body, { count: 3, lastTimestamp: '2024-01-02T03:04:15Z', message: '0/3 nodes are available' });

  // After the window a repeat starts a fresh event.
  clock.step(11 * 60 * 1000);
  rec.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available');
  await rec.flush();
  assert.equal(server.listObjects(EVENTS).length, 3);
  await done();
});

test('a deleted event is re-created on the next repeat', async () => {
  const { server, rec, done } = await setup();
  rec.event(pod, 'Normal', 'Pulled', 'image pulled');
  await rec.flush();
  const [ev] = server.listObjects(EVENTS);
  server.remove(EVENTS, 'web', ev.metadata.name);
  rec.event(pod, 'Normal', 'Pulled', 'image pulled');
  await rec.flush();
  const [again] = server.listObjects(EVENTS);
  assert.equal(again.metadata.name, ev.metadata.name);
  assert.equal(again.count, 2);
  await done();
});

test('many distinct messages for one reason are combined', async () => {
  const { server, rec, done } = await setup({ maxSimilar: 3 });
  for (let i = 0; i < 5; i++) rec.event(pod, 'Warning', 'BackOff', `attempt ${i}`);
  await rec.flush();
  const events = server.listObjects(EVENTS);
  assert.equal(events.length, 3);
  const combined = events.find((e) => e.message.startsWith('(combined from similar events): '));
  assert.equal(combined.count, 3);
  assert.equal(combined.message, '(combined from similar events): attempt 4');
  await done();
});

test('spam filter drops floods per object; cluster-scoped objects go to default', async () => {
  const { server, clock, rec, done } = await setup({ spamBurst: 2, spamRefillMs: 1000 });
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'nu' } };
  rec.event(node, 'Normal', 'A', 'a');
  rec.event(node, 'Normal', 'B', 'b');
  rec.event(node, 'Normal', 'C', 'c');
  await rec.flush();
  assert.deepEqual(server.listObjects(EVENTS).map((e) => e.reason).sort(), ['A', 'B']);
  assert.equal(server.listObjects(EVENTS)[0].metadata.namespace, 'default');
  clock.step(1000);
  rec.eventf(node, 'Warning', 'D', 'node %s has %d problems', 'n1', 2);
  await rec.flush();
  assert.equal(server.listObjects(EVENTS).find((e) => e.reason === 'D').message, 'node n1 has 2 problems');
  await done();
});

test('write errors are retried', async () => {
  const { server, rec, done } = await setup();
  server.failNext.push({ match: (r) => r.method === 'POST', code: 500, reason: 'InternalError', message: 'x' });
  rec.event(pod, 'Normal', 'X', 'y');
  await rec.flush();
  assert.equal(server.listObjects(EVENTS).length, 1);
  assert.deepEqual(referenceFor(pod, 'spec.containers{c}').fieldPath, 'spec.containers{c}');
  await done();
});

test('beyond maxQueued waiting writes, new events are dropped and the drop is logged', async () => {
  const logs: string[] = [];
  const { server, rec, done } = await setup({ maxQueued: 3, log: (m) => logs.push(m) });
  const podNamed = (name: string) => ({ ...pod, metadata: { ...pod.metadata, name, uid: name } });
  for (let i = 0; i < 10; i++) rec.event(podNamed(`p${i}`), 'Normal', 'Scheduled', `assigned p${i}`);
  await rec.flush();
  assert.deepEqual(server.listObjects(EVENTS).map((e: any) => e.involvedObject.name).sort(), ['p0', 'p1', 'p2']);
  assert.deepEqual(logs, ['event queue full (3 waiting): dropping new events (1 since the last report)']);
  // Once written, the queue takes events again.
  rec.event(podNamed('late'), 'Normal', 'Scheduled', 'assigned late');
  await rec.flush();
  assert.equal(server.listObjects(EVENTS).length, 4);
  await done();
});
