import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import {
  completionPlan,
  containerID,
  imageID,
  normalizeImage,
  runningStatus,
  statusFingerprint,
  terminalStatus,
  SIMULATE_DURATION_ANNOTATION,
  SIMULATE_EXIT_CODE_ANNOTATION,
  JOB_POD_DEFAULT_RUN_MS,
} from './pod-status.ts';

const t0 = new Date('2025-01-02T03:04:05.678Z');
const t1 = new Date('2025-01-02T03:04:09.000Z');

function pod(extra: Partial<KObject> & { spec?: any; status?: any } = {}): KObject {
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u-1', ...(extra.metadata ?? {}) },
    spec: { containers: [{ name: 'app', image: 'nginx' }], restartPolicy: 'Always', nodeName: 'sim-0', ...(extra.spec ?? {}) },
    status: extra.status ?? { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2025-01-02T03:04:00Z' }] },
  };
}

const facts = { hostIP: '172.31.0.1', podIP: '10.244.0.2', startedAt: t0, now: t0 };

test('completionPlan only applies to job-style pods with the annotations', () => {
  const ann = (a: Record<string, string>) => ({ metadata: { name: 'p', annotations: a } }) as any;
  assert.equal(completionPlan(pod({ ...ann({ [SIMULATE_DURATION_ANNOTATION]: '2s' }) })), undefined); // restartPolicy Always
  assert.deepEqual(completionPlan(pod({ ...ann({ [SIMULATE_DURATION_ANNOTATION]: '2s' }), spec: { restartPolicy: 'Never' } })), { afterMs: 2000, exitCode: 0 });
  assert.deepEqual(
    completionPlan(pod({ ...ann({ [SIMULATE_DURATION_ANNOTATION]: '1s', [SIMULATE_EXIT_CODE_ANNOTATION]: '1' }), spec: { restartPolicy: 'OnFailure' } })),
    { afterMs: 1000, exitCode: 1 },
  );
  assert.deepEqual(completionPlan(pod({ ...ann({ [SIMULATE_EXIT_CODE_ANNOTATION]: '2' }), spec: { restartPolicy: 'Never' } })), { afterMs: 0, exitCode: 2 });
  assert.equal(completionPlan(pod({ ...ann({ [SIMULATE_DURATION_ANNOTATION]: 'soon' }), spec: { restartPolicy: 'Never' } })), undefined);
  assert.equal(completionPlan(pod({ spec: { restartPolicy: 'Never' } })), undefined);
});

test("a Job's pods succeed after a short run unless their annotations say otherwise", () => {
  const owner = { apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'j-1', controller: true };
  const jobPod = (annotations?: Record<string, string>) => pod({ metadata: { name: 'pi-x', ownerReferences: [owner], annotations } as any, spec: { restartPolicy: 'Never' } });
  assert.deepEqual(completionPlan(jobPod()), { afterMs: JOB_POD_DEFAULT_RUN_MS, exitCode: 0 });
  assert.deepEqual(completionPlan(jobPod({ [SIMULATE_DURATION_ANNOTATION]: '5s' })), { afterMs: 5000, exitCode: 0 });
  assert.deepEqual(completionPlan(jobPod({ [SIMULATE_EXIT_CODE_ANNOTATION]: '3' })), { afterMs: 0, exitCode: 3 });
  // Other owners' pods (a ReplicaSet's always restart anyway) run until deleted.
  assert.equal(completionPlan(pod({ metadata: { name: 'x', ownerReferences: [{ ...owner, apiVersion: 'apps/v1', kind: 'ReplicaSet' }] } as any, spec: { restartPolicy: 'Never' } })), undefined);
});

test('images are reported the way containerd spells them', () => {
  assert.equal(normalizeImage('nginx'), 'docker.io/library/nginx:latest');
  assert.equal(normalizeImage('busybox:1.36'), 'docker.io/library/busybox:1.36');
  assert.equal(normalizeImage('bitnami/redis'), 'docker.io/bitnami/redis:latest');
  assert.equal(normalizeImage('registry.k8s.io/pause:3.10'), 'registry.k8s.io/pause:3.10');
  assert.equal(normalizeImage('localhost:5000/app'), 'localhost:5000/app:latest');
  assert.match(imageID('nginx'), /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
  assert.equal(imageID('nginx'), imageID('docker.io/library/nginx:latest'));
  assert.equal(containerID('u', 'c'), containerID('u', 'c'));
  assert.notEqual(containerID('u', 'c'), containerID('u', 'd'));
});

test('runningStatus reports ready containers, addresses and kubelet conditions', () => {
  const p = pod({ spec: { initContainers: [{ name: 'init', image: 'busybox' }, { name: 'side', image: 'envoy', restartPolicy: 'Always' }] } });
  const s = runningStatus(p, facts);
  assert.equal(s.phase, 'Running');
  assert.equal(s.podIP, '10.244.0.2');
  assert.deepEqual(s.podIPs, [{ ip: '10.244.0.2' }]);
  assert.deepEqual(s.hostIPs, [{ ip: '172.31.0.1' }]);
  assert.equal(s.startTime, '2025-01-02T03:04:05Z');
  assert.deepEqual(
    s.conditions.map((c: any) => `${c.type}=${c.status}`),
    ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True'],
  );
  // The scheduler's condition keeps its own time.
  assert.equal(s.conditions[4].lastTransitionTime, '2025-01-02T03:04:00Z');
  assert.equal(s.conditions[0].lastTransitionTime, '2025-01-02T03:04:05Z');
  const c = s.containerStatuses[0];
  assert.deepEqual(
    { ready: c.ready, started: c.started, restartCount: c.restartCount, state: c.state, image: c.image },
    { ready: true, started: true, restartCount: 0, state: { running: { startedAt: '2025-01-02T03:04:05Z' } }, image: 'docker.io/library/nginx:latest' },
  );
  assert.equal(s.initContainerStatuses[0].state.terminated.reason, 'Completed');
  assert.equal(s.initContainerStatuses[0].ready, true);
  assert.ok(s.initContainerStatuses[1].state.running, 'a sidecar keeps running');
});

test('runningStatus keeps other conditions and transition times that did not change', () => {
  const first = runningStatus(pod(), facts);
  const again = runningStatus(pod({ status: { ...first, conditions: [...first.conditions, { type: 'DisruptionTarget', status: 'False' }] } }), { ...facts, now: t1 });
  assert.equal(again.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime, '2025-01-02T03:04:05Z');
  assert.ok(again.conditions.some((c: any) => c.type === 'DisruptionTarget'));
  assert.equal(statusFingerprint(first), statusFingerprint(again));
  assert.notEqual(statusFingerprint(first), statusFingerprint(pod().status));
});

test('readiness gates hold Ready at False with upstream messages', () => {
  const p = pod({ spec: { readinessGates: [{ conditionType: 'example.com/lb' }] } });
  const s = runningStatus(p, facts);
  const ready = s.conditions.find((c: any) => c.type === 'Ready');
  assert.equal(ready.status, 'False');
  assert.equal(ready.reason, 'ReadinessGatesNotReady');
  assert.equal(ready.message, 'corresponding condition of pod readiness gate "example.com/lb" does not exist.');
  const gated = pod({ spec: { readinessGates: [{ conditionType: 'example.com/lb' }] }, status: { conditions: [{ type: 'example.com/lb', status: 'True' }] } });
  assert.equal(runningStatus(gated, facts).conditions.find((c: any) => c.type === 'Ready').status, 'True');
});

test('terminalStatus reports Succeeded or Failed with terminated containers', () => {
  const ok = terminalStatus(pod(), { ...facts, now: t1, exitCode: 0 });
  assert.equal(ok.phase, 'Succeeded');
  const t = ok.containerStatuses[0].state.terminated;
  assert.deepEqual(
    { exitCode: t.exitCode, reason: t.reason, startedAt: t.startedAt, finishedAt: t.finishedAt },
    { exitCode: 0, reason: 'Completed', startedAt: '2025-01-02T03:04:05Z', finishedAt: '2025-01-02T03:04:09Z' },
  );
  assert.equal(ok.containerStatuses[0].ready, false);
  assert.deepEqual(
    ok.conditions.slice(0, 4).map((c: any) => `${c.type}=${c.status}/${c.reason ?? ''}`),
    ['PodReadyToStartContainers=False/', 'Initialized=True/PodCompleted', 'Ready=False/PodCompleted', 'ContainersReady=False/PodCompleted'],
  );
  const bad = terminalStatus(pod(), { ...facts, now: t1, exitCode: 2 });
  assert.equal(bad.phase, 'Failed');
  assert.equal(bad.containerStatuses[0].state.terminated.reason, 'Error');
  assert.equal(bad.conditions.find((c: any) => c.type === 'Ready').reason, 'PodFailed');
});
