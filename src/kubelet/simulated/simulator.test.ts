// End-to-end against a real in-process API server: registration, leases, pod lifecycle.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import { eventually, startTestCluster, type TestCluster } from './test-cluster.ts';
import { startSimulatedNodes } from './simulator.ts';
import { SIMULATE_DURATION_ANNOTATION, SIMULATE_EXIT_CODE_ANNOTATION } from './pod-status.ts';

let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster();
});
after(async () => {
  await cluster.close();
});

const podRef = (ns: string, name: string) => ({ version: 'v1', resource: 'pods', namespace: ns, name });

async function createBoundPod(name: string, node: string, extra: { annotations?: Record<string, string>; restartPolicy?: string; initContainers?: any[] } = {}): Promise<KObject> {
  const pod = await cluster.client.create<KObject>(
    { version: 'v1', resource: 'pods', namespace: 'default' },
    {
      metadata: { name, annotations: extra.annotations },
      spec: {
        containers: [{ name: 'app', image: 'nginx' }],
        initContainers: extra.initContainers,
        restartPolicy: extra.restartPolicy ?? 'Always',
        terminationGracePeriodSeconds: 30,
      },
    },
  );
  await cluster.client.request('POST', `/api/v1/namespaces/default/pods/${name}/binding`, {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name },
    target: { kind: 'Node', name: node },
  });
  return pod;
}

test('registers Ready nodes with leases, runs, completes and deletes pods', async () => {
  const sim = await startSimulatedNodes({ client: cluster.client, count: 3, prefix: 'tsim', heartbeatSeconds: 1, maxStopMs: 200 });
  try {
    assert.deepEqual(sim.nodes, ['tsim-0', 'tsim-1', 'tsim-2']);
    const node = await cluster.client.get<KObject>({ version: 'v1', resource: 'nodes', name: 'tsim-1' });
    assert.equal(node.metadata.labels?.['kubernetes.io/hostname'], 'tsim-1');
    assert.equal(node.metadata.labels?.['mizzen.dev/simulated'], 'true');
    assert.equal(node.status.capacity.cpu, '32');
    assert.equal(node.status.allocatable.pods, '110');
    const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
    assert.equal(ready.status, 'True');
    assert.equal(ready.reason, 'KubeletReady');
    assert.equal(node.status.nodeInfo.kubeletVersion, 'v1.32.4-mizzen');
    assert.equal(node.status.nodeInfo.containerRuntimeVersion, 'simulated://1.0');
    assert.ok(node.status.addresses.some((a: any) => a.type === 'InternalIP' && a.address.startsWith('172.')));

    // Leases exist and get renewed.
    const leaseRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease', name: 'tsim-1' };
    const lease = await cluster.client.get<KObject>(leaseRef);
    assert.equal(lease.spec.holderIdentity, 'tsim-1');
    assert.equal(lease.spec.leaseDurationSeconds, 40);
    assert.equal(lease.metadata.ownerReferences?.[0]?.uid, node.metadata.uid);
    const renewed = await eventually('lease renewal', async () => {
      const l = await cluster.client.get<KObject>(leaseRef);
      return l.spec.renewTime !== lease.spec.renewTime ? l : undefined;
    });
    // Renewals are sent without managedFields; the server keeps the node's entry.
    const managers = (l: KObject) => (l.metadata.managedFields as { manager?: string; operation?: string }[] | undefined)?.map((e) => [e.manager, e.operation]);
    assert.deepEqual(managers(renewed), managers(lease));
    assert.ok(renewed.metadata.managedFields?.length, 'the lease keeps its managed fields');

    // A bound pod starts with an IP from its node's range.
    await createBoundPod('web', 'tsim-1', { initContainers: [{ name: 'init', image: 'busybox:1.36' }] });
    const running = await eventually('pod Running', async () => {
      const p = await cluster.client.get<KObject>(podRef('default', 'web'));
      return p.status?.phase === 'Running' ? p : undefined;
    });
    assert.match(running.status.podIP, /^10\.244\.1\.\d+$/);
    assert.deepEqual(running.status.podIPs, [{ ip: running.status.podIP }]);
    assert.equal(running.status.hostIP, node.status.addresses.find((a: any) => a.type === 'InternalIP').address);
    assert.ok(running.status.startTime);
    for (const t of ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'])
      assert.equal(running.status.conditions.find((c: any) => c.type === t)?.status, 'True', t);
    const cs = running.status.containerStatuses[0];
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.equal(cs.restartCount, 0);
    assert.equal(cs.image, 'docker.io/library/nginx:latest');
    assert.match(cs.containerID, /^simulated:\/\/[0-9a-f]{64}$/);
    assert.ok(cs.state.running.startedAt);
    assert.equal(running.status.initContainerStatuses[0].state.terminated.reason, 'Completed');

    // Graceful deletion: the pod is removed after the simulated stop, not the whole 30 s grace period.
    await cluster.client.delete(podRef('default', 'web'));
    await eventually('pod removed', async () => {
      try {
        await cluster.client.get(podRef('default', 'web'));
        return undefined;
      } catch (e) {
        return isNotFound(e) ? true : undefined;
      }
    });

    // Job-style pods finish after the annotated duration, failing with a non-zero exit code.
    await createBoundPod('job-ok', 'tsim-0', { restartPolicy: 'Never', annotations: { [SIMULATE_DURATION_ANNOTATION]: '300ms' } });
    await createBoundPod('job-bad', 'tsim-2', { restartPolicy: 'OnFailure', annotations: { [SIMULATE_DURATION_ANNOTATION]: '100ms', [SIMULATE_EXIT_CODE_ANNOTATION]: '3' } });
    const ok = await eventually('job Succeeded', async () => {
      const p = await cluster.client.get<KObject>(podRef('default', 'job-ok'));
      return p.status?.phase === 'Succeeded' ? p : undefined;
    });
    assert.equal(ok.status.containerStatuses[0].state.terminated.exitCode, 0);
    assert.equal(ok.status.containerStatuses[0].state.terminated.reason, 'Completed');
    assert.equal(ok.status.conditions.find((c: any) => c.type === 'Ready').reason, 'PodCompleted');
    const bad = await eventually('job Failed', async () => {
      const p = await cluster.client.get<KObject>(podRef('default', 'job-bad'));
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    assert.equal(bad.status.containerStatuses[0].state.terminated.exitCode, 3);
    assert.equal(bad.status.containerStatuses[0].state.terminated.reason, 'Error');
  } finally {
    await sim.close();
  }
  // close() leaves the nodes in place, as a machine that went away.
  await cluster.client.get({ version: 'v1', resource: 'nodes', name: 'tsim-0' });
});

test('a restarted simulator adopts its running pods without changing their IPs', async () => {
  const first = await startSimulatedNodes({ client: cluster.client, count: 1, prefix: 'adopt' });
  await createBoundPod('adoptee', 'adopt-0');
  const before = await eventually('pod Running', async () => {
    const p = await cluster.client.get<KObject>(podRef('default', 'adoptee'));
    return p.status?.phase === 'Running' ? p : undefined;
  });
  await first.close();
  const second = await startSimulatedNodes({ client: cluster.client, count: 1, prefix: 'adopt', deleteNodesOnClose: true });
  try {
    await createBoundPod('newcomer', 'adopt-0');
    const newcomer = await eventually('second pod Running', async () => {
      const p = await cluster.client.get<KObject>(podRef('default', 'newcomer'));
      return p.status?.phase === 'Running' ? p : undefined;
    });
    assert.notEqual(newcomer.status.podIP, before.status.podIP);
    const after = await cluster.client.get<KObject>(podRef('default', 'adoptee'));
    assert.equal(after.status.podIP, before.status.podIP);
    assert.equal(after.status.startTime, before.status.startTime);
  } finally {
    await second.close();
  }
  await assert.rejects(cluster.client.get({ version: 'v1', resource: 'nodes', name: 'adopt-0' }), (e) => isNotFound(e));
});

test('heartbeat-only nodes renew their leases but leave bound pods Pending', async () => {
  const sim = await startSimulatedNodes({ client: cluster.client, count: 1, prefix: 'hb', heartbeatSeconds: 1, heartbeatOnly: true });
  try {
    const leaseRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease', name: 'hb-0' };
    const lease = await cluster.client.get<KObject>(leaseRef);
    await createBoundPod('idle', 'hb-0');
    await eventually('lease renewal', async () => {
      const l = await cluster.client.get<KObject>(leaseRef);
      return l.spec.renewTime !== lease.spec.renewTime ? l : undefined;
    });
    // A full simulator has the pod Running well within a renewal; this one never touches it.
    const pod = await cluster.client.get<KObject>(podRef('default', 'idle'));
    assert.equal(pod.spec.nodeName, 'hb-0');
    assert.equal(pod.status?.phase ?? 'Pending', 'Pending');
    assert.equal(pod.status?.podIP, undefined);
  } finally {
    await sim.close();
  }
});

test('registers 500 nodes', async () => {
  const sim = await startSimulatedNodes({ client: cluster.client, count: 500, prefix: 'many' });
  try {
    const list = await cluster.client.list<KObject>({ version: 'v1', resource: 'nodes' }, { labelSelector: 'mizzen.dev/simulated=true' });
    const ours = list.items.filter((n) => n.metadata.name!.startsWith('many-'));
    assert.equal(ours.length, 500);
    assert.ok(ours.every((n) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')));
    const leases = await cluster.client.list<KObject>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' });
    assert.equal(leases.items.filter((l) => l.metadata.name!.startsWith('many-')).length, 500);
  } finally {
    await sim.close();
  }
});
