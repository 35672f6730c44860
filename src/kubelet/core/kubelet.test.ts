// The kubelet core on a real API server (SQLite, in process) and a real containerd node of its
// own (bridge, CIDRs and cgroup root unique to this test): pods bound to the test's Node run in
// containers, their status and events are what upstream's kubelet reports. Traffic goes only to
// pods on this node (their IPs on the test's bridge).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../../client/api-client.ts';
import { loadKubeconfig } from '../../client/kubeconfig.ts';
import { ensureNodeKubeconfig } from '../../apiserver/component-credentials.ts';
import { startTestApiServer, type TestApiServer } from '../../testing/api-server.ts';
import { poll } from '../../testing/poll.ts';
import { httpGet } from '../../testing/http-get.ts';
import type { Node, Pod } from '../pods/api-types.ts';
import { localNodeSkipReason, startLocalNode, type LocalNode } from '../testing/local-node.ts';
import { Kubelet, type KubeletOptions } from './kubelet.ts';
import { SummaryCollector } from '../stats/summary.ts';

const skip = localNodeSkipReason();
const NS = 'kubelet-core';
const podsRef = { version: 'v1', resource: 'pods', namespace: NS };

function hostIP(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

const get = (url: string) => httpGet(url, 3000);

describe('kubelet core on a real containerd node', { skip }, () => {
  let api: TestApiServer;
  let client: ApiClient;
  let node: LocalNode;
  let kubelet: Kubelet;
  let nodeObj: Node;
  const logs: string[] = [];
  const nodeName = `kp-${Math.random().toString(36).slice(2, 8)}`;
  const nodeIP = hostIP();

  let nodeClient: ApiClient;
  const kubeletOptions = (): KubeletOptions => ({
    // The kubelet's own identity (system:node:<name>): the node authorizer decides what it may do.
    client: nodeClient,
    nodeName,
    runtime: node.runtime,
    rootDir: join(node.dataDir, 'kubelet'),
    clusterDNS: [],
    clusterDomain: 'cluster.local',
    log: (m) => logs.push(m),
    getNode: () => nodeObj,
    nodeIPs: [nodeIP],
    cgroupRoot: node.cgroupRoot,
    housekeepingPeriodMs: 2000,
    // Shorter than upstream's 10 s so the test sees the delay grow within seconds.
    restartBackoff: { initialMs: 1000, maxMs: 8000 },
  });

  const getPod = (name: string) => client.get<Pod & { status: any }>({ ...podsRef, name });
  const createPod = async (name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}) =>
    client.create<Pod>(podsRef, { metadata: { name, ...meta }, spec: { nodeName, terminationGracePeriodSeconds: 2, ...spec } });
  const waitPod = (name: string, what: string, pred: (p: any) => boolean, timeoutMs = 30_000) =>
    poll(() => getPod(name), { what: `${name}: ${what}`, timeoutMs, intervalMs: 100, done: pred });
  const events = async (name: string) =>
    (await client.list<any>({ version: 'v1', resource: 'events', namespace: NS }, { fieldSelector: `involvedObject.name=${name}` })).items;
  const cstatus = (p: any, c = 'main') => p.status?.containerStatuses?.find((s: any) => s.name === c);

  before(async () => {
    api = await startTestApiServer({ name: 'kubelet-core' });
    client = new ApiClient({ ...loadKubeconfig(api.kubeconfig), maxSockets: 16 });
    await client.create({ version: 'v1', resource: 'namespaces' }, { metadata: { name: NS } });
    node = await startLocalNode();
    const created = await client.create<Node>({ version: 'v1', resource: 'nodes' }, { metadata: { name: nodeName, labels: { 'kubernetes.io/os': 'linux' } }, spec: { podCIDR: node.podCIDR } });
    const status = {
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
      addresses: [{ type: 'InternalIP', address: nodeIP }],
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }],
    };
    nodeClient = new ApiClient(loadKubeconfig(await ensureNodeKubeconfig(api.dir, api.pki, api.server.url, nodeName)));
    nodeObj = await client.updateStatus<Node>({ version: 'v1', resource: 'nodes', name: nodeName }, { ...created, status });
    kubelet = new Kubelet(kubeletOptions());
    await kubelet.start();
  });
  after(async () => {
    await kubelet?.stop();
    await node?.cleanup();
    client?.close();
    nodeClient?.close();
    await api?.close();
    if (process.env.KUBELET_TEST_LOGS) console.log(logs.join('\n'));
  });

  test('a busybox httpd pod runs, answers at its pod IP from the host, and reports status and events as upstream', async () => {
    await createPod('web', {
      containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo hello from $(hostname) > /tmp/index.html && exec httpd -f -p 8080 -h /tmp'] }],
    });
    const p = await waitPod('web', 'Running and ready', (p) => p.status?.phase === 'Running' && cstatus(p)?.ready === true);
    const s = p.status;
    assert.ok(s.podIP && s.podIP.startsWith(node.podCIDR.split('.').slice(0, 3).join('.')), s.podIP);
    assert.deepEqual(s.podIPs, [{ ip: s.podIP }]);
    assert.equal(s.hostIP, nodeIP);
    assert.equal(s.qosClass, 'BestEffort');
    assert.ok(s.startTime);
    const conds = Object.fromEntries(s.conditions.map((c: any) => [c.type, c.status]));
    assert.deepEqual(conds, { PodReadyToStartContainers: 'True', Initialized: 'True', Ready: 'True', ContainersReady: 'True', PodScheduled: 'True' });
    const c = cstatus(p);
    assert.match(c.containerID, /^containerd:\/\/[0-9a-f]{64}$/);
    assert.match(c.imageID, /sha256:[0-9a-f]{64}/);
    assert.equal(c.image, 'busybox');
    assert.equal(c.restartCount, 0);
    assert.equal(c.started, true);
    assert.ok(c.state.running.startedAt);
    const res = await poll(() => get(`http://${s.podIP}:8080/`), { what: 'httpd answers', timeoutMs: 10_000 });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'hello from web\n');
    const reasons = (await poll(async () => {
      const r = (await events('web')).map((e: any) => e.reason);
      return r.includes('Started') ? r : undefined;
    }, { what: 'events' }))!;
    for (const r of ['Pulled', 'Created', 'Started']) assert.ok(reasons.includes(r), `${r} in ${reasons}`);
    // The server's view: the pod with its sandbox and running container.
    const view = kubelet.podsView();
    const seen = view.get(NS, 'web')!;
    assert.equal(view.runningContainerId(seen, 'main'), c.containerID.slice('containerd://'.length));
    assert.ok(view.sandboxId(seen));
    assert.ok(kubelet.activePods().some((x) => x.metadata.name === 'web'));
    // /stats/summary's pods: the pod's ready sandbox with its running container (from the
    // runtime's unfiltered lists, filtered by state in the collector).
    const summary = await new SummaryCollector({ nodeName, cri: node.runtime.cri, rootDir: join(node.dataDir, 'kubelet'), memoryCapacityBytes: 4 * 2 ** 30 }).summary();
    const ps = summary.pods.find((x) => x.podRef.name === 'web' && x.podRef.namespace === NS);
    assert.ok(ps, JSON.stringify(summary.pods.map((x) => x.podRef)));
    assert.equal(ps.podRef.uid, p.metadata.uid);
    assert.deepEqual(ps.containers.map((x) => x.name), ['main']);
  });

  test('only changed status is written; a pod bound to another node is left alone', async () => {
    // The web pod of the test before runs unchanged: relists (every second) and housekeeping
    // (every 2 s here) find nothing new, so nothing is written and its resourceVersion stays.
    const before = await waitPod('web', 'Running and ready', (p) => p.status?.phase === 'Running' && cstatus(p)?.ready === true);
    await client.create<Pod>(podsRef, { metadata: { name: 'elsewhere' }, spec: { nodeName: 'another-node', containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] } });
    await new Promise((r) => setTimeout(r, 6000));
    const after = await getPod('web');
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, 'the status of an unchanged pod was written again');
    const other = await getPod('elsewhere');
    assert.equal(other.status?.containerStatuses, undefined, JSON.stringify(other.status));
    assert.equal(kubelet.podsView().get(NS, 'elsewhere'), undefined);
    const sandboxes = await node.runtime.cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.name': 'elsewhere' } });
    assert.deepEqual(sandboxes, []);
    await client.delete({ ...podsRef, name: 'elsewhere' }, { gracePeriodSeconds: 0 });
  });

  test('init containers run in order before the containers; emptyDir is shared', async () => {
    await createPod('init', {
      restartPolicy: 'Never',
      volumes: [{ name: 'work', emptyDir: {} }],
      initContainers: [
        { name: 'one', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo one >> /work/log'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
        { name: 'two', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo two >> /work/log'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
      ],
      containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'cat /work/log; test "$(cat /work/log)" = "$(printf "one\\ntwo")"'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
    });
    const p = await waitPod('init', 'Succeeded', (p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed');
    assert.equal(p.status.phase, 'Succeeded', JSON.stringify(p.status.containerStatuses));
    assert.deepEqual(p.status.initContainerStatuses.map((s: any) => [s.name, s.state.terminated?.reason]), [['one', 'Completed'], ['two', 'Completed']]);
    assert.equal(cstatus(p).state.terminated.reason, 'Completed');
  });

  test('a crashing container goes to CrashLoopBackOff, restarting with a growing delay', async () => {
    await createPod('crash', { containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo crashing; exit 3'] }] });
    const p = await waitPod('crash', 'three restarts', (p) => (cstatus(p)?.restartCount ?? 0) >= 3, 60_000);
    const c = cstatus(p);
    assert.equal(c.lastState.terminated.exitCode, 3);
    assert.equal(c.lastState.terminated.reason, 'Error');
    const back = await waitPod('crash', 'CrashLoopBackOff', (p) => cstatus(p)?.state?.waiting?.reason === 'CrashLoopBackOff');
    assert.match(cstatus(back).state.waiting.message, /^back-off \d+s restarting failed container=main pod=crash_kubelet-core\(/);
    assert.equal(back.status.phase, 'Running');
    // Start times of the instances: the gaps grow (1 s, 2 s, 4 s with this test's back-off).
    const evs = await events('crash');
    assert.ok(evs.some((e: any) => e.reason === 'BackOff' && /Back-off restarting failed container main in pod crash_kubelet-core/.test(e.message)));
    const started = evs.find((e: any) => e.reason === 'Started');
    assert.ok(started.count >= 3, `Started count ${started.count}`);
    const restarts = await poll(async () => {
      const list = await node.runtime.cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': back.metadata.uid! } });
      const times: number[] = [];
      for (const x of list) times.push((await node.runtime.cri.containerStatus(x.id)).status!.startedAt / 1e6);
      return times.length >= 3 ? times.sort((a, b) => a - b) : undefined;
    }, { what: 'instances' });
    // Only the latest two instances are kept (GC); their gap is the current back-off (≥ 2 s here).
    const last = restarts!.slice(-2);
    assert.ok(last[1]! - last[0]! >= 1900, `gap ${last[1]! - last[0]!} ms`);
  });

  test('a container over its memory limit ends OOMKilled', async () => {
    await createPod('hog', {
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['tail', '/dev/zero'], resources: { limits: { memory: '32Mi' }, requests: { memory: '32Mi' } } }],
    });
    const p = await waitPod('hog', 'Failed', (p) => p.status?.phase === 'Failed', 60_000);
    assert.equal(cstatus(p).state.terminated.reason, 'OOMKilled');
    assert.equal(cstatus(p).state.terminated.exitCode, 137);
    assert.equal(p.status.qosClass, 'Burstable');
  });

  test('activeDeadlineSeconds: the pod is stopped and Failed with DeadlineExceeded', async () => {
    await createPod('deadline', { activeDeadlineSeconds: 2, containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] });
    const p = await waitPod('deadline', 'Failed', (p) => p.status?.phase === 'Failed');
    assert.equal(p.status.reason, 'DeadlineExceeded');
    assert.equal(p.status.message, 'Pod was active on the node longer than the specified deadline');
    await waitPod('deadline', 'container terminated', (p) => cstatus(p)?.state?.terminated);
  });

  test('a failing liveness probe restarts the container; readiness flips Ready', async () => {
    await createPod('probed', {
      containers: [
        {
          name: 'main',
          image: 'busybox',
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', 'touch /tmp/alive; sleep 3600'],
          livenessProbe: { exec: { command: ['cat', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 1 },
          readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 },
        },
      ],
    });
    const running = await waitPod('probed', 'running, not ready', (p) => cstatus(p)?.state?.running && cstatus(p)?.started === true);
    assert.equal(cstatus(running).ready, false);
    assert.equal(running.status.conditions.find((c: any) => c.type === 'Ready').status, 'False');
    const id = cstatus(running).containerID.slice('containerd://'.length);
    await node.runtime.cri.execSync(id, ['touch', '/tmp/ready'], 5);
    const ready = await waitPod('probed', 'Ready', (p) => p.status?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True');
    assert.equal(cstatus(ready).ready, true);
    await node.runtime.cri.execSync(id, ['rm', '/tmp/ready'], 5);
    await waitPod('probed', 'not Ready again', (p) => p.status?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'False');
    await node.runtime.cri.execSync(id, ['rm', '/tmp/alive'], 5);
    const restarted = await waitPod('probed', 'restarted', (p) => cstatus(p)?.restartCount >= 1 && cstatus(p)?.state?.running);
    assert.notEqual(cstatus(restarted).containerID, cstatus(running).containerID);
    const evs = await events('probed');
    assert.ok(evs.some((e: any) => e.reason === 'Unhealthy' && /^Liveness probe failed/.test(e.message)), JSON.stringify(evs.map((e: any) => e.message)));
    assert.ok(evs.some((e: any) => e.reason === 'Killing' && e.message === 'Container main failed liveness probe, will be restarted'));
  });

  test('an update to a mounted ConfigMap is seen in the container', async () => {
    const cmRef = { version: 'v1', resource: 'configmaps', namespace: NS };
    await client.create(cmRef, { metadata: { name: 'conf' }, data: { greeting: 'one' } });
    await createPod('cm', {
      volumes: [{ name: 'conf', configMap: { name: 'conf' } }],
      containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], volumeMounts: [{ name: 'conf', mountPath: '/etc/conf' }] }],
    });
    const p = await waitPod('cm', 'running', (p) => cstatus(p)?.state?.running);
    const id = cstatus(p).containerID.slice('containerd://'.length);
    const read = async () => (await node.runtime.cri.execSync(id, ['cat', '/etc/conf/greeting'], 5)).stdout.toString();
    assert.equal(await read(), 'one');
    await client.update({ ...cmRef, name: 'conf' }, { metadata: { name: 'conf' }, data: { greeting: 'two' } });
    await poll(read, { what: 'new content in the container', timeoutMs: 20_000, done: (v) => v === 'two' });
  });

  test('bad input reaches the pod status: missing ConfigMap, image not present with policy Never, an unreachable registry, a command that cannot run, a pod that does not fit', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    await createPod('nocm', {
      containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'missing', key: 'k' } } }] }],
    });
    await createPod('noimage', { containers: [{ name: 'main', image: 'mizzen.test/not-here:1', imagePullPolicy: 'Never' }] });
    await createPod('badcmd', { containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['/no/such/binary'] }] });
    await createPod('big', { containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], resources: { requests: { cpu: '64' } } }] });

    await createPod('nopull', { containers: [{ name: 'main', image: `127.0.0.1:${closedPort}/nope:1`, imagePullPolicy: 'IfNotPresent' }] });
    const nocm = await waitPod('nocm', 'CreateContainerConfigError', (p) => cstatus(p)?.state?.waiting?.reason === 'CreateContainerConfigError');
    assert.equal(cstatus(nocm).state.waiting.message, 'configmap "missing" not found');
    assert.equal(nocm.status.phase, 'Pending');
    const noimage = await waitPod('noimage', 'ErrImageNeverPull', (p) => cstatus(p)?.state?.waiting?.reason === 'ErrImageNeverPull');
    assert.equal(cstatus(noimage).state.waiting.message, 'Container image "mizzen.test/not-here:1" is not present with pull policy of Never');
    const badcmd = await waitPod('badcmd', 'start failure', (p) => ['RunContainerError', 'CrashLoopBackOff'].includes(cstatus(p)?.state?.waiting?.reason) && cstatus(p)?.lastState?.terminated);
    assert.equal(cstatus(badcmd).lastState.terminated.reason, 'StartError');
    assert.match(cstatus(badcmd).lastState.terminated.message, /no such file or directory/);
    const big = await waitPod('big', 'rejected', (p) => p.status?.phase === 'Failed');
    assert.equal(big.status.reason, 'OutOfcpu');
    assert.match(big.status.message, /^Pod was rejected: Node didn't have enough resource: cpu, requested: 64000, used: \d+, capacity: 2000$/);
    // A registry that cannot be reached (a closed port on loopback): ErrImagePull, then ImagePullBackOff.
    const pullFailed = await waitPod('nopull', 'ErrImagePull', (p) => cstatus(p)?.state?.waiting?.reason === 'ErrImagePull');
    assert.match(cstatus(pullFailed).state.waiting.message, /connection refused|connect/);
    await waitPod('nopull', 'ImagePullBackOff', (p) => cstatus(p)?.state?.waiting?.reason === 'ImagePullBackOff');
    const pullEvents = (await events('nopull')).map((e: any) => `${e.reason}: ${e.message}`);
    assert.ok(pullEvents.includes(`Pulling: Pulling image "127.0.0.1:${closedPort}/nope:1"`), pullEvents.join('\n'));
    assert.ok(pullEvents.some((m: string) => m.startsWith(`Failed: Failed to pull image "127.0.0.1:${closedPort}/nope:1": `)));
    assert.ok(pullEvents.includes('Failed: Error: ErrImagePull'));
    assert.ok(pullEvents.includes(`BackOff: Back-off pulling image "127.0.0.1:${closedPort}/nope:1"`));
    const evs = await events('nocm');
    assert.ok(evs.some((e: any) => e.reason === 'Failed' && e.message === 'Error: configmap "missing" not found'));
    // Once the ConfigMap exists the container starts.
    await client.create({ version: 'v1', resource: 'configmaps', namespace: NS }, { metadata: { name: 'missing' }, data: { k: 'v' } });
    await waitPod('nocm', 'running after the ConfigMap appeared', (p) => cstatus(p)?.state?.running);
  });

  test('graceful deletion: SIGTERM, the pod is removed once its containers stopped, within the grace period', async () => {
    await createPod('graceful', {
      terminationGracePeriodSeconds: 20,
      containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'trap "echo bye; exit 0" TERM; while :; do sleep 0.2; done'] }],
    });
    await createPod('stubborn', {
      terminationGracePeriodSeconds: 3,
      containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'trap "" TERM; while :; do sleep 0.2; done'] }],
    });
    await waitPod('graceful', 'running', (p) => cstatus(p)?.state?.running);
    const stubborn = await waitPod('stubborn', 'running', (p) => cstatus(p)?.state?.running);
    const gone = async (name: string) => {
      const t0 = Date.now();
      await client.delete({ ...podsRef, name });
      await poll(() => getPod(name).then(() => false, (e) => e.code === 404), { what: `${name} removed`, timeoutMs: 30_000 });
      return Date.now() - t0;
    };
    const [g, s] = await Promise.all([gone('graceful'), gone('stubborn')]);
    assert.ok(g < 5000, `graceful pod removed after ${g} ms`);
    assert.ok(s >= 2900 && s < 10_000, `stubborn pod removed after ${s} ms (grace 3 s)`);
    // What the pod had on the node is gone: sandbox, containers, log directory, pod directory, cgroup.
    const uid = stubborn.metadata.uid!;
    // (The API object goes first; the clean-up follows within moments.)
    await poll(async () => (await node.runtime.cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': uid } })).length === 0, { what: 'sandbox removed' });
    assert.deepEqual(await node.runtime.cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': uid } }), []);
    await poll(() => !existsSync(join(node.runtime.paths.podLogsDir, `${NS}_stubborn_${uid}`)), { what: 'log directory removed' });
    await poll(() => !existsSync(join(node.dataDir, 'kubelet', 'pods', uid)), { what: 'pod directory removed' });
    await poll(() => !existsSync(`/sys/fs/cgroup/memory${node.cgroupRoot}/kubepods/besteffort/pod${uid}`), { what: 'pod cgroup removed' });
    const evs = await events('graceful');
    assert.ok(evs.some((e: any) => e.reason === 'Killing' && e.message === 'Stopping container main'));
  });

  test('a force delete during a long graceful stop cuts it short', async () => {
    await createPod('shortened', {
      terminationGracePeriodSeconds: 60,
      containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'trap "" TERM; while :; do sleep 0.2; done'] }],
    });
    const p = await waitPod('shortened', 'running', (p) => cstatus(p)?.state?.running);
    await client.delete({ ...podsRef, name: 'shortened' });
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    await client.delete({ ...podsRef, name: 'shortened' }, { gracePeriodSeconds: 0 });
    await poll(async () => (await node.runtime.cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': p.metadata.uid! }, state: { state: 'CONTAINER_RUNNING' } })).length === 0, {
      what: 'container stopped',
      timeoutMs: 20_000,
    });
    assert.ok(Date.now() - t0 < 8000, `stopped ${Date.now() - t0} ms after the force delete`);
  });

  test('a force delete stops the containers at once', async () => {
    await createPod('forced', {
      terminationGracePeriodSeconds: 60,
      containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'trap "" TERM; while :; do sleep 0.2; done'] }],
    });
    const p = await waitPod('forced', 'running', (p) => cstatus(p)?.state?.running);
    const t0 = Date.now();
    await client.delete({ ...podsRef, name: 'forced' }, { gracePeriodSeconds: 0 });
    await poll(async () => (await node.runtime.cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': p.metadata.uid! }, state: { state: 'CONTAINER_RUNNING' } })).length === 0, {
      what: 'container stopped',
      timeoutMs: 15_000,
    });
    assert.ok(Date.now() - t0 < 8000, `stopped after ${Date.now() - t0} ms`);
  });

  test('a restarted kubelet adopts the running containers instead of restarting them', async () => {
    const before = await getPod('web');
    const c0 = cstatus(before);
    // The status is written only when it changes: a steady pod is not rewritten.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await getPod('web')).metadata.resourceVersion, before.metadata.resourceVersion);
    await createPod('deleted-while-down', { containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] });
    const doomed = await waitPod('deleted-while-down', 'running', (p) => cstatus(p)?.state?.running);
    await kubelet.stop();
    // Removed from the API while no kubelet runs: the next one finds its containers orphaned.
    await client.delete({ ...podsRef, name: 'deleted-while-down' }, { gracePeriodSeconds: 0 });
    kubelet = new Kubelet(kubeletOptions());
    await kubelet.start();
    // A change that needs a status write shows the new kubelet is in charge.
    await createPod('after-restart', { containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] });
    await waitPod('after-restart', 'running', (p) => cstatus(p)?.state?.running);
    const after = await waitPod('web', 'still running', (p) => cstatus(p)?.state?.running && cstatus(p)?.ready);
    assert.equal(cstatus(after).containerID, c0.containerID);
    assert.equal(cstatus(after).restartCount, 0);
    assert.equal(after.status.podIP, before.status.podIP);
    assert.equal((await get(`http://${after.status.podIP}:8080/`)).status, 200);
    await poll(async () => (await node.runtime.cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': doomed.metadata.uid! } })).length === 0, {
      what: 'orphaned sandbox removed',
      timeoutMs: 20_000,
    });
  });

  test('containerd killed: the kubelet keeps its pods and runs new ones once it is back', async () => {
    const sup = node.runtime.supervisor!;
    const ready = new Promise((r) => sup.once('ready', r));
    process.kill(sup.pid!, 'SIGKILL');
    await ready;
    await createPod('after-crash', { containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] });
    await waitPod('after-crash', 'running', (p) => cstatus(p)?.state?.running);
    const web = await getPod('web');
    assert.equal(cstatus(web).restartCount, 0);
    assert.equal((await get(`http://${web.status.podIP}:8080/`)).status, 200);
  });
});
