import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pods, podStatusCells, validatePodUpdate } from './pod.ts';

const now = Date.parse('2024-01-01T01:00:00Z');
const created = '2024-01-01T00:00:00Z';

function newPod(extra: any = {}): any {
  const p: any = { metadata: { name: 'p', namespace: 'default', creationTimestamp: created }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] }, ...extra };
  pods.strategy.defaults!(p);
  pods.strategy.prepareForCreate!(p, {});
  return p;
}

test('create: pod-only defaults, status and default tolerations', () => {
  const p = newPod();
  assert.equal(p.spec.enableServiceLinks, true);
  assert.deepEqual(p.status, { phase: 'Pending', qosClass: 'BestEffort' });
  assert.deepEqual(
    p.spec.tolerations.map((t: any) => [t.key, t.operator, t.effect, t.tolerationSeconds]),
    [
      ['node.kubernetes.io/not-ready', 'Exists', 'NoExecute', 300],
      ['node.kubernetes.io/unreachable', 'Exists', 'NoExecute', 300],
    ],
  );
  assert.deepEqual(pods.strategy.validate!(p), []);
  // Limits stand in for requests on pods, so limits alone are Guaranteed.
  const g = newPod({ spec: { containers: [{ name: 'c', image: 'x:1', resources: { limits: { cpu: '1', memory: '1Gi' } } }] } });
  assert.deepEqual(g.spec.containers[0].resources.requests, { cpu: '1', memory: '1Gi' });
  assert.equal(g.status.qosClass, 'Guaranteed');
});

test('existing toleration for a key is kept, not duplicated', () => {
  const p = newPod({ spec: { containers: [{ name: 'c', image: 'x:1' }], tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }] } });
  assert.equal(p.spec.tolerations.length, 2);
  assert.equal(p.spec.tolerations[0].tolerationSeconds, 10);
});

test('update: image may change, other fields may not', () => {
  const old = newPod();
  const next = structuredClone(old);
  next.spec.containers[0].image = 'nginx:2';
  assert.deepEqual(validatePodUpdate(next, old), []);
  const bad = structuredClone(old);
  bad.spec.containers[0].ports = [{ containerPort: 80, protocol: 'TCP' }];
  const errs = validatePodUpdate(bad, old);
  assert.equal(errs.length, 1);
  assert.equal(errs[0].field, 'spec');
  assert.match(errs[0].detail, /^Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/);
  const added = structuredClone(old);
  added.spec.tolerations.push({ key: 'a', operator: 'Exists' });
  assert.deepEqual(validatePodUpdate(added, old), []);
  const removed = structuredClone(old);
  removed.spec.tolerations.pop();
  assert.ok(validatePodUpdate(removed, old).some((e) => e.field === 'spec.tolerations'));
  const more = structuredClone(old);
  more.spec.containers.push({ name: 'd', image: 'x:1' });
  assert.ok(validatePodUpdate(more, old).some((e) => e.field === 'spec.containers'));
  const bound = structuredClone(old);
  bound.spec.nodeName = 'n1';
  assert.deepEqual(validatePodUpdate(bound, old), []);
  const moved = structuredClone(bound);
  moved.spec.nodeName = 'n2';
  assert.ok(validatePodUpdate(moved, bound).some((e) => e.field === 'spec.nodeName'));
  const deadline = structuredClone(old);
  deadline.spec.activeDeadlineSeconds = 30;
  assert.deepEqual(validatePodUpdate(deadline, old), []);
  const longer = structuredClone(deadline);
  longer.spec.activeDeadlineSeconds = 60;
  assert.equal(validatePodUpdate(longer, deadline)[0]?.field, 'spec.activeDeadlineSeconds');
});

function status(s: any, spec: any = {}, meta: any = {}): string {
  const pod: any = { metadata: { name: 'p', creationTimestamp: created, ...meta }, spec: { containers: [{ name: 'c' }], ...spec }, status: s };
  return podStatusCells(pod, now).reason;
}

test('pod STATUS column', () => {
  assert.equal(status({ phase: 'Pending' }), 'Pending');
  assert.equal(status({ phase: 'Pending', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }), 'ContainerCreating');
  assert.equal(status({ phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }] }), 'Running');
  assert.equal(status({ phase: 'Succeeded', containerStatuses: [{ name: 'c', ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }), 'Completed');
  assert.equal(status({ phase: 'Running', containerStatuses: [{ name: 'c', restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }), 'CrashLoopBackOff');
  assert.equal(status({ phase: 'Failed', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 2 } } }] }), 'ExitCode:2');
  assert.equal(status({ phase: 'Running', containerStatuses: [{ name: 'c', ready: true, state: { running: {} } }] }, {}, { deletionTimestamp: created }), 'Terminating');
  const init = { initContainers: [{ name: 'i' }] };
  assert.equal(status({ phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { waiting: { reason: 'PodInitializing' } } }] }, init), 'Init:0/1');
  assert.equal(status({ phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { terminated: { exitCode: 1, reason: 'Error' } } }] }, init), 'Init:Error');
  assert.equal(status({ phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { waiting: { reason: 'CrashLoopBackOff' } } }] }, init), 'Init:CrashLoopBackOff');
  assert.equal(status({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }), 'SchedulingGated');
});

test('pod table row, restarts and wide columns', () => {
  const pod: any = {
    metadata: { name: 'web', creationTimestamp: created },
    spec: { nodeName: 'n1', containers: [{ name: 'a' }, { name: 'b' }], readinessGates: [{ conditionType: 'x' }] },
    status: {
      phase: 'Running',
      podIPs: [{ ip: '10.42.0.5' }],
      conditions: [{ type: 'x', status: 'True' }],
      containerStatuses: [
        { name: 'a', ready: true, restartCount: 2, state: { running: {} }, lastState: { terminated: { finishedAt: '2024-01-01T00:55:00Z' } } },
        { name: 'b', ready: false, restartCount: 0, state: { running: {} } },
      ],
    },
  };
  assert.deepEqual(pods.table!.row(pod, now), ['web', '1/2', 'Running', '2 (5m ago)', '60m', '10.42.0.5', 'n1', '<none>', '1/1']);
  assert.deepEqual(pods.table!.columns.map((c) => `${c.name}:${c.priority}`), ['Name:0', 'Ready:0', 'Status:0', 'Restarts:0', 'Age:0', 'IP:1', 'Node:1', 'Nominated Node:1', 'Readiness Gates:1']);
});

test('pod field selectors', () => {
  const p = newPod();
  assert.equal(pods.fieldSelectors!['spec.hostNetwork'](p), 'false');
  assert.equal(pods.fieldSelectors!['status.phase'](p), 'Pending');
  assert.equal(pods.fieldSelectors!['spec.nodeName'](p), '');
});
