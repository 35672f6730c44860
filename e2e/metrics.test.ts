// Resource metrics, `kubectl top`, the HorizontalPodAutoscaler and /metrics on a real `mizzen up`
// with simulated nodes, driven by the real kubectl. Resolution and HPA sync period are shortened
// by flags, the scale-down window by the HPA's own behavior.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { hasKubectl, startCluster, type Cluster } from './harness.ts';
import { eventually } from './poll.ts';

const MANIFEST = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: busy}
spec:
  replicas: 1
  selector: {matchLabels: {app: busy}}
  template:
    metadata:
      labels: {app: busy}
      annotations: {mizzen.dev/simulate-cpu: 90m, mizzen.dev/simulate-memory: 48Mi}
    spec:
      containers:
      - {name: main, image: busybox, resources: {requests: {cpu: 100m, memory: 64Mi}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: busy}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: busy}
  minReplicas: 1
  maxReplicas: 4
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]
  behavior:
    scaleDown: {stabilizationWindowSeconds: 3}
`;

describe('metrics with kubectl', { skip: !hasKubectl && 'kubectl not installed' }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({ readyTimeoutMs: 90_000, extraArgs: ['--simulated-nodes', '2', '--metric-resolution', '1s', '--horizontal-pod-autoscaler-sync-period', '1s'] });
  });
  after(() => c?.stop());

  test('kubectl top nodes and pods on simulated nodes; an HPA at 50 % CPU scales up to max and back down', async () => {
    await c.kubectl(['apply', '-f', '-'], { input: MANIFEST });
    const nodes = await eventually(async () => {
      const r = await c.kubectl(['top', 'nodes'], { allowFail: true });
      return r.code === 0 && /sim-0/.test(r.stdout) && /sim-1/.test(r.stdout) ? r.stdout : undefined;
    }, { timeoutMs: 30_000, what: 'kubectl top nodes' });
    assert.match(nodes, /NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\)/);

    // Scales 1 → 4 (90 % of requests against 50 %), at max: ScalingLimited TooManyReplicas.
    await eventually(async () => JSON.parse((await c.kubectl(['get', 'deploy', 'busy', '-o', 'json'])).stdout).spec.replicas === 4, { timeoutMs: 60_000, what: 'scale up to 4' });
    const hpa = await eventually(async () => {
      const h = JSON.parse((await c.kubectl(['get', 'hpa', 'busy', '-o', 'json'])).stdout);
      return h.status?.currentReplicas === 4 && h.status.conditions?.some((x: any) => x.type === 'ScalingLimited' && x.status === 'True') ? h : undefined;
    }, { timeoutMs: 30_000, what: 'HPA status at max' });
    assert.equal(hpa.status.currentMetrics[0].resource.current.averageUtilization, 90);
    assert.deepEqual(hpa.status.conditions.map((x: any) => x.type).sort(), ['AbleToScale', 'ScalingActive', 'ScalingLimited']);
    assert.equal(hpa.status.conditions.find((x: any) => x.type === 'ScalingLimited').reason, 'TooManyReplicas');
    const events = (await c.kubectl(['get', 'events', '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler', '-o', 'json'])).stdout;
    assert.match(events, /SuccessfulRescale/);
    assert.match(events, /New size: \d; reason: cpu resource utilization \(percentage of request\) above target/);

    const pods = await eventually(async () => {
      const r = await c.kubectl(['top', 'pods', '-A'], { allowFail: true });
      return r.code === 0 && (r.stdout.match(/busy-/g) ?? []).length === 4 ? r.stdout : undefined;
    }, { timeoutMs: 30_000, what: 'kubectl top pods -A with four pods' });
    assert.match(pods, /default\s+busy-\S+\s+90m\s+48Mi/);
    const containers = (await c.kubectl(['top', 'pods', '--containers', '--sort-by=cpu', '-l', 'app=busy'])).stdout;
    assert.match(containers, /POD\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    assert.match(containers, /busy-\S+\s+main\s+90m\s+48Mi/);
    const one = containers.split('\n')[1]!.split(/\s+/)[0]!;
    assert.match((await c.kubectl(['top', 'pod', one])).stdout, new RegExp(`${one}\\s+90m`));
    assert.match((await c.kubectl(['top', 'pod', 'no-such-pod'], { allowFail: true })).stderr, /NotFound|not found/);

    // Usage drops: a new template (new pods at 10 %), scaled back to min after the 3 s window.
    await c.kubectl(['patch', 'deploy', 'busy', '--type', 'merge', '-p', '{"spec":{"template":{"metadata":{"annotations":{"mizzen.dev/simulate-cpu":"10m"}}}}}']);
    await eventually(async () => JSON.parse((await c.kubectl(['get', 'deploy', 'busy', '-o', 'json'])).stdout).spec.replicas === 1, { timeoutMs: 90_000, what: 'scale down to 1' });
    assert.match((await c.kubectl(['get', 'events', '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler'])).stdout, /All metrics below target/);
  });

  test('system:aggregated-metrics-reader: a ServiceAccount bound to view may kubectl top, one without may not', async () => {
    const role = JSON.parse((await c.kubectl(['get', 'clusterrole', 'system:aggregated-metrics-reader', '-o', 'json'])).stdout);
    for (const r of ['view', 'edit', 'admin']) assert.equal(role.metadata.labels[`rbac.authorization.k8s.io/aggregate-to-${r}`], 'true');
    assert.deepEqual(role.rules, [{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }]);
    // Aggregated into view, edit and admin by the clusterrole-aggregation controller.
    await eventually(async () => {
      const view = JSON.parse((await c.kubectl(['get', 'clusterrole', 'view', '-o', 'json'])).stdout);
      return view.rules.some((r: any) => r.apiGroups?.includes('metrics.k8s.io') && r.resources?.includes('pods'));
    }, { what: 'view aggregates the metrics rules' });

    /** A kubeconfig for the cluster acting as a ServiceAccount with a token from the TokenRequest API. */
    const saKubeconfig = async (name: string) => {
      await c.kubectl(['create', 'serviceaccount', name]);
      const token = (await c.kubectl(['create', 'token', name])).stdout.trim();
      const doc = parse(await readFile(c.kubeconfig, 'utf8'));
      doc.users = [{ name, user: { token } }];
      doc.contexts = [{ name, context: { cluster: doc.clusters[0].name, user: name, namespace: 'default' } }];
      doc['current-context'] = name;
      const file = join(c.dataDir, `${name}.kubeconfig`);
      await writeFile(file, JSON.stringify(doc), { mode: 0o600 });
      return (args: string[]) => c.kubectl(args, { env: { KUBECONFIG: file }, allowFail: true });
    };
    const nobody = await saKubeconfig('nobody');
    const denied = await nobody(['top', 'pods']);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /forbidden: User "system:serviceaccount:default:nobody" cannot list resource "pods" in API group "metrics.k8s.io" in the namespace "default"/);

    // view in one namespace (a RoleBinding): top pods there, not top nodes (cluster-scoped).
    const nsViewer = await saKubeconfig('ns-viewer');
    await c.kubectl(['create', 'rolebinding', 'ns-viewer-view', '--clusterrole=view', '--serviceaccount=default:ns-viewer']);
    const pods = await eventually(async () => {
      const r = await nsViewer(['top', 'pods']);
      return r.code === 0 ? r.stdout : undefined;
    }, { what: 'top pods as a namespace viewer' });
    assert.match(pods, /busy-\S+\s+\d+m\s+\d+Mi/);
    const nodesDenied = await nsViewer(['top', 'nodes']);
    assert.notEqual(nodesDenied.code, 0);
    assert.match(nodesDenied.stderr, /cannot list resource "nodes" in API group "metrics.k8s.io" at the cluster scope/);

    // view cluster-wide (a ClusterRoleBinding): NodeMetrics and top pods -A. `kubectl top nodes`
    // also reads the Node objects (for the percentages), which view does not grant, as upstream.
    const viewer = await saKubeconfig('viewer');
    await c.kubectl(['create', 'clusterrolebinding', 'viewer-view', '--clusterrole=view', '--serviceaccount=default:viewer']);
    const all = await eventually(async () => {
      const r = await viewer(['top', 'pods', '-A']);
      return r.code === 0 ? r.stdout : undefined;
    }, { what: 'top pods -A as a cluster viewer' });
    assert.match(all, /default\s+busy-/);
    const raw = await viewer(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes']);
    assert.deepEqual(JSON.parse(raw.stdout).items.map((n: any) => n.metadata.name).sort(), ['sim-0', 'sim-1']);
    assert.match((await viewer(['top', 'nodes'])).stderr, /cannot list resource "nodes" in API group "" at the cluster scope/);
    await c.kubectl(['create', 'clusterrole', 'node-reader', '--verb=get,list', '--resource=nodes']);
    await c.kubectl(['create', 'clusterrolebinding', 'viewer-nodes', '--clusterrole=node-reader', '--serviceaccount=default:viewer']);
    const nodes = await eventually(async () => {
      const r = await viewer(['top', 'nodes']);
      return r.code === 0 ? r.stdout : undefined;
    }, { what: 'top nodes as a cluster viewer who may read nodes' });
    assert.match(nodes, /sim-0\s+\d+m/);
  });

  test('an HPA scales any target with a scale subresource (a StatefulSet, a custom resource); FailedGetResourceMetric without requests', async () => {
    const crd = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.selector}
`;
    await c.kubectl(['apply', '-f', '-'], { input: crd });
    await eventually(async () => (await c.kubectl(['get', 'widgets'], { allowFail: true })).code === 0, { what: 'the Widget resource is served' });
    // The widget's pod: no controller makes it, the scale subresource's selector finds it.
    const objects = `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec: {replicas: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: widget-pod, labels: {app: widget}, annotations: {mizzen.dev/simulate-cpu: 90m}}
spec:
  nodeName: sim-0
  containers: [{name: main, image: busybox, resources: {requests: {cpu: 100m}}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}, annotations: {mizzen.dev/simulate-cpu: 90m}}
    spec:
      containers: [{name: main, image: busybox, resources: {requests: {cpu: 100m}}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: widget}
spec:
  scaleTargetRef: {apiVersion: example.com/v1, kind: Widget, name: w}
  minReplicas: 1
  maxReplicas: 3
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: db}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: db}
  minReplicas: 1
  maxReplicas: 3
  targetCPUUtilizationPercentage: 50
`;
    await c.kubectl(['apply', '-f', '-'], { input: objects });
    await c.kubectl(['patch', 'widget', 'w', '--subresource=status', '--type=merge', '-p', '{"status":{"replicas":1,"selector":"app=widget"}}']);
    // One pod at 90 % of its request against 50 %: ceil(1.8) = 2, and there it stays (still one pod).
    await eventually(async () => JSON.parse((await c.kubectl(['get', 'widget', 'w', '-o', 'json'])).stdout).spec.replicas === 2, { timeoutMs: 60_000, what: 'the Widget scaled to 2' });
    const hpa = JSON.parse((await c.kubectl(['get', 'hpa', 'widget', '-o', 'json'])).stdout);
    assert.equal(hpa.status.desiredReplicas, 2);
    // The StatefulSet (through an autoscaling/v1 HPA): 1 → 2 → 3 (max).
    await eventually(async () => JSON.parse((await c.kubectl(['get', 'statefulset', 'db', '-o', 'json'])).stdout).spec.replicas === 3, { timeoutMs: 90_000, what: 'the StatefulSet scaled to 3' });
    await eventually(async () => {
      const v1 = JSON.parse((await c.kubectl(['get', '--raw', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/db'])).stdout);
      return v1.apiVersion === 'autoscaling/v1' && v1.status.currentReplicas === 3 && v1.status.currentCPUUtilizationPercentage === 90;
    }, { timeoutMs: 30_000, what: 'the v1 status with the current utilization' });
    await c.kubectl(['delete', 'hpa', 'widget', 'db']);

    // A target whose pods request no CPU: no utilization, FailedGetResourceMetric as upstream.
    await c.kubectl(['create', 'deployment', 'noreq', '--image=busybox']);
    await c.kubectl(['autoscale', 'deployment', 'noreq', '--cpu-percent=50', '--min=1', '--max=2']);
    const failed = await eventually(async () => {
      const h = JSON.parse((await c.kubectl(['get', 'hpa', 'noreq', '-o', 'json'])).stdout);
      const active = h.status?.conditions?.find((x: any) => x.type === 'ScalingActive');
      // Before the pods' first scrape the reason is that no metrics came back; wait for the missing request.
      return active?.status === 'False' && /missing request/.test(active.message) ? active : undefined;
    }, { timeoutMs: 60_000, what: 'ScalingActive False for the missing request' });
    assert.equal(failed.reason, 'FailedGetResourceMetric');
    assert.match(failed.message, /missing request for cpu in container busybox of Pod noreq-/);
    const ev = (await c.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=noreq,reason=FailedGetResourceMetric'])).stdout;
    assert.match(ev, /failed to get cpu utilization: missing request for cpu in container busybox of Pod noreq-/);
    await c.kubectl(['delete', 'hpa', 'noreq']);
    await c.kubectl(['delete', 'deployment', 'noreq']);
    await c.kubectl(['delete', 'statefulset', 'db', '--wait=false']);
    await c.kubectl(['delete', 'pod', 'widget-pod', '--wait=false']);
  });

  test('/metrics has the API server, storage, scheduler, work queue and process series', async () => {
    const text = (await c.kubectl(['get', '--raw', '/metrics'])).stdout;
    for (const series of [
      /^apiserver_request_total\{verb="POST",dry_run="",group="apps",version="v1",resource="deployments",subresource="",scope="namespace",component="apiserver",code="201"\} \d+$/m,
      /^apiserver_request_duration_seconds_bucket\{le="0.005",verb="LIST"/m,
      /^apiserver_longrunning_requests\{verb="WATCH"/m,
      /^apiserver_storage_objects\{resource="pods"\} \d+$/m,
      /^apiserver_storage_objects\{resource="deployments.apps"\} [1-9]\d*$/m,
      /^etcd_request_duration_seconds_count\{operation="create",type="pods"\} \d+$/m,
      /^scheduler_scheduling_attempt_duration_seconds_count\{result="scheduled",profile="default-scheduler"\} \d+$/m,
      /^scheduler_pod_scheduling_attempts_count \d+$/m,
      /^scheduler_pending_pods\{queue="active"\} 0$/m,
      /^workqueue_adds_total\{name="deployment"\} \d+$/m,
      /^workqueue_depth\{name="horizontal-pod-autoscaler"\} \d+$/m,
      /^workqueue_queue_duration_seconds_bucket\{le="1e-8",name="replicaset"\} \d+$/m,
      /^process_cpu_seconds_total \d/m,
      /^process_resident_memory_bytes \d+$/m,
      /^nodejs_eventloop_lag_seconds \d/m,
    ])
      assert.match(text, series);
    // Each series once: the threads' registries are merged, not concatenated.
    assert.equal(text.match(/^# TYPE workqueue_depth gauge$/gm)?.length, 1);
  });

  test('metrics.k8s.io answers bad input with a Status, and is listed by its APIService', async () => {
    const bad = await c.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/pods?labelSelector=a%20in%20('], { allowFail: true });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /BadRequest|unable to parse/);
    const svc = JSON.parse((await c.kubectl(['get', 'apiservice', 'v1beta1.metrics.k8s.io', '-o', 'json'])).stdout);
    assert.equal(svc.spec.groupPriorityMinimum, 100);
    assert.equal(svc.status.conditions.find((x: any) => x.type === 'Available').status, 'True');
    const nodes = JSON.parse((await c.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=kubernetes.io%2Fhostname%3Dsim-1'])).stdout);
    assert.deepEqual(nodes.items.map((n: any) => n.metadata.name), ['sim-1']);
  });
});
