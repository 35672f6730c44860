// The probe workers and manager: thresholds, startup gating, hold after liveness failure, initial
// delay, termination, and the started/ready flags, probing a real HTTP server on 127.0.0.1.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Container, Pod, PodStatus, Probe } from '../pods/api-types.ts';
import { poll } from '../../testing/poll.ts';
import type { ExecSync } from './exec.ts';
import { ProbeManager } from './manager.ts';
import type { ProbeUpdate } from './results.ts';

let server: http.Server;
let port: number;
let healthy = true;
let hits = 0;

before(async () => {
  server = http.createServer((_req, res) => {
    hits++;
    res.writeHead(healthy ? 200 : 500).end(healthy ? 'ok' : 'down');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const noExec: ExecSync = async () => ({ exitCode: 0, stdout: '', stderr: '' });
const httpProbe = (extra: Partial<Probe> = {}): Probe => ({ httpGet: { path: '/healthz', port }, periodSeconds: 1, failureThreshold: 3, successThreshold: 1, ...extra });

let n = 0;
function setup(container: Container, opts: { restartPolicy?: string; msPerSecond?: number } = {}) {
  n++;
  const pod: Pod = { metadata: { name: `p${n}`, namespace: 'ns', uid: `uid-${n}` }, spec: { containers: [container], restartPolicy: opts.restartPolicy ?? 'Always' } };
  const status: PodStatus = {
    phase: 'Running',
    podIP: '127.0.0.1',
    // `started` as the core's status carries it after updatePodStatus (workers read it from there).
    containerStatuses: [{ name: container.name, containerID: 'containerd://c1', started: !container.startupProbe, state: { running: { startedAt: new Date(Date.now() - 3600_000).toISOString() } } }],
  };
  const updates: ProbeUpdate[] = [];
  const events: string[] = [];
  const m = new ProbeManager({
    execSync: noExec,
    getPodStatus: (uid) => (uid === pod.metadata.uid ? status : undefined),
    onUpdate: (u) => updates.push(u),
    recordEvent: (_p, c, type, reason, msg) => events.push(`${type} ${reason} ${c}: ${msg}`),
    msPerSecond: opts.msPerSecond ?? 1000,
    random: () => 0,
  });
  return { pod, status, updates, events, m };
}

/** The worker for one probe type, driven by hand (no timers). */
function worker(m: ProbeManager, pod: Pod, type: 'Liveness' | 'Readiness' | 'Startup') {
  m.addPod(pod);
  const w = (m as any).workers.get(`${pod.metadata.uid}/${pod.spec.containers[0].name}/${type}`);
  // Keep only this worker's timers from running: the test calls doProbe itself.
  for (const x of (m as any).workers.values()) clearTimeout(x.timer);
  return w as { doProbe(): Promise<boolean>; stop(): void };
}

test('liveness: failureThreshold consecutive failures, event text, then hold until a new container', async () => {
  const { pod, status, updates, events, m } = setup({ name: 'app', livenessProbe: httpProbe() });
  const w = worker(m, pod, 'Liveness');
  healthy = true;
  assert.equal(await w.doProbe(), true);
  assert.equal(m.getResult('Liveness', 'containerd://c1'), 'Success');
  healthy = false;
  await w.doProbe();
  await w.doProbe();
  assert.equal(m.getResult('Liveness', 'containerd://c1'), 'Success', 'below failureThreshold');
  await w.doProbe();
  assert.equal(m.getResult('Liveness', 'containerd://c1'), 'Failure');
  assert.deepEqual(updates.map((u) => `${u.probeType} ${u.containerID} ${u.result}`), ['Liveness containerd://c1 Success', 'Liveness containerd://c1 Failure']);
  assert.equal(events.length, 3);
  assert.equal(events[0], 'Warning Unhealthy app: Liveness probe failed: HTTP probe failed with statuscode: 500');
  // On hold: no more probes of this container.
  const before = hits;
  await w.doProbe();
  assert.equal(hits, before);
  // The core restarted it: a new container ID resets to the initial Success and probing resumes.
  healthy = true;
  status.containerStatuses![0].containerID = 'containerd://c2';
  await w.doProbe();
  assert.equal(hits, before + 1);
  assert.equal(m.getResult('Liveness', 'containerd://c2'), 'Success');
  assert.equal(m.getResult('Liveness', 'containerd://c1'), undefined);
  m.stop();
});

test('readiness: starts Failure, successThreshold, goes back to Failure on failures', async () => {
  const { pod, status, m } = setup({ name: 'app', readinessProbe: httpProbe({ successThreshold: 2, failureThreshold: 1 }) });
  const w = worker(m, pod, 'Readiness');
  healthy = true;
  await w.doProbe();
  assert.equal(m.getResult('Readiness', 'containerd://c1'), 'Failure', 'initial value, one success of two');
  m.updatePodStatus(pod, status);
  assert.equal(status.containerStatuses![0].started, true);
  assert.equal(status.containerStatuses![0].ready, false);
  await w.doProbe();
  assert.equal(m.getResult('Readiness', 'containerd://c1'), 'Success');
  m.updatePodStatus(pod, status);
  assert.equal(status.containerStatuses![0].ready, true);
  healthy = false;
  await w.doProbe();
  assert.equal(m.getResult('Readiness', 'containerd://c1'), 'Failure');
  healthy = true;
  m.stop();
});

test('startup probe gates liveness; started flag follows it', async () => {
  const { pod, status, m } = setup({ name: 'app', startupProbe: httpProbe({ failureThreshold: 2 }), livenessProbe: httpProbe() });
  const live = worker(m, pod, 'Liveness');
  const start = (m as any).workers.get(`${pod.metadata.uid}/app/Startup`);
  healthy = false;
  const before = hits;
  await live.doProbe();
  assert.equal(hits, before, 'liveness waits for startup');
  m.updatePodStatus(pod, status);
  assert.equal(status.containerStatuses![0].started, false);
  assert.equal(status.containerStatuses![0].ready, false);
  await start.doProbe();
  assert.equal(m.getResult('Startup', 'containerd://c1'), 'Unknown');
  healthy = true;
  await start.doProbe();
  assert.equal(m.getResult('Startup', 'containerd://c1'), 'Success');
  m.updatePodStatus(pod, status);
  assert.equal(status.containerStatuses![0].started, true);
  assert.equal(status.containerStatuses![0].ready, true, 'no readiness probe: ready once started');
  const afterStart = hits;
  await start.doProbe();
  assert.equal(hits, afterStart, 'startup stops probing once started');
  await live.doProbe();
  assert.equal(hits, afterStart + 1, 'liveness probes after start');
  m.stop();
});

test('initialDelaySeconds, non-running containers, pod deletion and finished pods', async () => {
  const { pod, status, m } = setup({ name: 'app', livenessProbe: httpProbe({ initialDelaySeconds: 30 }) });
  const w = worker(m, pod, 'Liveness');
  status.containerStatuses![0].state = { running: { startedAt: new Date().toISOString() } };
  const before = hits;
  await w.doProbe();
  assert.equal(hits, before, 'within the initial delay');
  status.containerStatuses![0].state = { waiting: { reason: 'CrashLoopBackOff' } };
  assert.equal(await w.doProbe(), true);
  assert.equal(m.getResult('Liveness', 'containerd://c1'), 'Failure');
  status.containerStatuses![0].state = { running: { startedAt: new Date(0).toISOString() } };
  pod.metadata.deletionTimestamp = new Date().toISOString();
  assert.equal(await w.doProbe(), false, 'liveness stops when the pod is deleted');
  assert.equal(m.getResult('Liveness', 'containerd://c1'), 'Success');
  status.phase = 'Succeeded';
  assert.equal(await w.doProbe(), false);
  m.stop();

  const never = setup({ name: 'job', readinessProbe: httpProbe() }, { restartPolicy: 'Never' });
  const r = worker(never.m, never.pod, 'Readiness');
  never.status.containerStatuses![0].state = { terminated: { exitCode: 0 } };
  assert.equal(await r.doProbe(), false, 'a finished container that will not restart ends the worker');
  never.m.stop();
});

test('the manager runs workers on their period and reports updates', async () => {
  const { pod, updates, m } = setup({ name: 'app', readinessProbe: httpProbe({ periodSeconds: 1 }) }, { msPerSecond: 20 });
  healthy = true;
  m.addPod(pod);
  m.addPod(pod); // no second worker
  await poll(() => updates.some((u) => u.probeType === 'Readiness' && u.result === 'Success'), { what: 'readiness success' });
  healthy = false;
  await poll(() => updates.some((u) => u.probeType === 'Readiness' && u.result === 'Failure' && updates.indexOf(u) > 0), { what: 'readiness failure' });
  healthy = true;
  m.removePod(pod);
  assert.equal(m.hasWorker(pod.metadata.uid!, 'app', 'Readiness'), false);
  assert.equal(m.getResult('Readiness', 'containerd://c1'), undefined);
  m.cleanupPods(new Set());
});

test('exec probes run through ExecSync with the container ID and static env expansion', async () => {
  n++;
  const calls: [string, string[], number][] = [];
  const pod: Pod = {
    metadata: { name: 'e', namespace: 'ns', uid: `uid-${n}` },
    spec: { containers: [{ name: 'app', env: [{ name: 'FILE', value: '/tmp/ready' }], livenessProbe: { exec: { command: ['cat', '$(FILE)'] }, timeoutSeconds: 2 } }] },
  };
  const status: PodStatus = { phase: 'Running', containerStatuses: [{ name: 'app', containerID: 'containerd://abc', started: true, state: { running: { startedAt: new Date(0).toISOString() } } }] };
  const events: string[] = [];
  const m = new ProbeManager({
    execSync: async (id, cmd, t) => {
      calls.push([id, cmd, t]);
      return { exitCode: 1, stdout: '', stderr: 'cat: /tmp/ready: No such file or directory\n' };
    },
    getPodStatus: () => status,
    recordEvent: (_p, _c, _t, reason, msg) => events.push(`${reason}: ${msg}`),
  });
  const w = worker(m, pod, 'Liveness');
  await w.doProbe();
  assert.deepEqual(calls, [['abc', ['cat', '/tmp/ready'], 2000]]);
  assert.deepEqual(events, ['Unhealthy: Liveness probe failed: cat: /tmp/ready: No such file or directory\n']);
  m.stop();
});
