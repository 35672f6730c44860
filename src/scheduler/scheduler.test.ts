import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from '../client/api-client.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { startScheduler } from './scheduler.ts';
import { poll } from '../testing/poll.ts';

const podsRef = (ns = 'default') => ({ version: 'v1', resource: 'pods', namespace: ns });

function node(name: string, cpu: string, extra: { labels?: Record<string, string>; taints?: any[] } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(extra.labels ?? {}) } },
    spec: extra.taints ? { taints: extra.taints } : {},
    status: {
      capacity: { cpu, memory: '8Gi', pods: '110' },
      allocatable: { cpu, memory: '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

function pod(name: string, cpu: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'pause', resources: { requests: { cpu } } }], ...extra },
  };
}

function waitFor<T>(fn: () => Promise<T | undefined>, what: string, ms = 15000): Promise<T> {
  return poll(fn, { what, timeoutMs: ms, done: (v) => v !== undefined }) as Promise<T>;
}

/** Create a node, then set its status (the API server ignores status on create). */
async function createNode(client: ApiClient, n: ReturnType<typeof node>): Promise<void> {
  await client.create({ version: 'v1', resource: 'nodes' }, n);
  await client.patch({ version: 'v1', resource: 'nodes', name: n.metadata.name, subresource: 'status' }, 'merge', { status: n.status });
}

describe('scheduler against a real API server', () => {
  let api: TestApiServer;
  let client: ApiClient;
  let sched: { close(): Promise<void> };

  before(async () => {
    api = await startTestApiServer({ name: 'sched' });
    const { pki } = api;
    client = new ApiClient({ server: api.server.url, ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem });
    await createNode(client, node('n1', '2'));
    await createNode(client, node('n2', '4'));
    await createNode(
      client,
      node('cp', '8', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }),
    );
    sched = await startScheduler({ client, config: { podInitialBackoffSeconds: 1, podMaxBackoffSeconds: 1 } });
  });

  after(async () => {
    await sched?.close();
    client?.close();
    await api?.close();
  });

  const nodeOf = (name: string) => async () => {
    const p: any = await client.get({ ...podsRef(), name });
    return p.spec.nodeName || undefined;
  };

  it('binds a pod and records a Scheduled event', async () => {
    await client.create(podsRef(), pod('p1', '500m'));
    const n = await waitFor(nodeOf('p1'), 'p1 bound');
    assert.ok(n === 'n1' || n === 'n2');
    const ev = await waitFor(async () => {
      const list: any = await client.list({ version: 'v1', resource: 'events', namespace: 'default' });
      return list.items.find((e: any) => e.involvedObject.name === 'p1' && e.reason === 'Scheduled');
    }, 'Scheduled event');
    assert.equal(ev.message, `Successfully assigned default/p1 to ${n}`);
    assert.equal(ev.type, 'Normal');
  });

  it('reports FailedScheduling with the fit message and schedules once a node is added', async () => {
    await client.create(podsRef(), pod('big', '6'));
    const ev = await waitFor(async () => {
      const list: any = await client.list({ version: 'v1', resource: 'events', namespace: 'default' });
      return list.items.find((e: any) => e.involvedObject.name === 'big' && e.reason === 'FailedScheduling');
    }, 'FailedScheduling event');
    assert.equal(
      ev.message,
      '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
    );
    const cond = await waitFor(async () => {
      const p: any = await client.get({ ...podsRef(), name: 'big' });
      return (p.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
    }, 'PodScheduled condition');
    assert.equal(cond.status, 'False');
    assert.equal(cond.reason, 'Unschedulable');
    await createNode(client, node('n3', '8'));
    assert.equal(await waitFor(nodeOf('big'), 'big bound'), 'n3');
  });

  it('preempts a lower-priority pod and nominates its node', async () => {
    await client.create({ group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' }, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 });
    // Fill every schedulable node with low-priority pods.
    await client.create(podsRef(), pod('low-1', '1500m', { nodeSelector: { 'kubernetes.io/hostname': 'n1' } }));
    await waitFor(nodeOf('low-1'), 'low-1 bound');
    const hi = pod('high', '1500m', { priorityClassName: 'high', nodeSelector: { 'kubernetes.io/hostname': 'n1' } });
    await client.create(podsRef(), hi);
    const n = await waitFor(nodeOf('high'), 'high bound after preemption', 20000);
    assert.equal(n, 'n1');
    await assert.rejects(client.get({ ...podsRef(), name: 'low-1' }), (e: any) => e.code === 404);
  });

  it('does not preempt with preemptionPolicy Never', async () => {
    await client.create({ group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' }, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high-never' }, value: 2000, preemptionPolicy: 'Never' });
    await client.create(podsRef(), pod('polite', '1500m', { priorityClassName: 'high-never', nodeSelector: { 'kubernetes.io/hostname': 'n1' } }));
    const ev = await waitFor(async () => {
      const list: any = await client.list({ version: 'v1', resource: 'events', namespace: 'default' });
      return list.items.find((e: any) => e.involvedObject.name === 'polite' && e.reason === 'FailedScheduling');
    }, 'FailedScheduling for polite');
    assert.match(ev.message, /preemption: not eligible due to preemptionPolicy=Never\.$/);
    const high: any = await client.get({ ...podsRef(), name: 'high' });
    assert.equal(high.metadata.deletionTimestamp, undefined);
  });
});
