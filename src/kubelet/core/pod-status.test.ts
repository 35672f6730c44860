import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../pods/api-types.ts';
import { buildPodStatus, podPhase } from './pod-status.ts';
import type { PodRuntimeState, RuntimeContainer } from './runtime-state.ts';

const pod = (spec: Partial<Pod['spec']> = {}): Pod =>
  ({ metadata: { name: 'p', namespace: 'n', uid: 'u1' }, spec: { containers: [{ name: 'a', image: 'busybox' }], ...spec } }) as Pod;

const ctr = (o: Partial<RuntimeContainer>): RuntimeContainer => ({
  id: 'c1',
  sandboxId: 's1',
  name: 'a',
  restartCount: 0,
  hash: '',
  state: 'CONTAINER_RUNNING',
  createdAt: 1000,
  startedAt: 2000,
  finishedAt: 0,
  exitCode: 0,
  reason: '',
  message: '',
  imageRef: 'sha256:abc',
  logPath: '',
  ...o,
});

const state = (containers: RuntimeContainer[]): PodRuntimeState => ({
  uid: 'u1',
  sandboxes: [{ id: 's1', state: 'SANDBOX_READY', attempt: 0, createdAt: 500, ips: ['10.1.2.3'] }],
  containers,
});

const allReady = (_p: Pod, st: any) => {
  for (const s of st.containerStatuses ?? []) {
    s.started = !!s.state.running;
    s.ready = !!s.state.running;
  }
};

test('a running pod: phase, conditions, IPs, container status', () => {
  const s: any = buildPodStatus({ pod: pod(), state: state([ctr({})]), reasons: new Map(), hostIPs: ['192.0.2.1'], runtimeName: 'containerd', startTime: 'T', setProbeFlags: allReady, now: new Date(0) });
  assert.equal(s.phase, 'Running');
  assert.equal(s.podIP, '10.1.2.3');
  assert.deepEqual(s.hostIPs, [{ ip: '192.0.2.1' }]);
  assert.equal(s.qosClass, 'BestEffort');
  assert.deepEqual(s.conditions.map((c: any) => `${c.type}=${c.status}`), ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True']);
  const c = s.containerStatuses[0];
  assert.equal(c.containerID, 'containerd://c1');
  assert.equal(c.state.running.startedAt, '1970-01-01T00:00:02Z');
  assert.deepEqual(c.lastState, {});
});

test('crash loop: waiting with the exit as last state; restartPolicy decides the phase of exited pods', () => {
  const exited = ctr({ id: 'c2', restartCount: 1, state: 'CONTAINER_EXITED', exitCode: 3, reason: 'Error', finishedAt: 3000 });
  const prev = ctr({ id: 'c1', state: 'CONTAINER_EXITED', exitCode: 3, reason: 'Error', finishedAt: 1500 });
  const reasons = new Map([['a', { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=a pod=p_n(u1)' }]]);
  const s: any = buildPodStatus({ pod: pod(), state: state([exited, prev]), reasons, hostIPs: [], runtimeName: 'containerd' });
  const c = s.containerStatuses[0];
  assert.equal(c.state.waiting.reason, 'CrashLoopBackOff');
  assert.equal(c.lastState.terminated.exitCode, 3);
  assert.equal(c.lastState.terminated.containerID, 'containerd://c2');
  assert.equal(c.restartCount, 1);
  assert.equal(s.phase, 'Running');
  assert.equal(s.conditions.find((x: any) => x.type === 'Ready').reason, 'ContainersNotReady');
  const never: any = buildPodStatus({ pod: pod({ restartPolicy: 'Never' }), state: state([exited]), reasons: new Map(), hostIPs: [], runtimeName: 'containerd' });
  assert.equal(never.phase, 'Failed');
  assert.equal(never.containerStatuses[0].state.terminated.reason, 'Error');
  const ok = ctr({ state: 'CONTAINER_EXITED', exitCode: 0, reason: 'Completed', finishedAt: 3000 });
  const done: any = buildPodStatus({ pod: pod({ restartPolicy: 'OnFailure' }), state: state([ok]), reasons: new Map(), hostIPs: [], runtimeName: 'containerd' });
  assert.equal(done.phase, 'Succeeded');
  assert.equal(done.conditions.find((x: any) => x.type === 'ContainersReady').reason, 'PodCompleted');
});

test('pending: no container yet, init containers incomplete, waiting reasons from the sync', () => {
  const p = pod({ initContainers: [{ name: 'i', image: 'busybox' }] });
  const s: any = buildPodStatus({ pod: p, state: state([]), reasons: new Map([['i', { reason: 'ErrImagePull', message: 'nope' }]]), hostIPs: [], runtimeName: 'containerd' });
  assert.equal(s.phase, 'Pending');
  assert.deepEqual(s.initContainerStatuses[0].state, { waiting: { reason: 'ErrImagePull', message: 'nope' } });
  assert.deepEqual(s.containerStatuses[0].state, { waiting: { reason: 'PodInitializing' } });
  const init = s.conditions.find((x: any) => x.type === 'Initialized');
  assert.deepEqual([init.status, init.reason, init.message], ['False', 'ContainersNotInitialized', 'containers with incomplete status: [i]']);
  // A failed init container with restartPolicy Never fails the pod.
  const failed = ctr({ name: 'i', state: 'CONTAINER_EXITED', exitCode: 1, finishedAt: 3000 });
  assert.equal(buildPodStatus({ pod: { ...p, spec: { ...p.spec, restartPolicy: 'Never' } }, state: state([failed]), reasons: new Map(), hostIPs: [], runtimeName: 'containerd' }).phase, 'Failed');
  // Rejected at admission.
  const r: any = buildPodStatus({ pod: pod(), reasons: new Map(), hostIPs: [], runtimeName: 'containerd', rejection: { reason: 'OutOfcpu', message: 'Pod was rejected: x' } });
  assert.deepEqual([r.phase, r.reason, r.message], ['Failed', 'OutOfcpu', 'Pod was rejected: x']);
  assert.equal(podPhase(pod(), [], [{ name: 'a', state: { waiting: {} } }]), 'Pending');
});

test('conditions keep their transition time while unchanged, and others\' conditions are kept', () => {
  const p = pod();
  (p as any).status = { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: 'OLD' }, { type: 'DisruptionTarget', status: 'True' }, { type: 'PodScheduled', status: 'True', lastTransitionTime: 'S' }] };
  const s: any = buildPodStatus({ pod: p, state: state([ctr({})]), reasons: new Map(), hostIPs: [], runtimeName: 'containerd', setProbeFlags: allReady, now: new Date(0) });
  assert.equal(s.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime, 'OLD');
  assert.equal(s.conditions.find((c: any) => c.type === 'PodScheduled').lastTransitionTime, 'S');
  assert.ok(s.conditions.some((c: any) => c.type === 'DisruptionTarget'));
});
