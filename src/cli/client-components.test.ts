// Client components over the API server's private socket: no kubeconfig is read, and the component
// works (the scheduler binds a pod); closing the component closes the client built for it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ApiClient } from '../client/api-client.ts';
import { startTestApiServer } from '../testing/api-server.ts';
import { poll } from '../testing/poll.ts';
import { socketClientFor, startClientComponent } from './client-components.ts';

test('socketClientFor builds a client only for a socket path', () => {
  assert.equal(socketClientFor('scheduler', undefined), undefined);
  const c = socketClientFor('simulated-nodes', '/tmp/nowhere.sock');
  assert.ok(c instanceof ApiClient);
  c!.close();
});

test('the scheduler component reaches the API server over the socket without its kubeconfig', async () => {
  const api = await startTestApiServer({ name: 'cc', unixSocket: true });
  const { dir, socketPath } = api;
  const client = new ApiClient({ socketPath });
  let sched: { close(): Promise<void> } | undefined;
  try {
    const nodes = { version: 'v1', resource: 'nodes' };
    await client.create(nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } });
    await client.patch({ ...nodes, name: 'n1', subresource: 'status' }, 'merge', {
      status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
    });
    // A kubeconfig that does not exist: starting would fail if the component tried to read it.
    sched = await startClientComponent({ name: 'scheduler', options: {} }, { kubeconfig: join(dir, 'no-such-kubeconfig'), socketPath }, () => {});
    const pods = { version: 'v1', resource: 'pods', namespace: 'default' };
    await client.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'pause' }] } });
    const nodeName = await poll(async () => ((await client.get({ ...pods, name: 'p' })) as { spec: { nodeName?: string } }).spec.nodeName, { what: 'pod p bound', timeoutMs: 15_000, intervalMs: 20 });
    assert.equal(nodeName, 'n1');
  } finally {
    await sched?.close();
    client.close();
    await api.close();
  }
});

test('without a socket path the component reads the kubeconfig', async () => {
  await assert.rejects(startClientComponent({ name: 'scheduler', options: {} }, { kubeconfig: '/nonexistent/kubeconfig' }, () => {}), /ENOENT/);
});
