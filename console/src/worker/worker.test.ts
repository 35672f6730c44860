// The data worker's pure parts: watch lines, summaries, flows.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from './lines.ts';
import { nodeSummariesFromTable, nodeSummary, podStatusText, podSummary, quantity } from './summaries.ts';
import { buildFlow } from './flow.ts';
import type { EventSummary } from '../shared/types.ts';

test('lines: split anywhere, even inside a UTF-8 character, come back whole', () => {
  const text = '{"a":"é"}\n{"b":2}\n{"c":"末"}';
  const bytes = new TextEncoder().encode(text);
  for (let cut = 1; cut < bytes.length; cut++) {
    const s = new LineSplitter();
    const out = [...s.push(bytes.slice(0, cut)), ...s.push(bytes.slice(cut)), ...s.end()];
    assert.deepEqual(out.map((l) => JSON.parse(l)), [{ a: 'é' }, { b: 2 }, { c: '末' }], `cut at ${cut}`);
  }
});

test('quantities', () => {
  assert.equal(quantity('100m'), 0.1);
  assert.equal(quantity('2'), 2);
  assert.equal(quantity('1Gi'), 2 ** 30);
  assert.equal(quantity('500M'), 5e8);
  assert.equal(quantity('1e3'), 1000);
  assert.equal(quantity('bogus'), 0);
  assert.equal(quantity(undefined), 0);
});

const pod = (over: any = {}) => ({
  metadata: { namespace: 'default', name: 'web-1', uid: 'u1', creationTimestamp: '2025-01-01T00:00:00Z', ownerReferences: [{ kind: 'ReplicaSet', name: 'web', uid: 'rs1', controller: true }], ...over.metadata },
  spec: { containers: [{ name: 'c', resources: { requests: { cpu: '250m', memory: '64Mi' } } }, { name: 'd', resources: { requests: { cpu: '1' } } }], ...over.spec },
  status: { phase: 'Pending', ...over.status },
});

test('pod summaries: requests, owner, unschedulable reason, kubectl-like status', () => {
  const s = podSummary(pod({ status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }] } }), undefined, undefined);
  assert.equal(s.cpu, 1250);
  assert.equal(s.memory, 64 * 2 ** 20);
  assert.deepEqual(s.owner, { kind: 'ReplicaSet', name: 'web', uid: 'rs1' });
  assert.deepEqual(s.unschedulable, { reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' });
  assert.equal(s.status, 'Pending');
  assert.equal(podStatusText(pod({ spec: { nodeName: 'n1' } })), 'ContainerCreating');
  assert.equal(podStatusText(pod({ metadata: { deletionTimestamp: '2025-01-01T00:00:09Z' } })), 'Terminating');
  assert.equal(podStatusText(pod({ status: { phase: 'Running', containerStatuses: [{ state: { waiting: { reason: 'CrashLoopBackOff' } } }] } })), 'CrashLoopBackOff');
});

test('pod summaries: milestones are timed when seen live, never while loading', () => {
  const loaded = podSummary(pod(), undefined, undefined);
  assert.deepEqual(loaded.seen, {});
  const created = podSummary(pod(), undefined, 1000);
  assert.equal(created.seen.created, 1000);
  const bound = podSummary(pod({ spec: { nodeName: 'n1' } }), created, 1100);
  assert.equal(bound.seen.scheduled, 1100);
  const running = podSummary(pod({ spec: { nodeName: 'n1' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:01Z' }] } }), bound, 1300);
  assert.equal(running.seen.running, 1300);
  assert.equal(running.seen.ready, 1300);
  assert.equal(running.seen.created, 1000);
  assert.equal(running.readyAt, Date.parse('2025-01-01T00:00:01Z'));
});

test('node summaries: health, problems, simulated, allocatable', () => {
  const n = nodeSummary({
    metadata: { name: 'sim-0', uid: 'n', labels: { 'mizzen.dev/simulated': 'true' } },
    spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] },
    status: { allocatable: { cpu: '4', memory: '16Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' }, { type: 'DiskPressure', status: 'True' }] },
  });
  assert.equal(n.health, 'Unknown');
  assert.deepEqual(n.problems, ['NodeStatusUnknown: Kubelet stopped posting node status.', 'DiskPressure']);
  assert.equal(n.simulated, true);
  assert.equal(n.cpuAllocatable, 4000);
  assert.equal(n.podsAllocatable, 110);
  assert.deepEqual(n.taints, ['node.kubernetes.io/unreachable:NoExecute']);
});

test('flows: a Deployment, its ReplicaSet and pods, with who acted and how long each step took', () => {
  const t = (s: number) => Date.parse('2025-01-01T00:00:00Z') + s * 1000;
  const deploy = { kind: 'Deployment', metadata: { name: 'web', namespace: 'default', uid: 'd1', creationTimestamp: '2025-01-01T00:00:00Z' }, spec: { replicas: 1 }, status: { readyReplicas: 1, replicas: 1 } };
  const rs = { kind: 'ReplicaSet', metadata: { name: 'web-abc', namespace: 'default', uid: 'rs1', creationTimestamp: '2025-01-01T00:00:00Z', ownerReferences: [{ uid: 'd1' }] }, spec: { replicas: 1 }, status: { readyReplicas: 1, replicas: 1 } };
  const p = podSummary(pod({ metadata: { name: 'web-abc-x', uid: 'p1', ownerReferences: [{ kind: 'ReplicaSet', name: 'web-abc', uid: 'rs1', controller: true }] } }), undefined, t(0.3));
  const bound = podSummary(pod({ metadata: { name: 'web-abc-x', uid: 'p1', ownerReferences: [{ kind: 'ReplicaSet', name: 'web-abc', uid: 'rs1', controller: true }] }, spec: { nodeName: 'sim-1' } }), p, t(0.35));
  const events: Record<string, EventSummary[]> = {
    d1: [{ uid: 'e1', namespace: 'default', type: 'Normal', reason: 'ScalingReplicaSet', message: 'Scaled up replica set web-abc to 1 from 0', object: { kind: 'Deployment', name: 'web', uid: 'd1' }, source: 'deployment-controller', count: 1, time: t(0), first: t(0) }],
  };
  const flow = buildFlow({ root: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: 'default', name: 'web' }, rootObject: deploy, middle: [rs], pods: [bound], events: (u) => events[u] ?? [], seen: () => undefined });
  assert.equal(flow.found, true);
  assert.deepEqual(flow.lanes.map((l) => l.ref.kind), ['Deployment', 'ReplicaSet', 'Pod']);
  assert.equal(flow.lanes[0]!.state, '1/1 ready');
  assert.match(flow.lanes[0]!.steps[1]!.actor, /deployment-controller/);
  const podSteps = flow.lanes[2]!.steps;
  assert.deepEqual(podSteps.map((s) => s.what), ['pod created for ReplicaSet web-abc', 'assigned to sim-1']);
  assert.equal(podSteps[1]!.actor, 'scheduler');
  assert.equal(podSteps[1]!.took, 50);
  assert.equal(podSteps[1]!.tookPrecision, undefined, 'both seen live: milliseconds');
  assert.equal(podSteps[0]!.tookPrecision, 's', 'after the ReplicaSet creation stamped to the second');
  const missing = buildFlow({ root: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: 'default', name: 'gone' }, middle: [], pods: [], events: () => [], seen: () => undefined });
  assert.equal(missing.found, false);
  assert.match(missing.message!, /not found/);
});

test('flows: an event stamped to the second is not put before a creation seen live; a node already gone shows its pods', () => {
  const t = (s: number) => Date.parse('2025-01-01T00:00:00Z') + s * 1000;
  const deploy = { kind: 'Deployment', metadata: { name: 'web', namespace: 'default', uid: 'd1', creationTimestamp: '2025-01-01T00:00:00Z' }, spec: { replicas: 1 }, status: {} };
  const rs = { kind: 'ReplicaSet', metadata: { name: 'web-new', namespace: 'default', uid: 'rs2', creationTimestamp: '2025-01-01T00:00:00Z' }, spec: { replicas: 1 }, status: {} };
  const events: Record<string, EventSummary[]> = {
    rs2: [{ uid: 'e2', namespace: 'default', type: 'Normal', reason: 'SuccessfulCreate', message: 'Created pod: web-new-x', object: { kind: 'ReplicaSet', name: 'web-new', uid: 'rs2' }, source: 'replicaset-controller', count: 1, time: t(0), first: t(0) }],
  };
  const seen = (u: string) => (u === 'rs2' ? { created: t(0.6) } : undefined);
  const flow = buildFlow({ root: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: 'default', name: 'web' }, rootObject: deploy, middle: [rs], pods: [], events: (u) => events[u] ?? [], seen });
  assert.deepEqual(flow.lanes[1]!.steps.map((s) => s.what), ['ReplicaSet web-new created', 'SuccessfulCreate: Created pod: web-new-x']);
  const p = podSummary(pod({ metadata: { name: 'x', uid: 'p1' }, spec: { nodeName: 'sim-0' } }), undefined, t(1));
  const node = buildFlow({ root: { group: '', version: 'v1', kind: 'Node', resource: 'nodes', name: 'sim-0' }, middle: [], pods: [p], events: () => [], seen: () => undefined });
  assert.equal(node.found, true);
  assert.deepEqual(node.lanes.map((l) => l.ref.name), ['x']);
});

test('node summaries from a Table: health and cordon from Status, columns found by name', () => {
  const table = {
    kind: 'Table',
    columnDefinitions: [{ name: 'Name' }, { name: 'Status' }, { name: 'Roles' }, { name: 'Age' }, { name: 'Version' }],
    rows: [
      { cells: ['n1', 'Ready', '<none>', '5m', 'v1.32.4'] },
      { cells: ['n2', 'NotReady,SchedulingDisabled', '<none>', '5m', 'v1.32.4'] },
      { cells: ['n3', 'Unknown', '<none>', '5m', 'v1.32.4'], object: { metadata: { uid: 'u3' } } },
      { cells: [42, 'Ready'] },
    ],
  };
  const s = nodeSummariesFromTable(table);
  assert.deepEqual(s.map((n) => [n.name, n.health, n.unschedulable, n.kubeletVersion, n.uid]), [
    ['n1', 'Ready', false, 'v1.32.4', 'n1'],
    ['n2', 'NotReady', true, 'v1.32.4', 'n2'],
    ['n3', 'Unknown', false, 'v1.32.4', 'u3'],
  ]);
  assert.deepEqual(s[0]!.problems, []);
  assert.deepEqual(nodeSummariesFromTable({ kind: 'Table', columnDefinitions: [{ name: 'Name' }], rows: [{ cells: ['x'] }] }), []);
  assert.deepEqual(nodeSummariesFromTable(undefined), []);
});

test('node updates on a large cluster: pods alone changed go as counts; anything else as the whole summary', async () => {
  const { ClusterState } = await import('./cluster-state.ts');
  const { COUNT_FIELDS } = await import('../shared/types.ts');
  const out: any[] = [];
  const st = new ClusterState((m) => out.push(m), undefined) as any;
  // As start() sets them (without its watches).
  for (const r of ['nodes', 'leases', 'pods', 'events']) st.resources[r] = { state: 'loading', count: 0 };
  const node = (i: number, taints: any[] = []) => ({
    metadata: { name: `sim-${i}`, uid: `n${i}` },
    spec: { taints },
    status: { allocatable: { cpu: '4', memory: '16Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  });
  const podOn = (i: number, n: number) => pod({ metadata: { name: `p-${i}`, uid: `p${i}` }, spec: { nodeName: `sim-${n}` } });
  // 100 nodes, 700 pods: drawn as canvas cells, not cards with each pod.
  for (let i = 0; i < 100; i++) st.onNode('ADDED', node(i), false);
  for (let i = 0; i < 700; i++) st.onPod('ADDED', podOn(i, i % 100), false);
  st.flush();
  const first = out.filter((m) => m.t === 'nodes').flatMap((m) => m.upsert);
  assert.equal(first.length, 100);
  assert.equal(first.find((n: any) => n.name === 'sim-3').pods, 7);
  assert.equal(out.some((m) => m.t === 'nodeCounts'), false);
  // Two more pods on sim-3, one on sim-4 deleted, a taint on sim-5.
  out.length = 0;
  st.onPod('ADDED', podOn(1000, 3), true);
  st.onPod('ADDED', podOn(1001, 3), true);
  st.onPod('DELETED', podOn(4, 4), true);
  st.onNode('MODIFIED', node(5, [{ key: 'k', effect: 'NoSchedule' }]), true);
  st.flush();
  const counts = out.find((m) => m.t === 'nodeCounts');
  assert.deepEqual(counts.names.sort(), ['sim-3', 'sim-4']);
  const at = (name: string, field: string) => counts.values[counts.names.indexOf(name) * COUNT_FIELDS.length + COUNT_FIELDS.indexOf(field as any)];
  assert.equal(at('sim-3', 'pods'), 9);
  assert.equal(at('sim-3', 'cpuRequested'), 9 * 1250);
  assert.equal(at('sim-4', 'pods'), 6);
  assert.ok(Number.isNaN(at('sim-4', 'heartbeat')));
  assert.deepEqual(out.filter((m) => m.t === 'nodes').flatMap((m) => m.upsert.map((n: any) => n.name)), ['sim-5']);
  // Nothing changed: nothing sent.
  out.length = 0;
  st.flush();
  assert.equal(out.some((m) => m.t === 'nodes' || m.t === 'nodeCounts'), false);
  st.stop();
});
