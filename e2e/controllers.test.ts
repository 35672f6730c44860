// The controller manager seen through the real kubectl on `mizzen up --simulated-nodes 3`:
// Deployments (scale, rollout, undo, pause, restart, cascading deletes), pod replacement, a dead
// node's pods recreated elsewhere, Jobs and CronJobs, a DaemonSet on every node, a StatefulSet with
// its claims, Service endpoints, and `kubectl drain` held back by a PodDisruptionBudget.
//
// One cluster for the whole file; every test works in its own namespace. Tests run one after the
// other because some of them cordon nodes for a while.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { ApiClient, ApiError } from '../src/client/api-client.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { controllerFactories } from '../src/controllers/registry.ts';
import { hasKubectl, MIZZEN_BIN, startCluster, type Cluster, type CommandResult, type KubectlOptions } from './harness.ts';
import { background, eventually } from './poll.ts';

const NODES = ['sim-0', 'sim-1', 'sim-2'];
const ROLLOUT_TIMEOUT = '60s';
const WAIT_MS = 60_000;

/** The namespace controller is written by another engineer; until it is registered, that test is todo. */
const NAMESPACE_TODO = 'namespace' in controllerFactories ? false : 'the namespace controller is not registered in src/controllers/registry.ts yet';

interface Pod {
  metadata: { name: string; uid: string; labels?: Record<string, string>; ownerReferences?: any[]; deletionTimestamp?: string };
  spec: { nodeName?: string; containers: Array<{ image: string }> };
  status?: { phase?: string; podIP?: string; conditions?: Array<{ type: string; status: string }> };
}

const isRunningReady = (p: Pod) =>
  p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

describe('controllers through kubectl', { skip: hasKubectl ? false : 'kubectl is not installed at /usr/bin/kubectl' }, () => {
  let cluster: Cluster;
  let client: ApiClient;
  const k = (args: string[], opts?: KubectlOptions): Promise<CommandResult> => cluster.kubectl(args, opts);
  const kjson = async <T = any>(args: string[]): Promise<T> => JSON.parse((await k([...args, '-o', 'json'])).stdout) as T;
  const ns = async (name: string) => {
    await k(['create', 'namespace', name]);
    return name;
  };
  const pods = async (namespace: string, selector: string): Promise<Pod[]> => (await kjson<{ items: Pod[] }>(['-n', namespace, 'get', 'pods', '-l', selector])).items;
  /** Wait until exactly `count` pods match, all Running and Ready, none terminating. */
  const runningPods = (namespace: string, selector: string, count: number, extra: (ps: Pod[]) => boolean = () => true) =>
    eventually(
      async () => {
        const ps = (await pods(namespace, selector)).filter((p) => !p.metadata.deletionTimestamp);
        return ps.length === count && ps.every(isRunningReady) && extra(ps) ? ps : undefined;
      },
      { timeoutMs: WAIT_MS, intervalMs: 200, what: `${count} running pods ${selector} in ${namespace}` },
    );
  const rolloutStatus = (namespace: string, what: string) => k(['-n', namespace, 'rollout', 'status', what, `--timeout=${ROLLOUT_TIMEOUT}`]);

  let tickCreated = 0;

  before(async () => {
    cluster = await startCluster({ extraArgs: ['--simulated-nodes', String(NODES.length), '--node-monitor-grace-period', '5s'] });
    // No automatic retries: the eviction test wants to see the 429 itself.
    client = new ApiClient({ ...loadKubeconfig(cluster.kubeconfig), maxRetries: 0, userAgent: 'mizzen-e2e-controllers' });
    // An every-minute CronJob created first, so its first tick comes while the other tests run; the
    // last test waits for it.
    await ns('cron-tick');
    await k(['apply', '-f', '-'], {
      input: `apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: cron-tick}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          annotations: {mizzen.dev/simulate-duration: 1s}
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox}]
`,
    });
    tickCreated = Date.now();
  });
  after(async () => {
    client?.close();
    await cluster?.stop();
  });

  test('create deployment, rollout status, scale up and down', async () => {
    const n = await ns('dep-scale');
    await k(['-n', n, 'create', 'deployment', 'web', '--image=nginx', '--replicas=3']);
    const status = await rolloutStatus(n, 'deployment/web');
    assert.match(status.stdout, /deployment "web" successfully rolled out/);
    const first = await runningPods(n, 'app=web', 3);
    const hash = first[0]!.metadata.labels!['pod-template-hash'];
    assert.ok(hash, 'pods carry the pod-template-hash label');
    for (const p of first) assert.equal(p.metadata.ownerReferences?.[0]?.name, `web-${hash}`);

    await k(['-n', n, 'scale', 'deployment', 'web', '--replicas=5']);
    await rolloutStatus(n, 'deployment/web');
    await runningPods(n, 'app=web', 5);
    await k(['-n', n, 'scale', 'deployment', 'web', '--replicas=3']);
    await runningPods(n, 'app=web', 3);
    const dep = await kjson(['-n', n, 'get', 'deployment', 'web']);
    assert.equal(dep.status.replicas, 3);
    assert.equal(dep.status.availableReplicas, 3);
    const available = dep.status.conditions.find((c: any) => c.type === 'Available');
    assert.equal(available?.status, 'True');
    assert.equal(available?.reason, 'MinimumReplicasAvailable');
    const progressing = dep.status.conditions.find((c: any) => c.type === 'Progressing');
    assert.equal(progressing?.reason, 'NewReplicaSetAvailable');

    const events = (await k(['-n', n, 'get', 'events', '-o', 'custom-columns=REASON:.reason,MESSAGE:.message', '--no-headers'])).stdout;
    assert.match(events, new RegExp(`ScalingReplicaSet\\s+Scaled up replica set web-${hash} to 3 from 0`));
    assert.match(events, new RegExp(`ScalingReplicaSet\\s+Scaled up replica set web-${hash} to 5 from 3`));
    assert.match(events, new RegExp(`ScalingReplicaSet\\s+Scaled down replica set web-${hash} to 3 from 5`));
    assert.match(events, new RegExp(`SuccessfulCreate\\s+Created pod: web-${hash}-[a-z0-9]{5}`));
    assert.match(events, new RegExp(`SuccessfulDelete\\s+Deleted pod: web-${hash}-[a-z0-9]{5}`));
  });

  test('set image, rollout history, undo and undo --to-revision', async () => {
    const n = await ns('dep-rollout');
    await k(['-n', n, 'create', 'deployment', 'web', '--image=nginx:1.26', '--replicas=3']);
    await rolloutStatus(n, 'deployment/web');
    const image = async () => (await k(['-n', n, 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).stdout;

    await k(['-n', n, 'set', 'image', 'deployment/web', 'nginx=nginx:1.27']);
    await rolloutStatus(n, 'deployment/web');
    await runningPods(n, 'app=web', 3, (ps) => ps.every((p) => p.spec.containers[0]!.image === 'nginx:1.27'));
    const history = (await k(['-n', n, 'rollout', 'history', 'deployment/web'])).stdout;
    assert.deepEqual(revisions(history), ['1', '2']);
    const rev2 = (await k(['-n', n, 'rollout', 'history', 'deployment/web', '--revision=2'])).stdout;
    assert.match(rev2, /Image:\s+nginx:1\.27/);

    // Undo goes back to revision 1's ReplicaSet (reused, not recreated), which becomes revision 3.
    const rsBefore = (await kjson<{ items: any[] }>(['-n', n, 'get', 'rs', '-l', 'app=web'])).items.map((r) => r.metadata.name).sort();
    assert.equal(rsBefore.length, 2);
    await k(['-n', n, 'rollout', 'undo', 'deployment/web']);
    await rolloutStatus(n, 'deployment/web');
    assert.equal(await image(), 'nginx:1.26');
    await runningPods(n, 'app=web', 3, (ps) => ps.every((p) => p.spec.containers[0]!.image === 'nginx:1.26'));
    const rsAfter = (await kjson<{ items: any[] }>(['-n', n, 'get', 'rs', '-l', 'app=web'])).items.map((r) => r.metadata.name).sort();
    assert.deepEqual(rsAfter, rsBefore, 'rollback reuses the old ReplicaSet');
    assert.deepEqual(revisions((await k(['-n', n, 'rollout', 'history', 'deployment/web'])).stdout), ['2', '3']);

    await k(['-n', n, 'rollout', 'undo', 'deployment/web', '--to-revision=2']);
    await rolloutStatus(n, 'deployment/web');
    assert.equal(await image(), 'nginx:1.27');
    assert.deepEqual(revisions((await k(['-n', n, 'rollout', 'history', 'deployment/web'])).stdout), ['3', '4']);
    const missing = await k(['-n', n, 'rollout', 'undo', 'deployment/web', '--to-revision=9'], { allowFail: true });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /unable to find specified revision 9 in history/);
  });

  test('rollout pause holds a template change until resume; rollout restart replaces every pod', async () => {
    const n = await ns('dep-pause');
    await k(['-n', n, 'create', 'deployment', 'web', '--image=nginx:1.26', '--replicas=2']);
    await rolloutStatus(n, 'deployment/web');
    const before = await runningPods(n, 'app=web', 2);

    await k(['-n', n, 'rollout', 'pause', 'deployment/web']);
    await k(['-n', n, 'set', 'image', 'deployment/web', 'nginx=nginx:1.27']);
    // Once the controller has seen the change, a paused Deployment still has only its first ReplicaSet.
    const paused = await eventually(
      async () => {
        const d = await kjson(['-n', n, 'get', 'deployment', 'web']);
        return d.status.observedGeneration >= d.metadata.generation ? d : undefined;
      },
      { timeoutMs: WAIT_MS, what: 'observedGeneration to catch up' },
    );
    assert.equal(paused.status.conditions.find((c: any) => c.type === 'Progressing')?.reason, 'DeploymentPaused');
    assert.equal((await kjson<{ items: any[] }>(['-n', n, 'get', 'rs', '-l', 'app=web'])).items.length, 1);

    await k(['-n', n, 'rollout', 'resume', 'deployment/web']);
    await rolloutStatus(n, 'deployment/web');
    await runningPods(n, 'app=web', 2, (ps) => ps.every((p) => p.spec.containers[0]!.image === 'nginx:1.27'));

    const beforeRestart = await runningPods(n, 'app=web', 2);
    await k(['-n', n, 'rollout', 'restart', 'deployment/web']);
    const d = await kjson(['-n', n, 'get', 'deployment', 'web']);
    assert.ok(d.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']);
    await rolloutStatus(n, 'deployment/web');
    const after = await runningPods(n, 'app=web', 2, (ps) => ps.every((p) => !beforeRestart.some((b) => b.metadata.uid === p.metadata.uid)));
    assert.ok(after.every((p) => !before.some((b) => b.metadata.uid === p.metadata.uid)));
  });

  test('a deleted pod is replaced', async () => {
    const n = await ns('dep-heal');
    await k(['-n', n, 'create', 'deployment', 'web', '--image=nginx', '--replicas=3']);
    await rolloutStatus(n, 'deployment/web');
    const [victim] = await runningPods(n, 'app=web', 3);
    await k(['-n', n, 'delete', 'pod', victim!.metadata.name]);
    const now = await runningPods(n, 'app=web', 3, (ps) => ps.every((p) => p.metadata.uid !== victim!.metadata.uid));
    assert.ok(!now.some((p) => p.metadata.name === victim!.metadata.name));
  });

  test('kubectl delete deployment removes its ReplicaSets and pods', async () => {
    const n = await ns('dep-cascade');
    await k(['-n', n, 'create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
    await rolloutStatus(n, 'deployment/web');
    await k(['-n', n, 'set', 'image', 'deployment/web', 'nginx=nginx:1.27']);
    await rolloutStatus(n, 'deployment/web');
    assert.equal((await kjson<{ items: any[] }>(['-n', n, 'get', 'rs'])).items.length, 2);
    await k(['-n', n, 'delete', 'deployment', 'web']);
    await eventually(
      async () => {
        const [rs, ps] = await Promise.all([kjson<{ items: any[] }>(['-n', n, 'get', 'rs']), kjson<{ items: any[] }>(['-n', n, 'get', 'pods'])]);
        return rs.items.length === 0 && ps.items.length === 0;
      },
      { timeoutMs: WAIT_MS, intervalMs: 200, what: 'ReplicaSets and pods to be garbage collected' },
    );
  });

  test('kubectl delete deployment --cascade=orphan keeps ReplicaSets and pods', async () => {
    const n = await ns('dep-orphan');
    await k(['-n', n, 'create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
    await rolloutStatus(n, 'deployment/web');
    const before = await runningPods(n, 'app=web', 2);
    await k(['-n', n, 'delete', 'deployment', 'web', '--cascade=orphan']);
    await eventually(async () => (await k(['-n', n, 'get', 'deployment', 'web'], { allowFail: true })).code !== 0, { timeoutMs: WAIT_MS, what: 'the Deployment to go' });
    const rs = (await kjson<{ items: any[] }>(['-n', n, 'get', 'rs'])).items;
    assert.equal(rs.length, 1);
    assert.equal(rs[0].metadata.ownerReferences, undefined, 'the orphaned ReplicaSet lost its ownerReference');
    assert.equal(rs[0].spec.replicas, 2);
    // The pods stay, still owned by their ReplicaSet (only the Deployment's dependents are orphaned).
    const after = await runningPods(n, 'app=web', 2);
    assert.deepEqual(after.map((p) => p.metadata.uid).sort(), before.map((p) => p.metadata.uid).sort());
    for (const p of after) assert.equal(p.metadata.ownerReferences?.[0]?.uid, rs[0].metadata.uid);
  });

  test('a Job runs to completion', async () => {
    const n = await ns('job');
    await k(['apply', '-f', '-'], {
      input: `apiVersion: batch/v1
kind: Job
metadata: {name: compute, namespace: ${n}}
spec:
  completions: 3
  parallelism: 2
  template:
    metadata:
      annotations: {mizzen.dev/simulate-duration: 1s}
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
`,
    });
    await k(['-n', n, 'wait', '--for=condition=complete', 'job/compute', `--timeout=${ROLLOUT_TIMEOUT}`]);
    const job = await kjson(['-n', n, 'get', 'job', 'compute']);
    assert.equal(job.status.succeeded, 3);
    assert.ok(job.status.completionTime);
    assert.ok(job.status.conditions.some((c: any) => c.type === 'SuccessCriteriaMet' && c.status === 'True'));
    const done = (await pods(n, 'job-name=compute')).filter((p) => p.status?.phase === 'Succeeded');
    assert.equal(done.length, 3);
    const table = (await k(['-n', n, 'get', 'job', 'compute', '--no-headers'])).stdout;
    assert.match(table, /^compute\s+Complete\s+3\/3\s/);
  });

  test('kubectl create job completes with no annotations: a Job\'s simulated pods succeed after a short run', async () => {
    const n = await ns('job-plain');
    await k(['-n', n, 'create', 'job', 'pi', '--image=busybox', '--', 'true']);
    await k(['-n', n, 'wait', '--for=condition=complete', 'job/pi', `--timeout=${ROLLOUT_TIMEOUT}`]);
    const job = await kjson(['-n', n, 'get', 'job', 'pi']);
    assert.equal(job.status.succeeded, 1);
    const [pod] = await pods(n, 'job-name=pi');
    assert.equal(pod.status?.phase, 'Succeeded');
  });

  test('a CronJob is accepted and its template makes a Job that completes', async () => {
    const n = await ns('cron');
    await k(['apply', '-f', '-'], {
      input: `apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: ${n}}
spec:
  schedule: "*/5 * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        metadata:
          annotations: {mizzen.dev/simulate-duration: 1s}
        spec:
          restartPolicy: OnFailure
          containers: [{name: c, image: busybox}]
`,
    });
    const row = (await k(['-n', n, 'get', 'cronjobs', '--no-headers'])).stdout;
    assert.match(row, /^tick\s+\*\/5 \* \* \* \*\s+<none>\s+False\s+0\s/);
    await k(['-n', n, 'create', 'job', 'manual', '--from=cronjob/tick']);
    await k(['-n', n, 'wait', '--for=condition=complete', 'job/manual', `--timeout=${ROLLOUT_TIMEOUT}`]);
    const job = await kjson(['-n', n, 'get', 'job', 'manual']);
    assert.equal(job.metadata.annotations['cronjob.kubernetes.io/instantiate'], 'manual');
    assert.equal(job.metadata.ownerReferences?.[0]?.kind, 'CronJob');
    assert.equal(job.status.succeeded, 1);
  });

  test('a DaemonSet runs one pod on every node', async () => {
    const n = await ns('ds');
    await k(['apply', '-f', '-'], {
      input: `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ${n}}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: c, image: busybox}]
`,
    });
    const out = await rolloutStatus(n, 'ds/agent');
    assert.match(out.stdout, /daemon set "agent" successfully rolled out/);
    const ps = await runningPods(n, 'app=agent', NODES.length);
    assert.deepEqual(ps.map((p) => p.spec.nodeName).sort(), NODES);
    const ds = await kjson(['-n', n, 'get', 'ds', 'agent']);
    assert.equal(ds.status.desiredNumberScheduled, NODES.length);
    assert.equal(ds.status.numberReady, NODES.length);
    assert.equal(ds.status.updatedNumberScheduled, NODES.length);
  });

  test('a StatefulSet creates web-0..2 in order with their claims; a Service lists their IPs', async () => {
    const n = await ns('sts');
    const watch = background('/usr/bin/kubectl', ['-n', n, 'get', 'pods', '-w', '-o', 'name'], { ...process.env, KUBECONFIG: cluster.kubeconfig });
    try {
      await k(['apply', '-f', '-'], {
        input: `apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${n}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: ${n}}
spec:
  serviceName: web
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}], volumeMounts: [{name: data, mountPath: /data}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`,
      });
      await rolloutStatus(n, 'statefulset/web');
      const ps = await runningPods(n, 'app=web', 3);
      assert.deepEqual(ps.map((p) => p.metadata.name).sort(), ['web-0', 'web-1', 'web-2']);
      // OrderedReady: each pod appears only after the one before it.
      const seen = await watch.waitFor((o) => o.includes('pod/web-2'), WAIT_MS);
      const order = [...new Set(seen.split('\n').filter(Boolean))];
      assert.deepEqual(order, ['pod/web-0', 'pod/web-1', 'pod/web-2']);
      for (const p of ps) {
        assert.equal(p.metadata.labels!['statefulset.kubernetes.io/pod-name'], p.metadata.name);
        assert.equal(p.metadata.labels!['apps.kubernetes.io/pod-index'], p.metadata.name.slice(4));
      }
      const pvcs = (await kjson<{ items: any[] }>(['-n', n, 'get', 'pvc'])).items.map((c) => c.metadata.name).sort();
      assert.deepEqual(pvcs, ['data-web-0', 'data-web-1', 'data-web-2']);
      // The container mounts the claim template by name; each pod has its own claim under that name.
      const web1 = await kjson(['-n', n, 'get', 'pod', 'web-1']);
      assert.deepEqual(web1.spec.volumes.find((v: any) => v.name === 'data'), { name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } });
      const sts = await kjson(['-n', n, 'get', 'sts', 'web']);
      assert.equal(sts.status.readyReplicas, 3);
      assert.ok(sts.status.currentRevision?.startsWith('web-'));

      // Endpoints and EndpointSlices list the ready pod IPs with the named port resolved.
      const ips = ps.map((p) => p.status!.podIP!).sort();
      const ep = await eventually(
        async () => {
          const e = await kjson(['-n', n, 'get', 'endpoints', 'web']);
          const got = (e.subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.ip)).sort();
          return JSON.stringify(got) === JSON.stringify(ips) ? e : undefined;
        },
        { timeoutMs: WAIT_MS, what: 'Endpoints to list the pod IPs' },
      );
      assert.deepEqual(ep.subsets[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
      assert.ok(ep.subsets[0].addresses.every((a: any) => a.targetRef?.kind === 'Pod' && a.nodeName));
      const row = (await k(['-n', n, 'get', 'endpoints', 'web', '--no-headers'])).stdout;
      for (const ip of ips) assert.ok(row.includes(`${ip}:8080`), row);
      const slices = (await kjson<{ items: any[] }>(['-n', n, 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=web'])).items;
      assert.equal(slices.length, 1);
      assert.deepEqual(slices[0].endpoints.flatMap((e: any) => e.addresses).sort(), ips);
      assert.ok(slices[0].endpoints.every((e: any) => e.conditions.ready === true));
      assert.deepEqual(slices[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    } finally {
      await watch.stop();
    }
  });

  for (const kind of ['daemonset', 'statefulset'] as const) {
    test(`${kind}: rollout history, history --revision, undo (reusing the old revision) and the skipped undo`, async () => {
      const n = await ns(`${kind}-undo`);
      const extra = kind === 'statefulset' ? 'serviceName: roll\n  replicas: 2\n  podManagementPolicy: Parallel\n  ' : '';
      await k(['apply', '-f', '-'], {
        input: `apiVersion: apps/v1
kind: ${kind === 'daemonset' ? 'DaemonSet' : 'StatefulSet'}
metadata: {name: roll, namespace: ${n}, annotations: {kubernetes.io/change-cause: first}}
spec:
  ${extra}selector: {matchLabels: {app: roll}}
  template:
    metadata: {labels: {app: roll}}
    spec:
      containers: [{name: c, image: 'busybox:1.36', command: [sh, -c, 'sleep 1 && sleep 1000']}]
`,
      });
      const want = kind === 'daemonset' ? NODES.length : 2;
      await rolloutStatus(n, `${kind}/roll`);
      await k(['-n', n, 'set', 'image', `${kind}/roll`, 'c=busybox:1.37']);
      await k(['-n', n, 'annotate', kind, 'roll', 'kubernetes.io/change-cause=second', '--overwrite']);
      await rolloutStatus(n, `${kind}/roll`);
      await runningPods(n, 'app=roll', want, (ps) => ps.every((p) => p.spec.containers[0]!.image === 'busybox:1.37'));
      const history = (await k(['-n', n, 'rollout', 'history', `${kind}/roll`])).stdout;
      assert.deepEqual(revisions(history), ['1', '2']);
      assert.match(history, /^1\s+first$/m);
      const rev1 = (await k(['-n', n, 'rollout', 'history', `${kind}/roll`, '--revision=1'])).stdout;
      assert.match(rev1, /Image:\s+busybox:1\.36/);
      assert.match(rev1, /sleep 1 && sleep 1000/);

      // kubectl applies revision 1's data as a strategic merge patch; the controller reuses it.
      const before = (await kjson<{ items: any[] }>(['-n', n, 'get', 'controllerrevisions'])).items.map((r) => r.metadata.name).sort();
      const undo = await k(['-n', n, 'rollout', 'undo', `${kind}/roll`]);
      assert.match(undo.stdout, /rolled back/);
      await rolloutStatus(n, `${kind}/roll`);
      await runningPods(n, 'app=roll', want, (ps) => ps.every((p) => p.spec.containers[0]!.image === 'busybox:1.36'));
      const revs = (await kjson<{ items: any[] }>(['-n', n, 'get', 'controllerrevisions'])).items;
      assert.deepEqual(revs.map((r) => r.metadata.name).sort(), before);
      assert.deepEqual(revs.map((r) => r.revision).sort(), [2, 3]);
      // kubectl compares the current template's patch bytes with revision 3's: nothing to do.
      const again = await k(['-n', n, 'rollout', 'undo', `${kind}/roll`, '--to-revision=3']);
      assert.match(again.stdout, /skipped rollback \(current template already matches revision 3\)/);
    });
  }

  test('kubectl scale rc: the ReplicationController controller follows', async () => {
    const n = await ns('rc');
    await k(['apply', '-f', '-'], {
      input: `apiVersion: v1
kind: ReplicationController
metadata: {name: legacy, namespace: ${n}}
spec:
  replicas: 2
  selector: {app: legacy}
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers: [{name: c, image: nginx}]
`,
    });
    await runningPods(n, 'app=legacy', 2);
    await k(['-n', n, 'scale', 'rc', 'legacy', '--replicas=3']);
    await runningPods(n, 'app=legacy', 3);
    const row = (await k(['-n', n, 'get', 'rc', 'legacy', '--no-headers'])).stdout;
    assert.match(row, /^legacy\s+3\s+3\s+3\s/);
  });

  test('kubectl drain respects a PodDisruptionBudget', async () => {
    const n = await ns('drain');
    const target = 'sim-2';
    const others = NODES.filter((x) => x !== target);
    try {
      // Put both replicas on the node to drain, then let the others take the replacements.
      await k(['cordon', ...others]);
      await k(['-n', n, 'create', 'deployment', 'guarded', '--image=nginx', '--replicas=2']);
      await rolloutStatus(n, 'deployment/guarded');
      const [a, b] = await runningPods(n, 'app=guarded', 2, (ps) => ps.every((p) => p.spec.nodeName === target));
      await k(['-n', n, 'create', 'poddisruptionbudget', 'guarded', '--selector=app=guarded', '--min-available=1']);
      await eventually(async () => (await kjson(['-n', n, 'get', 'pdb', 'guarded'])).status?.disruptionsAllowed === 1, {
        timeoutMs: WAIT_MS,
        what: 'the budget to allow one disruption',
      });
      await k(['cordon', target]);
      await k(['uncordon', ...others]);

      // The first eviction spends the budget; a second one at once is refused with 429.
      const evict = (name: string) =>
        client.request('POST', `/api/v1/namespaces/${n}/pods/${name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: n } });
      await evict(a!.metadata.name);
      const refused = await evict(b!.metadata.name).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(refused instanceof ApiError, 'the second eviction is refused');
      assert.equal(refused.code, 429);
      assert.equal(refused.message, "Cannot evict pod as it would violate the pod's disruption budget.");

      // Drain retries until the replacement is ready elsewhere and the budget allows the last one.
      const drain = await k(['drain', target, '--pod-selector=app=guarded', '--timeout=90s']);
      assert.match(drain.stdout, new RegExp(`evicting pod ${n}/${b!.metadata.name}`));
      assert.match(drain.stdout, new RegExp(`node/${target} drained`));
      const moved = await runningPods(n, 'app=guarded', 2);
      assert.ok(moved.every((p) => p.spec.nodeName !== target));
      const node = await kjson(['get', 'node', target]);
      assert.equal(node.spec.unschedulable, true);
    } finally {
      await k(['uncordon', ...NODES], { allowFail: true });
    }
  });

  test('pods of a node that stops heartbeating are recreated elsewhere', async () => {
    const n = await ns('node-loss');
    const sim = spawn(process.execPath, [MIZZEN_BIN, 'simulate', '--kubeconfig', cluster.kubeconfig, '--nodes', '1', '--prefix', 'doomed', '--heartbeat-seconds', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let simOut = '';
    sim.stdout!.setEncoding('utf8').on('data', (c: string) => (simOut += c));
    sim.stderr!.setEncoding('utf8').on('data', (c: string) => (simOut += c));
    const simExited = new Promise<void>((resolve) => sim.on('exit', () => resolve()));
    try {
      await eventually(async () => (await kjson(['get', 'node', 'doomed-0'])).status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'), {
        timeoutMs: 30_000,
        what: 'node doomed-0 to register and be Ready',
      }).catch((e: Error) => {
        throw new Error(`${e.message}; simulator output:\n${simOut}`);
      });
      await k(['cordon', ...NODES]);
      await k(['apply', '-f', '-'], {
        input: `apiVersion: apps/v1
kind: Deployment
metadata: {name: fragile, namespace: ${n}}
spec:
  replicas: 2
  selector: {matchLabels: {app: fragile}}
  template:
    metadata: {labels: {app: fragile}}
    spec:
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      containers: [{name: c, image: nginx}]
`,
      });
      await rolloutStatus(n, 'deployment/fragile');
      const doomed = await runningPods(n, 'app=fragile', 2, (ps) => ps.every((p) => p.spec.nodeName === 'doomed-0'));
      await k(['uncordon', ...NODES]);

      sim.kill('SIGKILL');
      await simExited;
      // Grace period (5 s) + tolerationSeconds (2 s), then replacements run on the simulated nodes.
      const replaced = await runningPods(n, 'app=fragile', 2, (ps) => ps.every((p) => NODES.includes(p.spec.nodeName ?? '')));
      assert.ok(replaced.every((p) => !doomed.some((d) => d.metadata.uid === p.metadata.uid)));
      const row = (await k(['get', 'node', 'doomed-0', '--no-headers'])).stdout;
      assert.match(row, /^doomed-0\s+NotReady\s/);
      const node = await kjson(['get', 'node', 'doomed-0']);
      assert.equal(node.status.conditions.find((c: any) => c.type === 'Ready')?.status, 'Unknown');
      assert.ok(node.spec.taints.some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute'));
      // The old pods were evicted by the taint manager (deleted; they stay Terminating without a kubelet).
      for (const d of doomed) {
        const p = await k(['-n', n, 'get', 'pod', d.metadata.name, '-o', 'json'], { allowFail: true });
        if (p.code === 0) assert.ok(JSON.parse(p.stdout).metadata.deletionTimestamp, `${d.metadata.name} is being deleted`);
      }
    } finally {
      if (sim.exitCode === null && sim.signalCode === null) sim.kill('SIGKILL');
      await simExited;
      await k(['uncordon', ...NODES], { allowFail: true });
      // A dead node would hold DaemonSet rollouts and budgets of later tests: take it out.
      await k(['delete', 'node', 'doomed-0', '--ignore-not-found', '--wait=false'], { allowFail: true });
    }
  });

  test('an every-minute CronJob starts a Job on the minute and records it', async () => {
    const n = 'cron-tick';
    // At most a minute until the tick, plus slack for the Job to run on a busy machine.
    const job = await eventually(
      async () => {
        const jobs = (await kjson<{ items: any[] }>(['-n', n, 'get', 'jobs'])).items;
        // The newest: by the time this test runs, earlier ticks may have made Jobs of their own,
        // and the CronJob's lastScheduleTime is the latest tick's.
        return jobs
          .filter((j) => j.metadata.ownerReferences?.[0]?.name === 'tick' && j.status?.succeeded === 1 && j.status.completionTime)
          .sort((a, b) => b.metadata.name.localeCompare(a.metadata.name, 'en', { numeric: true }))[0];
      },
      { timeoutMs: Math.max(5_000, tickCreated + 130_000 - Date.now()), intervalMs: 500, what: 'a Job from the CronJob tick to complete' },
    );
    // Scheduled jobs are named after the scheduled time in minutes.
    const minutes = Number(/^tick-(\d+)$/.exec(job.metadata.name)?.[1]);
    assert.ok(minutes > 0, job.metadata.name);
    assert.equal(new Date(minutes * 60_000).getUTCSeconds(), 0);
    // lastScheduleTime is the newest tick's, and a later tick may make its Job at any moment (on a
    // loaded machine this test can run just after one): compare it with the newest Job the CronJob
    // owns, read together; a tick between the two reads makes them disagree, so look again.
    const { cj, newest } = await eventually(
      async () => {
        const c = await kjson(['-n', n, 'get', 'cronjob', 'tick']);
        const owned = (await kjson<{ items: any[] }>(['-n', n, 'get', 'jobs'])).items.filter((j) => j.metadata.ownerReferences?.[0]?.name === 'tick');
        const newestMinutes = Math.max(...owned.map((j) => Number(/^tick-(\d+)$/.exec(j.metadata.name)?.[1] ?? 0)));
        if (!c.status?.lastSuccessfulTime || Date.parse(c.status.lastScheduleTime) !== newestMinutes * 60_000) return undefined;
        return { cj: c, newest: newestMinutes };
      },
      { timeoutMs: WAIT_MS, what: 'lastScheduleTime at the newest Job\'s tick, and lastSuccessfulTime' },
    );
    assert.ok(newest >= minutes, `newest tick ${newest} before the completed Job's ${minutes}`);
    // The completed Job counts: lastSuccessfulTime is at or after its completion.
    assert.ok(Date.parse(cj.status.lastSuccessfulTime) >= Date.parse(job.status.completionTime), `lastSuccessfulTime ${cj.status.lastSuccessfulTime} before ${job.metadata.name} completed (${job.status.completionTime})`);
    // Events are written a moment after the status (the recorder sends them on its own): wait for them.
    const created = new RegExp(`SuccessfulCreate\\s+Created job ${job.metadata.name}`);
    const saw = new RegExp(`SawCompletedJob\\s+Saw completed job: ${job.metadata.name}, condition: Complete`);
    const cronEvents = async () => (await k(['-n', n, 'get', 'events', '--field-selector=involvedObject.kind=CronJob', '-o', 'custom-columns=REASON:.reason,MESSAGE:.message', '--no-headers'])).stdout;
    const events = await eventually(async () => {
      const out = await cronEvents();
      return created.test(out) && saw.test(out) ? out : undefined;
    }, { timeoutMs: WAIT_MS, what: `SuccessfulCreate and SawCompletedJob events for ${job.metadata.name}` }).catch(async () => cronEvents());
    assert.match(events, created);
    assert.match(events, saw);
  });

  test('kubectl delete namespace removes everything in it and then the namespace', { todo: NAMESPACE_TODO }, async () => {
    if (NAMESPACE_TODO) return;
    const n = await ns('doomed-ns');
    await k(['-n', n, 'create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
    await k(['-n', n, 'create', 'configmap', 'settings', '--from-literal=a=b']);
    await k(['-n', n, 'create', 'service', 'clusterip', 'web', '--tcp=80:80']);
    await rolloutStatus(n, 'deployment/web');
    await k(['delete', 'namespace', n, '--timeout=90s']);
    const gone = await k(['get', 'namespace', n], { allowFail: true });
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, new RegExp(`namespaces "${n}" not found`));
    const left = await k(['get', 'pods,rs,deploy,cm,svc', '-n', n, '-o', 'name'], { allowFail: true });
    assert.equal(left.stdout.trim(), '');
  });
});

/** Revision numbers from `kubectl rollout history`. */
function revisions(out: string): string[] {
  return out
    .split('\n')
    .map((l) => /^(\d+)\s/.exec(l.trim())?.[1])
    .filter((x): x is string => !!x);
}
