// Pods found unschedulable wait in the unschedulable set, but a cluster event that can help them
// (a node turning Ready and losing its not-ready taint, a node added, a pod on a full node deleted)
// must send them back to be scheduled at once, not after the 5-minute leftover flush. Checks the
// scale benchmark's stalls (docs/scale.md) against a real API server and the real scheduler with
// its default backoff (1 s initial, 10 s max).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from '../client/api-client.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { startScheduler } from './scheduler.ts';
import { poll } from '../testing/poll.ts';

const PODS = { version: 'v1', resource: 'pods', namespace: 'default' };
const NODES = { version: 'v1', resource: 'nodes' };
const NOT_READY = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };

async function createNode(client: ApiClient, name: string, o: { ready: boolean; pods?: string; label: string }): Promise<void> {
  await client.create(NODES, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, group: o.label } },
    spec: o.ready ? {} : { taints: [NOT_READY] },
  });
  const pods = o.pods ?? '110';
  await client.patch({ ...NODES, name, subresource: 'status' }, 'merge', {
    status: { capacity: { cpu: '4', memory: '8Gi', pods }, allocatable: { cpu: '4', memory: '8Gi', pods }, conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False' }] },
  });
}

/** What the node lifecycle controller and the kubelet do when a node comes up. */
async function makeReady(client: ApiClient, name: string): Promise<void> {
  await client.patch({ ...NODES, name, subresource: 'status' }, 'merge', { status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  await client.patch({ ...NODES, name }, 'merge', { spec: { taints: null } });
}

const pod = (name: string, group: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { nodeSelector: { group }, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'pause' }] },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scheduler: unschedulable pods come back on a helpful event', () => {
  let api: TestApiServer;
  let client: ApiClient;
  let sched: { close(): Promise<void> };
  before(async () => {
    api = await startTestApiServer({ name: 's16requeue' });
    const { pki } = api;
    client = new ApiClient({ server: api.server.url, ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem });
    sched = await startScheduler({ client });
  });
  after(async () => {
    await sched?.close();
    client?.close();
    await api?.close();
  });

  const nodeOf = async (names: string[]) => {
    const list: any = await client.list(PODS);
    return names.map((n) => list.items.find((p: any) => p.metadata.name === n)?.spec.nodeName as string | undefined);
  };
  /** Waits for all to bind and returns how long it took from `since`. */
  const boundWithin = async (names: string[], since: number, timeoutMs: number) => {
    await poll(async () => (await nodeOf(names)).every(Boolean), { what: `${names.length} pods bound`, timeoutMs, intervalMs: 100 });
    return Date.now() - since;
  };

  it('binds pods as soon as a tainted NotReady node becomes Ready', async () => {
    await createNode(client, 'nr-1', { ready: false, label: 'nr' });
    await createNode(client, 'nr-2', { ready: false, label: 'nr' });
    const names = Array.from({ length: 20 }, (_, i) => `nr-${i}`);
    await Promise.all(names.map((n) => client.create(PODS, pod(n, 'nr'))));
    // Long enough for several failed attempts, so backoff has grown to several seconds.
    await sleep(6000);
    assert.deepEqual(await nodeOf(names), names.map(() => undefined), 'pods stay pending on tainted nodes');
    const t0 = Date.now();
    await makeReady(client, 'nr-2');
    const took = await boundWithin(names, t0, 30_000);
    assert.ok(took < 3000, `bound ${took} ms after the node became Ready`);
    assert.deepEqual(new Set(await nodeOf(names)), new Set(['nr-2']));
  });

  it('binds pods as soon as a node that fits them is added', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `add-${i}`);
    await Promise.all(names.map((n) => client.create(PODS, pod(n, 'add'))));
    await sleep(4000);
    assert.deepEqual(await nodeOf(names), names.map(() => undefined));
    const t0 = Date.now();
    await createNode(client, 'add-1', { ready: true, label: 'add' });
    const took = await boundWithin(names, t0, 30_000);
    assert.ok(took < 3000, `bound ${took} ms after the node was added`);
  });

  it('binds a pending pod as soon as a pod on the full node is deleted', async () => {
    await createNode(client, 'full-1', { ready: true, label: 'full', pods: '3' });
    const first = ['full-0', 'full-1', 'full-2'];
    await Promise.all(first.map((n) => client.create(PODS, pod(n, 'full'))));
    await boundWithin(first, Date.now(), 10_000);
    const waiting = ['full-3', 'full-4'];
    await Promise.all(waiting.map((n) => client.create(PODS, pod(n, 'full'))));
    await sleep(4000);
    assert.deepEqual(await nodeOf(waiting), [undefined, undefined], 'no room on the full node');
    const t0 = Date.now();
    await client.delete({ ...PODS, name: 'full-0' }, { gracePeriodSeconds: 0 });
    await poll(async () => (await nodeOf(waiting)).filter(Boolean).length === 1, { what: 'one waiting pod bound', timeoutMs: 30_000, intervalMs: 100 });
    const took = Date.now() - t0;
    assert.ok(took < 3000, `bound ${took} ms after a pod on the node was deleted`);
  });
});
