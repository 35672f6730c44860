// The simple built-in admission plugins and the bootstrap RBAC policy reconciled at start, against a
// real API server driven by the real kubectl (issue 14's audit found no test of their own):
// NamespaceLifecycle, Priority, DefaultTolerationSeconds, LimitRanger before ResourceQuota; a bootstrap role edited by a user gets
// its missing rules back at the next start unless it opts out with autoupdate "false".

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { startApiServer } from './server.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { hasKubectl, KUBECTL, run } from '../../e2e/harness.ts';

let t: TestApiServer;

// Asynchronous (harness run): the API server runs in this process.
const kubectl = (args: string[], input?: string) => run(KUBECTL, ['--kubeconfig', t.kubeconfig, ...args], { input });

const pod = (name: string, extra = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  automountServiceAccountToken: false
  containers: [{name: c, image: busybox}]
${extra}`;

before(async () => {
  t = await startTestApiServer({ name: 'admission-builtins' });
});
after(async () => {
  await t?.close();
});

const skip = !hasKubectl && 'kubectl not installed';

test('NamespaceLifecycle: no content in a namespace that does not exist; the system namespaces stay', { skip }, async () => {
  const r = await kubectl(['-n', 'nowhere', 'create', 'configmap', 'x']);
  assert.match(r.stderr, /namespaces "nowhere" not found/);
  const d = await kubectl(['delete', 'namespace', 'kube-system']);
  assert.match(d.stderr, /namespaces "kube-system" is forbidden: this namespace may not be deleted/);
});

test('Priority: the class (or the global default) becomes spec.priority; an unknown class is refused', { skip }, async () => {
  assert.equal((await kubectl(['create', 'priorityclass', 'gold', '--value=1000'])).code, 0);
  assert.equal((await kubectl(['apply', '-f', '-'], pod('prio', '  priorityClassName: gold'))).code, 0);
  assert.equal((await kubectl(['get', 'pod', 'prio', '-o', 'jsonpath={.spec.priority} {.spec.preemptionPolicy}'])).stdout, '1000 PreemptLowerPriority');
  const bad = await kubectl(['apply', '-f', '-'], pod('prio-bad', '  priorityClassName: nosuch'));
  assert.match(bad.stderr, /pods "prio-bad" is forbidden: no PriorityClass with name nosuch was found/);
  const forced = await kubectl(['apply', '-f', '-'], pod('prio-forced', '  priorityClassName: gold\n  priority: 5'));
  assert.match(forced.stderr, /the integer value of priority \(5\) must not be provided in pod spec; priority admission controller computed 1000/);
  assert.equal((await kubectl(['create', 'priorityclass', 'bronze', '--value=7', '--global-default'])).code, 0);
  assert.equal((await kubectl(['apply', '-f', '-'], pod('prio-default'))).code, 0);
  assert.equal((await kubectl(['get', 'pod', 'prio-default', '-o', 'jsonpath={.spec.priorityClassName} {.spec.priority}'])).stdout, 'bronze 7');
  // The system classes exist from the start.
  assert.equal((await kubectl(['get', 'priorityclass', 'system-node-critical', '-o', 'jsonpath={.value}'])).stdout, '2000001000');
});

test('DefaultTolerationSeconds: not-ready and unreachable NoExecute tolerations for 300 s, unless the pod has its own', { skip }, async () => {
  assert.equal((await kubectl(['apply', '-f', '-'], pod('tol'))).code, 0);
  const tol = JSON.parse((await kubectl(['get', 'pod', 'tol', '-o', 'jsonpath={.spec.tolerations}'])).stdout);
  assert.deepEqual(tol, [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ]);
  const own = pod('tol-own', '  tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5}]');
  assert.equal((await kubectl(['apply', '-f', '-'], own)).code, 0);
  const tol2 = JSON.parse((await kubectl(['get', 'pod', 'tol-own', '-o', 'jsonpath={.spec.tolerations}'])).stdout);
  assert.deepEqual(tol2.map((x: any) => [x.key, x.tolerationSeconds]), [
    ['node.kubernetes.io/unreachable', 5],
    ['node.kubernetes.io/not-ready', 300],
  ]);
});

test('order: LimitRanger fills a pod\'s requests before ResourceQuota (a validating step) checks and charges them', { skip }, async () => {
  assert.equal((await kubectl(['create', 'namespace', 'ordered'])).code, 0);
  const setup = `apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: ordered}
spec:
  limits: [{type: Container, defaultRequest: {cpu: 100m}, default: {cpu: 200m}}]
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: q, namespace: ordered}
spec:
  hard: {requests.cpu: 150m}
`;
  assert.equal((await kubectl(['apply', '-f', '-'], setup)).code, 0);
  // No quota controller runs here: give the quota the status it would write.
  const q = JSON.parse((await kubectl(['-n', 'ordered', 'get', 'resourcequota', 'q', '-o', 'json'])).stdout);
  q.status = { hard: { 'requests.cpu': '150m' }, used: { 'requests.cpu': '0' } };
  const st = await kubectl(['replace', '--subresource=status', '-f', '-'], JSON.stringify(q));
  assert.equal(st.code, 0, st.stderr);
  // Without the LimitRange's default the quota would refuse it ("must specify requests.cpu").
  const first = await kubectl(['-n', 'ordered', 'apply', '-f', '-'], pod('first'));
  assert.equal(first.code, 0, first.stderr);
  assert.equal((await kubectl(['-n', 'ordered', 'get', 'resourcequota', 'q', '-o', 'jsonpath={.status.used.requests\\.cpu}'])).stdout, '100m');
  const second = await kubectl(['-n', 'ordered', 'apply', '-f', '-'], pod('second'));
  assert.match(second.stderr, /pods "second" is forbidden: exceeded quota: q, requested: requests.cpu=100m, used: requests.cpu=100m, limited: requests.cpu=150m/);
});

test('bootstrap roles are reconciled at start: missing rules come back, unless autoupdate is "false"', { skip }, async () => {
  const rules = async (name: string) => JSON.parse((await kubectl(['get', 'clusterrole', name, '-o', 'jsonpath={.rules}'])).stdout || '[]');
  const want = await rules('system:public-info-viewer');
  assert.ok(want.length > 0);
  // Replace rather than apply: the rules must really go.
  const strip = async (name: string, autoupdate?: string) => {
    const role = JSON.parse((await kubectl(['get', 'clusterrole', name, '-o', 'json'])).stdout);
    role.rules = [];
    if (autoupdate) role.metadata.annotations = { ...(role.metadata.annotations ?? {}), 'rbac.authorization.kubernetes.io/autoupdate': autoupdate };
    const r = await kubectl(['replace', '-f', '-'], JSON.stringify(role));
    assert.equal(r.code, 0, r.stderr);
  };
  await strip('system:public-info-viewer');
  await strip('system:basic-user', 'false');
  const basicBefore = await rules('system:basic-user');
  assert.deepEqual(await rules('system:public-info-viewer'), []);
  await t.server.close();
  const server = await startApiServer({
    dataDir: t.dir,
    port: 0,
    bindAddress: '127.0.0.1',
    tls: { cert: t.pki.serverCertPem, key: t.pki.serverKeyPem, clientCA: t.pki.caCertPem },
    auth: { disableAdmissionPlugins: ['ServiceAccount'] },
  });
  (t as { server: typeof server }).server = server;
  await writeKubeconfig(t.kubeconfig, { server: server.url, caPem: t.pki.caCertPem, clientCertPem: t.pki.adminCertPem, clientKeyPem: t.pki.adminKeyPem });
  assert.deepEqual(await rules('system:public-info-viewer'), want);
  assert.deepEqual(await rules('system:basic-user'), basicBefore, 'autoupdate "false" opts out');
  assert.deepEqual(basicBefore, []);
});
