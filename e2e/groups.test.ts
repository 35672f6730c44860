// The groups charts use and storage without a cloud, with the real kubectl against `mizzen up`
// on simulated nodes: every kind created and listed with upstream's printer columns, an HPA across
// autoscaling/v1 and v2, `kubectl apply --prune` over Ingresses and HPAs, the documentation's "web"
// StatefulSet getting local-path volumes, a claim that keeps its pod Pending, and an aggregated
// API server on 127.0.0.1 reached through an APIService.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasKubectl, startCluster, type Cluster, type CommandResult, type KubectlOptions } from './harness.ts';
import { eventually } from './poll.ts';
import { ensurePki } from '../src/apiserver/pki.ts';
import { startAggregatedServer, type AggregatedServer } from './support/aggregated-server.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/groups/', import.meta.url));

/** A kubectl table's header cells and rows. */
function table(out: string): { header: string[]; rows: string[][] } {
  const lines = out.trim().split('\n');
  const split = (l: string) => l.trim().split(/\s{2,}/);
  return { header: split(lines[0]), rows: lines.slice(1).map(split) };
}

describe('built-in groups and storage with kubectl', { skip: hasKubectl ? false : 'kubectl is not installed at /usr/bin/kubectl' }, () => {
  let cluster: Cluster;
  let scratch: string;
  let backend: AggregatedServer | undefined;
  const k = (args: string[], opts?: KubectlOptions): Promise<CommandResult> => cluster.kubectl(args, opts);
  const json = async (args: string[]) => JSON.parse((await k([...args, '-o', 'json'])).stdout);

  before(async () => {
    cluster = await startCluster({ extraArgs: ['--simulated-nodes', '2'] });
    scratch = await mkdtemp(join(tmpdir(), 'mizzen-e2e-groups-'));
  });
  after(async () => {
    await backend?.close();
    await cluster?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('each kind is created from upstream documentation manifests and listed with its printer columns', async () => {
    await k(['create', 'namespace', 'kinds']);
    for (const f of ['ingress.yaml', 'network-policy.yaml', 'hpa.yaml']) await k(['-n', 'kinds', 'apply', '-f', join(FIXTURES, f)]);
    await k(['apply', '-f', join(FIXTURES, 'all-kinds.yaml')]);
    const columns: Array<[string[], string[]]> = [
      [['-n', 'kinds', 'get', 'ingress'], ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE']],
      [['get', 'ingressclass'], ['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE']],
      [['-n', 'kinds', 'get', 'netpol'], ['NAME', 'POD-SELECTOR', 'AGE']],
      [['-n', 'kinds', 'get', 'hpa'], ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']],
      [['get', 'sc'], ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']],
      [['get', 'csidrivers'], ['NAME', 'ATTACHREQUIRED', 'PODINFOONMOUNT', 'STORAGECAPACITY', 'TOKENREQUESTS', 'REQUIRESREPUBLISH', 'MODES', 'AGE']],
      [['get', 'csinodes'], ['NAME', 'DRIVERS', 'AGE']],
      [['get', 'volumeattachments'], ['NAME', 'ATTACHER', 'PV', 'NODE', 'ATTACHED', 'AGE']],
      [['get', 'runtimeclasses'], ['NAME', 'HANDLER', 'AGE']],
      [['get', 'validatingwebhookconfigurations'], ['NAME', 'WEBHOOKS', 'AGE']],
      [['get', 'mutatingwebhookconfigurations'], ['NAME', 'WEBHOOKS', 'AGE']],
      [['get', 'validatingadmissionpolicies'], ['NAME', 'VALIDATIONS', 'PARAMKIND', 'AGE']],
      [['get', 'validatingadmissionpolicybindings'], ['NAME', 'POLICYNAME', 'PARAMREF', 'AGE']],
      [['get', 'apiservices'], ['NAME', 'SERVICE', 'AVAILABLE', 'AGE']],
      [['get', 'flowschemas'], ['NAME', 'PRIORITYLEVEL', 'MATCHINGPRECEDENCE', 'DISTINGUISHERMETHOD', 'AGE', 'MISSINGPL']],
      [['get', 'prioritylevelconfigurations'], ['NAME', 'TYPE', 'NOMINALCONCURRENCYSHARES', 'QUEUES', 'HANDSIZE', 'QUEUELENGTHLIMIT', 'AGE']],
    ];
    for (const [args, header] of columns) assert.deepEqual(table((await k(args)).stdout).header, header, args.join(' '));

    const row = async (args: string[], name: string) => table((await k(args)).stdout).rows.find((r) => r[0] === name)!.slice(0, -1);
    assert.deepEqual(await row(['-n', 'kinds', 'get', 'ingress'], 'minimal-ingress'), ['minimal-ingress', 'nginx-example', '*', '80']);
    assert.deepEqual(await row(['-n', 'kinds', 'get', 'ingress'], 'tls-example-ingress'), ['tls-example-ingress', '<none>', 'https-example.foo.com', '80, 443']);
    assert.deepEqual(await row(['-n', 'kinds', 'get', 'netpol'], 'test-network-policy'), ['test-network-policy', 'role=db']);
    assert.deepEqual(await row(['-n', 'kinds', 'get', 'hpa'], 'php-apache'), ['php-apache', 'Deployment/php-apache', 'cpu: <unknown>/50%', '1', '10', '0']);
    assert.deepEqual(await row(['get', 'sc'], 'local-path (default)'), ['local-path (default)', 'rancher.io/local-path', 'Delete', 'WaitForFirstConsumer', 'false']);
    assert.deepEqual(await row(['get', 'sc'], 'fast-e2e'), ['fast-e2e', 'example.com/fast', 'Retain', 'Immediate', 'true']);
    assert.deepEqual(await row(['get', 'csidrivers'], 'hostpath.csi.k8s.io'), ['hostpath.csi.k8s.io', 'false', 'true', 'false', '<unset>', 'false', 'Persistent,Ephemeral']);
    assert.deepEqual(await row(['get', 'volumeattachments'], 'csi-e2e-attachment'), ['csi-e2e-attachment', 'hostpath.csi.k8s.io', 'pv-e2e', 'sim-0', 'false']);
    assert.deepEqual(await row(['get', 'runtimeclasses'], 'gvisor'), ['gvisor', 'runsc']);
    assert.deepEqual(await row(['get', 'validatingadmissionpolicybindings'], 'demo-binding-test.example.com'), ['demo-binding-test.example.com', 'demo-policy.example.com', '<unset>']);
    assert.deepEqual(await row(['get', 'apiservices'], 'v1.networking.k8s.io'), ['v1.networking.k8s.io', 'Local', 'True']);
    const fs = table((await k(['get', 'flowschemas'])).stdout).rows.find((r) => r[0] === 'e2e-schema')!;
    assert.deepEqual([...fs.slice(0, 4), fs[5]], ['e2e-schema', 'e2e-level', '500', 'ByUser', '?']);
    assert.deepEqual(await row(['get', 'prioritylevelconfigurations'], 'e2e-level'), ['e2e-level', 'Limited', '10', '16', '4', '20']);

    // kubectl's generator sends the Ingress as protobuf.
    await k(['-n', 'kinds', 'create', 'ingress', 'simple', '--rule=foo.com/bar*=svc1:8080,tls=my-cert', '--class=external-lb']);
    assert.deepEqual(await row(['-n', 'kinds', 'get', 'ingress'], 'simple'), ['simple', 'external-lb', 'foo.com', '80, 443']);
    const simple = await json(['-n', 'kinds', 'get', 'ingress', 'simple']);
    assert.deepEqual(simple.spec.rules[0].http.paths[0], { path: '/bar', pathType: 'Prefix', backend: { service: { name: 'svc1', port: { number: 8080 } } } });

    // Upstream's defaults show up in what is stored.
    const vwc = await json(['get', 'validatingwebhookconfiguration', 'pod-policy.example.com']);
    const h = vwc.webhooks[0];
    assert.deepEqual([h.failurePolicy, h.matchPolicy, h.timeoutSeconds, h.clientConfig.service.port, h.namespaceSelector, h.objectSelector], ['Fail', 'Equivalent', 5, 443, {}, { matchLabels: { 'e2e.mizzen.dev/example-webhook': 'true' } }]);
    // And bad input gets upstream's messages.
    const bad = await k(['apply', '-f', '-'], {
      allowFail: true,
      input: 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: bad, namespace: kinds}\nspec:\n  rules:\n  - http:\n      paths:\n      - path: /x\n        backend: {service: {name: s, port: {number: 80}}}\n',
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.rules\[0\]\.http\.paths\[0\]\.pathType: Required value: pathType must be specified/);
  });

  test('an HPA created as v2 reads as v1, and one created as v1 reads as v2', async () => {
    await k(['create', 'namespace', 'hpa']);
    await k(['-n', 'hpa', 'apply', '-f', join(FIXTURES, 'hpa.yaml')]);
    const v1 = await json(['-n', 'hpa', 'get', 'horizontalpodautoscalers.v1.autoscaling', 'php-apache']);
    assert.equal(v1.apiVersion, 'autoscaling/v1');
    assert.equal(v1.spec.targetCPUUtilizationPercentage, 50);
    assert.deepEqual(v1.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'php-apache' });

    // kubectl autoscale writes autoscaling/v1... read it back as v2.
    await k(['-n', 'hpa', 'create', 'deployment', 'web', '--image=nginx']);
    await k(['-n', 'hpa', 'autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu-percent=70']);
    const v2 = await json(['-n', 'hpa', 'get', 'horizontalpodautoscalers.v2.autoscaling', 'web']);
    assert.equal(v2.apiVersion, 'autoscaling/v2');
    assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    assert.deepEqual([v2.spec.minReplicas, v2.spec.maxReplicas], [2, 5]);

    // A v2-only field survives an edit through v1 (upstream's round-trip annotations).
    await k(['-n', 'hpa', 'patch', 'horizontalpodautoscalers.v2.autoscaling', 'web', '--type=merge', '-p', '{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":120}}}}']);
    const asV1 = await json(['-n', 'hpa', 'get', 'horizontalpodautoscalers.v1.autoscaling', 'web']);
    assert.ok(asV1.metadata.annotations['autoscaling.alpha.kubernetes.io/behavior']);
    asV1.spec.maxReplicas = 6;
    delete asV1.metadata.resourceVersion;
    await k(['replace', '-f', '-'], { input: JSON.stringify(asV1) });
    const after = await json(['-n', 'hpa', 'get', 'horizontalpodautoscalers.v2.autoscaling', 'web']);
    assert.equal(after.spec.maxReplicas, 6);
    assert.equal(after.spec.behavior.scaleDown.stabilizationWindowSeconds, 120);
    assert.equal(after.metadata.annotations?.['autoscaling.alpha.kubernetes.io/behavior'], undefined);
  });

  test('kubectl apply --prune -l app=x removes the Ingress and HPA dropped from the set', async () => {
    await k(['create', 'namespace', 'prune']);
    const ingress = (name: string) =>
      `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: ${name}, namespace: prune, labels: {app: x}}\nspec:\n  defaultBackend: {service: {name: web, port: {number: 80}}}\n`;
    const hpa = `apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: prune, labels: {app: x}}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  maxReplicas: 3\n`;
    const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: prune, labels: {app: x}}\ndata: {a: "1"}\n`;
    const write = async (name: string, docs: string[]) => {
      const f = join(scratch, name);
      await writeFile(f, docs.join('---\n'));
      return f;
    };
    const allow = ['--prune-allowlist=core/v1/ConfigMap', '--prune-allowlist=networking.k8s.io/v1/Ingress', '--prune-allowlist=autoscaling/v2/HorizontalPodAutoscaler'];
    const first = await write('v1.yaml', [ingress('front'), ingress('back'), hpa, cm]);
    await k(['apply', '--prune', '-l', 'app=x', ...allow, '-f', first]);
    const second = await write('v2.yaml', [ingress('front'), cm]);
    const out = (await k(['apply', '--prune', '-l', 'app=x', ...allow, '-f', second])).stdout;
    assert.match(out, /ingress\.networking\.k8s\.io\/back pruned/);
    assert.match(out, /horizontalpodautoscaler\.autoscaling\/web pruned/);
    const names = (await k(['-n', 'prune', 'get', 'ingress,hpa,configmap', '-l', 'app=x', '-o', 'name'])).stdout.trim().split('\n').sort();
    assert.deepEqual(names, ['configmap/settings', 'ingress.networking.k8s.io/front']);
  });

  test('the "web" StatefulSet gets local-path volumes on the nodes its pods were scheduled to', async () => {
    await k(['create', 'namespace', 'web']);
    await k(['-n', 'web', 'apply', '-f', join(FIXTURES, 'web-statefulset.yaml')]);
    await k(['-n', 'web', 'rollout', 'status', 'statefulset/web', '--timeout=60s']);
    const claims = (await json(['-n', 'web', 'get', 'pvc'])).items;
    assert.deepEqual(claims.map((c: any) => c.metadata.name).sort(), ['www-web-0', 'www-web-1']);
    for (const c of claims) {
      const ordinal = c.metadata.name.slice('www-web-'.length);
      const pod = await json(['-n', 'web', 'get', 'pod', `web-${ordinal}`]);
      assert.equal(c.status.phase, 'Bound');
      assert.equal(c.spec.storageClassName, 'local-path');
      assert.equal(c.metadata.annotations['volume.kubernetes.io/selected-node'], pod.spec.nodeName);
      const pv = await json(['get', 'pv', c.spec.volumeName]);
      assert.equal(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0], pod.spec.nodeName);
      assert.equal(pv.spec.hostPath.path, join(cluster.dataDir, 'storage', `${pv.metadata.name}_web_${c.metadata.name}`));
      assert.deepEqual(pv.spec.claimRef.uid, c.metadata.uid);
    }
    const described = (await k(['-n', 'web', 'describe', 'pvc', 'www-web-0'])).stdout;
    assert.match(described, /WaitForFirstConsumer\s+.*waiting for first consumer to be created before binding/);
    assert.match(described, /ProvisioningSucceeded\s+.*Successfully provisioned volume pvc-/);
    assert.match(described, /Used By:\s+web-0/);

    // Deleting the claims (after the set) deletes their volumes: the class's reclaimPolicy is Delete.
    const volumes = claims.map((c: any) => c.spec.volumeName);
    await k(['-n', 'web', 'delete', 'statefulset', 'web']);
    await k(['-n', 'web', 'delete', 'pvc', '--all']);
    await eventually(async () => {
      const left = (await k(['get', 'pv', '-o', 'name'])).stdout;
      return volumes.every((v: string) => !left.includes(v));
    }, { what: 'local-path volumes deleted', timeoutMs: 30_000 });
  });

  test('a pod whose claim is unbound and Immediate stays Pending with upstream\'s message', async () => {
    await k(['create', 'namespace', 'pending']);
    const manifest = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: immediate-e2e}
provisioner: example.com/never
volumeBindingMode: Immediate
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: pending}
spec:
  storageClassName: immediate-e2e
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: pending}
spec:
  containers: [{name: app, image: busybox}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
`;
    await k(['apply', '-f', '-'], { input: manifest });
    const cond = await eventually(async () => {
      const pod = await json(['-n', 'pending', 'get', 'pod', 'app']);
      return (pod.status.conditions ?? []).find((c: any) => c.type === 'PodScheduled' && c.status === 'False');
    }, { what: 'PodScheduled=False', timeoutMs: 20_000 });
    assert.equal(cond.reason, 'Unschedulable');
    assert.match(cond.message, /^0\/2 nodes are available: pod has unbound immediate PersistentVolumeClaims\. preemption: /);
    assert.equal((await json(['-n', 'pending', 'get', 'pod', 'app'])).spec.nodeName, undefined);

    // A matching volume appears: the claim binds and the pod is scheduled.
    await k(['apply', '-f', '-'], {
      input: 'apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pending-pv}\nspec:\n  storageClassName: immediate-e2e\n  capacity: {storage: 2Gi}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: /tmp/mizzen-e2e-pending-pv}\n',
    });
    await eventually(async () => (await json(['-n', 'pending', 'get', 'pod', 'app'])).spec.nodeName, { what: 'pod scheduled', timeoutMs: 40_000 });
  });

  test('an APIService proxies to an aggregated server on 127.0.0.1', async () => {
    const pki = await ensurePki(join(scratch, 'backend-pki'), ['widgets.default.svc']);
    backend = await startAggregatedServer({ group: 'demo.mizzen.dev', version: 'v1beta1', cert: pki.serverCertPem, key: pki.serverKeyPem });
    const manifest = `apiVersion: v1
kind: Service
metadata: {name: widgets, namespace: default}
spec:
  ports: [{name: https, port: 443, targetPort: ${backend.port}}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: widgets, namespace: default}
subsets:
- addresses: [{ip: 127.0.0.1}]
  ports: [{name: https, port: ${backend.port}}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.demo.mizzen.dev}
spec:
  group: demo.mizzen.dev
  version: v1beta1
  groupPriorityMinimum: 1000
  versionPriority: 15
  caBundle: ${Buffer.from(pki.caCertPem).toString('base64')}
  service: {name: widgets, namespace: default, port: 443}
`;
    await k(['apply', '-f', '-'], { input: manifest });
    await k(['wait', '--for=condition=Available', 'apiservice/v1beta1.demo.mizzen.dev', '--timeout=30s']);
    const list = JSON.parse((await k(['get', '--raw', '/apis/demo.mizzen.dev/v1beta1'])).stdout);
    assert.deepEqual(list.resources.map((r: any) => r.name), ['widgets', 'widgets/status']);
    const widgets = JSON.parse((await k(['get', '--raw', '/apis/demo.mizzen.dev/v1beta1/namespaces/default/widgets'])).stdout);
    assert.deepEqual(widgets.items.map((w: any) => w.metadata.name), ['alpha', 'beta']);
    // kubectl discovers the aggregated resource and uses it like any other.
    const resources = await eventually(async () => {
      const out = (await k(['api-resources', '--api-group=demo.mizzen.dev'])).stdout;
      return out.includes('widgets') ? out : undefined;
    }, { what: 'widgets in api-resources' });
    assert.match(resources, /widgets\s+wd\s+demo\.mizzen\.dev\/v1beta1\s+true\s+Widget/);
    assert.deepEqual(table((await k(['get', 'widgets'])).stdout).rows.map((r) => r[0]), ['alpha', 'beta']);
    // The list kubectl sent carries its user; the aggregator's own discovery and availability
    // checks (which may come after it) carry none.
    assert.equal(backend.requests.filter((r) => r.path.endsWith('/widgets')).at(-1)?.user, 'admin');
  });
});
