// A scheduling attempt that throws outside the plugins (a scheduler bug) must not lose the pod: it
// is retried with backoff and gets a FailedScheduling event, instead of staying Pending silently.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from '../client/api-client.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { Snapshot } from './cache/snapshot.ts';
import { startScheduler } from './scheduler.ts';
import { poll } from '../testing/poll.ts';

const PODS = { version: 'v1', resource: 'pods', namespace: 'default' };
const NODES = { version: 'v1', resource: 'nodes' };

describe('scheduler: an attempt that throws', () => {
  let api: TestApiServer;
  let client: ApiClient;
  let sched: { close(): Promise<void> };
  const realUpdate = Snapshot.prototype.update;

  before(async () => {
    api = await startTestApiServer({ name: 'schedbug-err' });
    const { pki } = api;
    client = new ApiClient({ server: api.server.url, ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem });
    await client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } });
    await client.patch({ ...NODES, name: 'n1', subresource: 'status' }, 'merge', {
      status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
    });
    sched = await startScheduler({ client, config: { podInitialBackoffSeconds: 1, podMaxBackoffSeconds: 1 } });
  });
  after(async () => {
    Snapshot.prototype.update = realUpdate;
    await sched?.close();
    client?.close();
    await api?.close();
  });

  it('retries the pod with a FailedScheduling event', async () => {
    // Fault injection: the next snapshot update throws once.
    let thrown = 0;
    Snapshot.prototype.update = function () {
      Snapshot.prototype.update = realUpdate;
      thrown++;
      throw new Error('injected snapshot failure');
    };
    await client.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1' }, spec: { containers: [{ name: 'c', image: 'pause' }] } });
    await poll(async () => ((await client.get<any>({ ...PODS, name: 'p1' })).spec.nodeName ?? '') === 'n1', { what: 'p1 bound after the failed attempt', timeoutMs: 15_000 });
    assert.equal(thrown, 1);
    const ev = await poll(
      async () => {
        const list: any = await client.list({ version: 'v1', resource: 'events', namespace: 'default' });
        return list.items.find((e: any) => e.involvedObject.name === 'p1' && e.reason === 'FailedScheduling');
      },
      { what: 'FailedScheduling event', timeoutMs: 10_000, done: (v) => v !== undefined },
    );
    assert.match(ev.message, /injected snapshot failure/);
  });
});
