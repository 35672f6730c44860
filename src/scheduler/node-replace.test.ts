// A node goes away (with its pods deleted before or after it) and another takes its place, as in
// `npm run bench -- kubelet-footprint` with several variants: pods pinned to the new node by
// nodeSelector must be scheduled, whether they are created before or after that node appears.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from '../client/api-client.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { startScheduler } from './scheduler.ts';
import { poll } from '../testing/poll.ts';

const PODS = { version: 'v1', resource: 'pods', namespace: 'default' };
const NODES = { version: 'v1', resource: 'nodes' };

async function createNode(client: ApiClient, name: string): Promise<void> {
  await client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
  await client.patch({ ...NODES, name, subresource: 'status' }, 'merge', {
    status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  });
}

const pod = (name: string, node: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { t: 'x' } },
  spec: { nodeSelector: { 'kubernetes.io/hostname': node }, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'pause' }] },
});

describe('scheduler: a node replaced by another', () => {
  let api: TestApiServer;
  let client: ApiClient;
  let sched: { close(): Promise<void> };
  before(async () => {
    api = await startTestApiServer({ name: 'schedbug' });
    const { pki } = api;
    client = new ApiClient({ server: api.server.url, ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem });
    sched = await startScheduler({ client, config: { podInitialBackoffSeconds: 1, podMaxBackoffSeconds: 1 } });
  });
  after(async () => {
    await sched?.close();
    client?.close();
    await api?.close();
  });

  const bound = async (names: string[]) =>
    poll(async () => {
      const list: any = await client.list(PODS);
      return names.every((n) => list.items.find((p: any) => p.metadata.name === n)?.spec.nodeName);
    }, { what: `${names.length} pods bound`, timeoutMs: 15_000 });

  for (const order of ['pods-first', 'node-first', 'node-first-pods-created-before-node']) {
    it(`schedules onto a new node after the old one and its pods go (${order})`, async () => {
      const a = `a-${order}`;
      const b = `b-${order}`;
      await createNode(client, a);
      const first = Array.from({ length: 30 }, (_, i) => `${order}-a-${i}`);
      await Promise.all(first.map((n) => client.create(PODS, pod(n, a))));
      await bound(first);
      const delPods = () => Promise.all(first.map((n) => client.delete({ ...PODS, name: n }, { gracePeriodSeconds: 0 })));
      if (order === 'pods-first') {
        await delPods();
        await client.delete({ ...NODES, name: a });
      } else {
        await client.delete({ ...NODES, name: a });
        await delPods();
      }
      const second = Array.from({ length: 30 }, (_, i) => `${order}-b-${i}`);
      if (order === 'node-first-pods-created-before-node') {
        await Promise.all(second.map((n) => client.create(PODS, pod(n, b))));
        await new Promise((r) => setTimeout(r, 500));
        await createNode(client, b);
      } else {
        await createNode(client, b);
        await Promise.all(second.map((n) => client.create(PODS, pod(n, b))));
      }
      await bound(second);
      const list: any = await client.list(PODS);
      for (const n of second) assert.equal(list.items.find((p: any) => p.metadata.name === n).spec.nodeName, b);
    });
  }
});
