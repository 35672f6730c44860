import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLease, buildNode, healthyNodeConditions, nodeLooksHealthy } from './node-object.ts';

const now = new Date('2025-03-04T05:06:07.123Z');

test('buildNode carries the kubelet labels, capacity, conditions and node info', () => {
  const n = buildNode('sim-3', 3, { capacity: { cpu: '8', memory: '16Gi', pods: '110' }, labels: { 'topology.kubernetes.io/zone': 'a', 'kubernetes.io/hostname': 'nope' } }, now);
  assert.equal(n.metadata.labels!['kubernetes.io/hostname'], 'sim-3', 'the hostname label cannot be overridden');
  assert.equal(n.metadata.labels!['kubernetes.io/os'], 'linux');
  assert.equal(n.metadata.labels!['kubernetes.io/arch'], 'amd64');
  assert.equal(n.metadata.labels!['node.kubernetes.io/instance-type'], 'simulated');
  assert.equal(n.metadata.labels!['mizzen.dev/simulated'], 'true');
  assert.equal(n.metadata.labels!['topology.kubernetes.io/zone'], 'a');
  assert.deepEqual(n.status.allocatable, { cpu: '8', memory: '16Gi', pods: '110' });
  assert.deepEqual(n.status.addresses, [
    { type: 'InternalIP', address: '172.31.0.4' },
    { type: 'Hostname', address: 'sim-3' },
  ]);
  assert.deepEqual(
    n.status.conditions.map((c: any) => [c.type, c.status, c.reason, c.message]),
    [
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
      ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
    ],
  );
  assert.equal(n.status.conditions[3].lastHeartbeatTime, '2025-03-04T05:06:07Z');
  const info = n.status.nodeInfo;
  assert.equal(info.kubeletVersion, 'v1.32.4-mizzen');
  assert.equal(info.containerRuntimeVersion, 'simulated://1.0');
  assert.equal(info.operatingSystem, 'linux');
  assert.equal(info.architecture, 'amd64');
  assert.match(info.systemUUID, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.ok(nodeLooksHealthy(n));
});

test('healthyNodeConditions keeps others and moves transition times only on a flip', () => {
  const later = new Date('2025-03-04T06:00:00Z');
  const existing = [
    { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', lastTransitionTime: '2025-03-04T05:30:00Z' },
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastTransitionTime: '2025-03-04T05:00:00Z' },
    { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated' },
  ];
  assert.equal(nodeLooksHealthy({ metadata: {}, status: { conditions: existing } }), false);
  const out = healthyNodeConditions(existing, later);
  const by = (t: string) => out.find((c) => c.type === t);
  assert.equal(by('Ready').status, 'True');
  assert.equal(by('Ready').lastTransitionTime, '2025-03-04T06:00:00Z');
  assert.equal(by('MemoryPressure').lastTransitionTime, '2025-03-04T05:00:00Z');
  assert.equal(by('MemoryPressure').lastHeartbeatTime, '2025-03-04T06:00:00Z');
  assert.equal(by('NetworkUnavailable').reason, 'RouteCreated');
});

test('buildLease is owned by the node and uses microsecond renew times', () => {
  const l = buildLease('sim-0', 'uid-1', now);
  assert.equal(l.metadata.namespace, 'kube-node-lease');
  assert.deepEqual(l.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'sim-0', uid: 'uid-1' }]);
  assert.deepEqual(l.spec, { holderIdentity: 'sim-0', leaseDurationSeconds: 40, renewTime: '2025-03-04T05:06:07.123000Z' });
});
