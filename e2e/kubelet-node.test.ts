// A real node with the real kubectl: `mizzen up` (control plane) and `mizzen kubelet` (this
// machine's node, as its own process so the test can kill it), as root with containerd & co.
// The node registers Ready with the machine's capacity and renews its Lease; a busybox httpd
// Deployment is reachable at its pod IP from the host; logs, exec, cp and port-forward go through
// the API server; readiness and liveness probes (the Service's Endpoints follow readiness), a
// ConfigMap update, a graceful delete, OOMKilled and CrashLoopBackOff, the securityContext fields,
// all seen through kubectl;
// the node goes NotReady when the kubelet is killed and Ready when it is back, with its running
// container adopted (same container, no restart).
// Host-global names are the test's own: node name, bridge, cgroup root, CIDRs, ports.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECTL, MIZZEN_BIN, freePort, hasKubectl, realNodeFlags, realNodeNames, startCluster, type Cluster } from './harness.ts';
import { ensurePki, ensureKubeletServingCert } from '../src/apiserver/pki.ts';
import { ensureNodeKubeconfig } from '../src/apiserver/component-credentials.ts';
import { cleanupLocalNode, localNodeSkipReason, pickTestCidrs, type TestCidrs } from '../src/kubelet/testing/local-node.ts';
import { nodeInternalIP } from '../src/kubelet/node/machine-info.ts';
import { poll } from '../src/testing/poll.ts';
import { httpGet } from '../src/testing/http-get.ts';

const skip = !hasKubectl ? 'needs /usr/bin/kubectl' : localNodeSkipReason();

describe('a real node (mizzen kubelet) with kubectl', { skip, timeout: 600_000 }, () => {
  const names = realNodeNames('kn');
  const { nodeName, bridge, cgroupRoot } = names;
  const nodeDir = mkdtempSync(join(tmpdir(), 'mzkne-'));
  let cidrs: TestCidrs;
  let c: Cluster;
  let kubelet: ChildProcess | undefined;
  let kubeletOut = '';
  let kubeletArgs: string[] = [];

  const startKubelet = (extra: string[] = []) => {
    kubeletOut = '';
    // Executed as people run it: bin/mizzen.js's shell lines exec node with the kubelet's flags.
    kubelet = spawn(MIZZEN_BIN, ['kubelet', ...kubeletArgs, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    kubelet.stdout!.on('data', (d) => (kubeletOut += d));
    kubelet.stderr!.on('data', (d) => (kubeletOut += d));
  };
  const stopKubelet = async (sig: NodeJS.Signals) => {
    const k = kubelet;
    if (!k || k.exitCode !== null || k.signalCode !== null) return;
    const exited = new Promise((r) => k.once('exit', r));
    k.kill(sig);
    await exited;
  };
  const kubectl = (args: string[], input?: string) => c.kubectl(args, { input });
  const json = async (args: string[]) => JSON.parse((await kubectl([...args, '-o', 'json'])).stdout);
  const readyStatus = async () => (await json(['get', 'node', nodeName])).status.conditions.find((x: any) => x.type === 'Ready')?.status;

  before(async () => {
    cidrs = await pickTestCidrs();
    c = await startCluster({ extraArgs: ['--cluster-cidr', cidrs.clusterCIDR, '--service-cluster-ip-range', cidrs.serviceCIDR, '--node-monitor-grace-period', '8s'] });
    // The node's own identity and serving certificate, as `mizzen up` makes them for its local node.
    const pki = await ensurePki(c.dataDir);
    const kubeconfig = await ensureNodeKubeconfig(c.dataDir, pki, c.url, nodeName);
    const serving = await ensureKubeletServingCert(join(nodeDir, 'serving'), { certPem: pki.caCertPem, keyPem: pki.caKeyPem }, nodeName, [nodeInternalIP()]);
    writeFileSync(join(nodeDir, 'kubelet.crt'), serving.certPem);
    writeFileSync(join(nodeDir, 'kubelet.key'), serving.keyPem);
    const port = await freePort();
    kubeletArgs = ['--kubeconfig', kubeconfig, '--data-dir', join(nodeDir, 'data'), '--port', String(port),
      '--tls-cert-file', join(nodeDir, 'kubelet.crt'), '--tls-private-key-file', join(nodeDir, 'kubelet.key'),
      // A 8 s Lease renewed every 2 s: the renewal test sees one without waiting upstream's 10 s.
      '--node-lease-duration-seconds', '8',
      // This suite is about the kubelet: no service proxy (the host-global one is e2e/services-dns.test.ts's).
      ...realNodeFlags(names, cidrs)];
    startKubelet();
  });

  after(async () => {
    await kubectl(['delete', 'deployment', 'web', '--ignore-not-found', '--wait=false']).catch(() => {});
    // The last kubelet runs with --cleanup: on SIGTERM it removes the pods, the network and routes.
    await stopKubelet('SIGTERM');
    await cleanupLocalNode({ dataDir: join(nodeDir, 'data'), bridge, cgroupRoot, ...cidrs }).catch(() => {});
    rmSync(nodeDir, { recursive: true, force: true });
    await c?.stop();
  });

  test('the node registers Ready with the machine\'s capacity and renews its Lease', async () => {
    await poll(readyStatus, { what: `node ${nodeName} Ready (kubelet output: ${kubeletOut})`, timeoutMs: 60_000, done: (s) => s === 'True', intervalMs: 500 }).catch((e) => {
      throw new Error(`${(e as Error).message}\n${kubeletOut}`);
    });
    // The process we started (its pid: exec, not a child) runs node with the kubelet's flags.
    const cmdline = readFileSync(`/proc/${kubelet!.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.includes('--lite-mode') && cmdline.includes(MIZZEN_BIN), cmdline.join(' '));
    assert.match(readFileSync(`/proc/${kubelet!.pid}/environ`, 'utf8'), /(^|\0)MALLOC_ARENA_MAX=\d/);
    const n = await json(['get', 'node', nodeName]);
    assert.equal(n.status.capacity.pods, '110');
    assert.match(n.status.capacity.memory, /^\d+Ki$/);
    assert.match(n.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
    assert.equal(n.metadata.labels['kubernetes.io/hostname'], nodeName);
    assert.ok(n.spec.podCIDR, 'the node IPAM controller gave it a podCIDR');
    const wide = (await kubectl(['get', 'nodes', nodeName, '-o', 'wide'])).stdout;
    assert.match(wide, new RegExp(`${nodeName}\\s+Ready`));
    const l1 = await json(['get', 'lease', '-n', 'kube-node-lease', nodeName]);
    assert.equal(l1.spec.leaseDurationSeconds, 8, '--node-lease-duration-seconds');
    await poll(async () => (await json(['get', 'lease', '-n', 'kube-node-lease', nodeName])).spec.renewTime !== l1.spec.renewTime, { what: 'a lease renewal', timeoutMs: 25_000, intervalMs: 1000 });
  });

  let podName = '';
  let podIP = '';
  let containerID = '';
  test('kubectl create deployment web --image=busybox:1.35 -- httpd -f -p 8080: reachable at its pod IP', async () => {
    await kubectl(['create', 'deployment', 'web', '--image=busybox:1.35', '--', 'httpd', '-f', '-p', '8080']);
    const pod = await poll(
      async () => {
        const pods = await json(['get', 'pods', '-l', 'app=web']);
        return pods.items.find((p: any) => p.status?.phase === 'Running' && p.status?.podIP);
      },
      { what: `a Running web pod (kubelet output: ${kubeletOut.slice(-3000)})`, timeoutMs: 60_000, intervalMs: 500 },
    );
    podName = pod.metadata.name;
    podIP = pod.status.podIP;
    containerID = pod.status.containerStatuses[0].containerID;
    assert.equal(pod.spec.nodeName, nodeName);
    // busybox httpd serves / from its working directory: any HTTP answer proves the pod is reachable.
    const res = await poll(() => httpGet(`http://${podIP}:8080/`, 3000), { what: `HTTP from ${podIP}:8080`, timeoutMs: 15_000 });
    assert.ok(res.status >= 200 && res.status < 500, `status ${res.status}`);
  });

  test('kubectl logs, exec, cp and port-forward through the API server', async () => {
    const ex = await kubectl(['exec', podName, '--', 'sh', '-c', 'echo hello from $(hostname); echo to-the-log > /proc/1/fd/1']);
    assert.match(ex.stdout, new RegExp(`hello from ${podName}`));
    const logs = await poll(async () => (await kubectl(['logs', podName])).stdout, { what: 'the log line', done: (s) => s.includes('to-the-log'), timeoutMs: 10_000 });
    assert.match(logs, /to-the-log/);
    const file = join(nodeDir, 'copied.txt');
    writeFileSync(file, 'copied in\n');
    await kubectl(['cp', file, `${podName}:/tmp/copied.txt`]);
    assert.equal((await kubectl(['exec', podName, '--', 'cat', '/tmp/copied.txt'])).stdout, 'copied in\n');
    await kubectl(['cp', `${podName}:/tmp/copied.txt`, join(nodeDir, 'back.txt')]);
    assert.equal(readFileSync(join(nodeDir, 'back.txt'), 'utf8'), 'copied in\n');
    const local = await freePort();
    const pf = spawn(KUBECTL, ['port-forward', `pod/${podName}`, `${local}:8080`], { env: { ...process.env, KUBECONFIG: c.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const res = await poll(() => httpGet(`http://127.0.0.1:${local}/`, 3000), { what: 'port-forward', timeoutMs: 15_000 });
      assert.ok(res.status >= 200 && res.status < 500);
    } finally {
      pf.kill('SIGTERM');
    }
  });

  const podJSON = (name: string) => json(['get', 'pod', name]);
  const cstatus = (p: any) => p.status?.containerStatuses?.[0];

  test('probes and a ConfigMap volume through kubectl: readiness moves the pod in and out of its Service\'s Endpoints, liveness restarts it, an update reaches the file', async () => {
    await kubectl(['create', 'configmap', 'probed-settings', '--from-literal=greeting=hello']);
    // /tmp/ready and /tmp/alive are the probes' files: removing one with kubectl exec fails that probe.
    await kubectl(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: {name: probed, labels: {app: probed}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox:1.35
    command: [sh, -c, 'touch /tmp/ready /tmp/alive; exec httpd -f -p 8080']
    readinessProbe: {exec: {command: [cat, /tmp/ready]}, periodSeconds: 1, failureThreshold: 1}
    livenessProbe: {exec: {command: [cat, /tmp/alive]}, periodSeconds: 1, failureThreshold: 2}
    volumeMounts: [{name: settings, mountPath: /etc/settings}]
  volumes: [{name: settings, configMap: {name: probed-settings}}]
---
apiVersion: v1
kind: Service
metadata: {name: probed}
spec:
  selector: {app: probed}
  ports: [{port: 80, targetPort: 8080}]
`);
    const ready = await poll(async () => {
      const p = await podJSON('probed');
      return p.status?.conditions?.find((x: any) => x.type === 'Ready')?.status === 'True' ? p : undefined;
    }, { what: `probed Ready (kubelet output: ${kubeletOut.slice(-2000)})`, timeoutMs: 60_000, intervalMs: 500 });
    const ip = ready.status.podIP;
    const endpoints = async () => {
      const ep = await json(['get', 'endpoints', 'probed']);
      const subset = ep.subsets?.[0] ?? {};
      return { ready: (subset.addresses ?? []).map((a: any) => a.ip), notReady: (subset.notReadyAddresses ?? []).map((a: any) => a.ip) };
    };
    await poll(async () => (await endpoints()).ready.includes(ip), { what: `${ip} in the Endpoints' addresses`, timeoutMs: 20_000, intervalMs: 500 });

    await kubectl(['exec', 'probed', '--', 'rm', '/tmp/ready']);
    const out = await poll(async () => {
      const e = await endpoints();
      return e.notReady.includes(ip) && !e.ready.includes(ip) ? e : undefined;
    }, { what: `${ip} moved to notReadyAddresses`, timeoutMs: 20_000, intervalMs: 500 });
    assert.deepEqual(out!.ready, []);
    assert.equal((await podJSON('probed')).status.conditions.find((x: any) => x.type === 'Ready').status, 'False');
    await kubectl(['exec', 'probed', '--', 'touch', '/tmp/ready']);
    await poll(async () => (await endpoints()).ready.includes(ip), { what: `${ip} back in the addresses`, timeoutMs: 20_000, intervalMs: 500 });

    assert.equal((await kubectl(['exec', 'probed', '--', 'cat', '/etc/settings/greeting'])).stdout, 'hello');
    await kubectl(['patch', 'configmap', 'probed-settings', '-p', '{"data":{"greeting":"bye"}}']);
    await poll(async () => (await kubectl(['exec', 'probed', '--', 'cat', '/etc/settings/greeting'])).stdout, { what: 'the updated ConfigMap in the file', done: (s) => s === 'bye', timeoutMs: 90_000, intervalMs: 1000 });

    await kubectl(['exec', 'probed', '--', 'rm', '/tmp/alive']);
    const restarted = await poll(async () => {
      const p = await podJSON('probed');
      return (cstatus(p)?.restartCount ?? 0) >= 1 && cstatus(p)?.ready ? p : undefined;
    }, { what: 'a restart after the liveness probe failed, Ready again', timeoutMs: 60_000, intervalMs: 500 });
    assert.equal(cstatus(restarted).lastState.terminated.exitCode, 137, JSON.stringify(cstatus(restarted).lastState));
    const events = (await kubectl(['get', 'events', '--field-selector', 'involvedObject.name=probed', '-o', 'custom-columns=REASON:.reason,MESSAGE:.message', '--no-headers'])).stdout;
    assert.match(events, /Unhealthy\s+Liveness probe failed/);
    assert.match(events, /Killing\s+Container c failed liveness probe, will be restarted/);
    assert.match(events, /Unhealthy\s+Readiness probe failed/);
    await kubectl(['delete', 'service', 'probed']);
    await kubectl(['delete', 'configmap', 'probed-settings']);
  });

  test('a graceful delete through kubectl: SIGTERM, gone within the grace period', async () => {
    // The shell traps SIGTERM and leaves a mark the test reads back through the container's log.
    await kubectl(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: {name: graceful}
spec:
  terminationGracePeriodSeconds: 20
  containers:
  - name: c
    image: busybox:1.35
    command: [sh, -c, 'trap "echo got SIGTERM; sleep 2; exit 0" TERM; echo started; while true; do sleep 1; done']
`);
    await poll(async () => (await podJSON('graceful')).status?.phase === 'Running', { what: 'graceful Running', timeoutMs: 60_000, intervalMs: 500 });
    await poll(async () => (await kubectl(['logs', 'graceful'])).stdout, { what: 'started', done: (s) => s.includes('started'), timeoutMs: 10_000 });
    const follow = spawn(KUBECTL, ['logs', '-f', 'graceful'], { env: { ...process.env, KUBECONFIG: c.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follow.stdout!.on('data', (d) => (followed += d));
    const t0 = Date.now();
    try {
      await kubectl(['delete', 'pod', 'graceful', '--wait=true', '--timeout=60s']);
      const took = Date.now() - t0;
      // The trap's 2 s, well inside the 20 s grace period: the kubelet did not wait it out or kill early.
      assert.ok(took >= 1500 && took < 20_000, `delete took ${took} ms`);
      await poll(() => followed, { what: 'the SIGTERM mark in the followed log', done: (s) => s.includes('got SIGTERM'), timeoutMs: 5000 });
    } finally {
      follow.kill('SIGTERM');
    }
  });

  test('OOMKilled and CrashLoopBackOff with a growing back-off, through kubectl', async () => {
    await kubectl(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - {name: c, image: busybox:1.35, command: [tail, /dev/zero], resources: {limits: {memory: 32Mi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: c, image: busybox:1.35, command: [sh, -c, 'echo crashing; exit 3']}
`);
    const hog = await poll(async () => {
      const p = await podJSON('hog');
      return p.status?.phase === 'Failed' ? p : undefined;
    }, { what: 'hog Failed', timeoutMs: 60_000, intervalMs: 500 });
    assert.equal(cstatus(hog).state.terminated.reason, 'OOMKilled');
    assert.equal(cstatus(hog).state.terminated.exitCode, 137);
    // Upstream's back-off: 10 s after the first crash, then 20 s: the waiting message says which.
    const messages = new Set<string>();
    await poll(async () => {
      const w = cstatus(await podJSON('crasher'))?.state?.waiting;
      if (w?.reason === 'CrashLoopBackOff') messages.add(/^back-off (\d+s)/.exec(w.message)?.[1] ?? w.message);
      return messages.has('20s');
    }, { what: `a 20 s back-off after the 10 s one (seen: ${[...messages].join(', ')})`, timeoutMs: 90_000, intervalMs: 500 });
    assert.ok(messages.has('10s'), [...messages].join(', '));
    const p = await podJSON('crasher');
    assert.ok(cstatus(p).restartCount >= 2, `restartCount ${cstatus(p).restartCount}`);
    assert.equal(cstatus(p).lastState.terminated.exitCode, 3);
    assert.match((await kubectl(['logs', 'crasher', '--previous'])).stdout, /crashing/);
    await kubectl(['delete', 'pod', 'hog', 'crasher', '--wait=false']);
  });

  test('securityContext on the real node: runAsUser/runAsGroup, readOnlyRootFilesystem, capabilities, privileged', async () => {
    await kubectl(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: {name: secure}
spec:
  terminationGracePeriodSeconds: 0
  securityContext: {runAsUser: 1000, runAsGroup: 3000}
  containers:
  - name: c
    image: busybox:1.35
    command: [sleep, '3600']
    securityContext: {readOnlyRootFilesystem: true, capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}
  - name: priv
    image: busybox:1.35
    command: [sleep, '3600']
    securityContext: {privileged: true, runAsUser: 0}
`);
    await poll(async () => (await podJSON('secure')).status?.phase === 'Running', { what: `secure Running (kubelet output: ${kubeletOut.slice(-2000)})`, timeoutMs: 60_000, intervalMs: 500 });
    const sh = async (container: string, script: string) => (await c.kubectl(['exec', 'secure', '-c', container, '--', 'sh', '-c', script], { allowFail: true })).stdout.trim();
    assert.equal(await sh('c', 'echo $(id -u) $(id -g)'), '1000 3000');
    // /tmp is world-writable in the image: only the read-only root stops the write.
    assert.match(await sh('c', 'touch /tmp/x 2>&1; echo rc=$?'), /Read-only file system[\s\S]*rc=1/);
    const capBits = async (container: string, field: string) => BigInt(`0x${/:\s*([0-9a-f]+)/.exec(await sh(container, `grep ${field} /proc/self/status`))![1]}`);
    // Dropped all, added NET_BIND_SERVICE (bit 10): that is the whole bounding set.
    assert.equal(await capBits('c', 'CapBnd'), 1n << 10n);
    // Privileged: CAP_SYS_ADMIN (bit 21), which no default container has, and the host's devices.
    assert.ok((await capBits('priv', 'CapEff')) & (1n << 21n), 'CAP_SYS_ADMIN in the privileged container');
    assert.equal(await sh('priv', 'id -u'), '0');
    assert.ok(Number(await sh('priv', 'ls /dev | wc -l')) > Number(await sh('c', 'ls /dev | wc -l')), 'the privileged container sees more devices');
    await kubectl(['delete', 'pod', 'secure', '--wait=false']);
  });

  test('killed kubelet: the node goes NotReady; back: Ready, the running container adopted', async () => {
    await stopKubelet('SIGKILL');
    await poll(readyStatus, { what: 'NotReady after the kubelet was killed', timeoutMs: 60_000, intervalMs: 1000, done: (s) => s !== 'True' });
    // The container kept running while no kubelet was there.
    assert.ok((await httpGet(`http://${podIP}:8080/`, 3000)).status > 0);
    startKubelet(['--cleanup']);
    await poll(readyStatus, { what: `Ready again (kubelet output: ${kubeletOut})`, timeoutMs: 60_000, intervalMs: 500, done: (s) => s === 'True' });
    const pod = await json(['get', 'pod', podName]);
    assert.equal(pod.status.containerStatuses[0].containerID, containerID, 'same container');
    assert.equal(pod.status.containerStatuses[0].restartCount, 0);
    assert.ok((await httpGet(`http://${podIP}:8080/`, 3000)).status > 0);
  });
});
