import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKubernetesProtobuf } from './index.ts';
import { StatusError } from '../errors.ts';
import { cat, k8sBody, pb } from './encode-for-tests.ts';

/** Bodies recorded from the real kubectl 1.32 (`kubectl create ...`, `kubectl create token sa --duration=10m`). */
const kubectl = {
  namespace: 'azhzAAoPCgJ2MRIJTmFtZXNwYWNlEhkKEQoBeBIAGgAiACoAMgA4AEIAEgAaAgoAGgAiAA==',
  configmap: 'azhzAAoPCgJ2MRIJQ29uZmlnTWFwEiQKEQoBYxIAGgAiACoAMgA4AEIAEgYKAWESAWISBwoDYmluEgAaACIA',
  secret: 'azhzAAoMCgJ2MRIGU2VjcmV0Eh0KEQoBcxIAGgAiACoAMgA4AEIAEgYKAXASAXEaABoAIgA=',
  deployment: 'azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50ErABChsKAWQSABoAIgAqADIAOABCAFoICgNhcHASAWQSggEIABIKCggKA2FwcBIBZBpqChoKABIAGgAiACoAMgA4AEIAWggKA2FwcBIBZBJMEi4KBW5naW54EgVuZ2lueCoAMgoKABAAGFAiACoAQgBqAHIAgAEAiAEAkAEAogEAGgAyAEIASgBSAFgAYABoAIIBAIoBAJoBAMIBACICCgAoADgAGgwIABAAGAAgACgAOAAaACIA',
  serviceClusterIP: 'azhzAAoNCgJ2MRIHU2VydmljZRJpCh8KA3N2YxIAGgAiACoAMgA4AEIAWgoKA2FwcBIDc3ZjEkIKGwoHODAtODA4MBIDVENQGFAiBwgAEJA/GgAoABIKCgNhcHASA3N2YxoAIglDbHVzdGVySVA6AEIAUgBaAGAAaAAaAgoAGgAiAA==',
  serviceNodePortNamed: 'azhzAAoNCgJ2MRIHU2VydmljZRJoCh0KAm5wEgAaACIAKgAyADgAQgBaCQoDYXBwEgJucBJDCh4KBzgwLWh0dHASA1RDUBhQIgoIARAAGgRodHRwKAASCQoDYXBwEgJucBoAIghOb2RlUG9ydDoAQgBSAFoAYABoABoCCgAaACIA',
  job: 'azhzAAoPCghiYXRjaC92MRIDSm9iEoIBChEKAWoSABoAIgAqADIAOABCABJjMmEKEAoAEgAaACIAKgAyADgAQgASTRIqCgFqEgdidXN5Ym94GgRlY2hvGgJoaSoAQgBqAHIAgAEAiAEAkAEAogEAGgVOZXZlcjIAQgBKAFIAWABgAGgAggEAigEAmgEAwgEAGgggACgAMAA6ABoAIgA=',
  cronjob: 'azhzAAoTCghiYXRjaC92MRIHQ3JvbkpvYhKkAQoSCgJjahIAGgAiACoAMgA4AEIAEosBCgsqLzEgKiAqICogKhoAKnoKEgoCY2oSABoAIgAqADIAOABCABJkMmIKEAoAEgAaACIAKgAyADgAQgASThInCgJjahIHYnVzeWJveBoEZGF0ZSoAQgBqAHIAgAEAiAEAkAEAogEAGglPbkZhaWx1cmUyAEIASgBSAFgAYABoAIIBAIoBAJoBAMIBABoAGgAiAA==',
  role: 'azhzAAokChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgRSb2xlEiIKEQoBchIAGgAiACoAMgA4AEIAEg0KA2dldBIAGgRwb2RzGgAiAA==',
  rolebinding: 'azhzAAorChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgtSb2xlQmluZGluZxJiChIKAnJiEgAaACIAKgAyADgAQgASJgoEVXNlchIZcmJhYy5hdXRob3JpemF0aW9uLms4cy5pbxoBdSIAGiQKGXJiYWMuYXV0aG9yaXphdGlvbi5rOHMuaW8SBFJvbGUaAXIaACIA',
  clusterrole: 'azhzAAorChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgtDbHVzdGVyUm9sZRIjChIKAmNyEgAaACIAKgAyADgAQgASDQoDZ2V0EgAaBHBvZHMaACIA',
  clusterrolebinding: 'azhzAAoyChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEhJDbHVzdGVyUm9sZUJpbmRpbmcSawoTCgNjcmISABoAIgAqADIAOABCABImCgRVc2VyEhlyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvGgF1IgAaLAoZcmJhYy5hdXRob3JpemF0aW9uLms4cy5pbxILQ2x1c3RlclJvbGUaAmNyGgAiAA==',
  quota: 'azhzAAoTCgJ2MRINUmVzb3VyY2VRdW90YRIwChEKAXESABoAIgAqADIAOABCABIZCgoKA2NwdRIDCgExCgsKBHBvZHMSAwoBMhoAGgAiAA==',
  priorityclass: 'azhzAAolChRzY2hlZHVsaW5nLms4cy5pby92MRINUHJpb3JpdHlDbGFzcxIwChIKAnBjEgAaACIAKgAyADgAQgAQABgAIgAqFFByZWVtcHRMb3dlclByaW9yaXR5GgAiAA==',
  pdb: 'azhzAAogCglwb2xpY3kvdjESE1BvZERpc3J1cHRpb25CdWRnZXQSNwoTCgNwZGISABoAIgAqADIAOABCABIUCgYIABAAGgASCgoICgNhcHASAXgaCggAGAAgACgAMAAaACIA',
  serviceaccount: 'azhzAAoUCgJ2MRIOU2VydmljZUFjY291bnQSFAoSCgJzYRIAGgAiACoAMgA4AEIAGgAiAA==',
  tokenrequest: 'azhzAAooChhhdXRoZW50aWNhdGlvbi5rOHMuaW8vdjESDFRva2VuUmVxdWVzdBIdChAKABIAGgAiACoAMgA4AEIAEgMg2AQaBAoAEgAaACIA',
};

const decode = (b64: string) => decodeKubernetesProtobuf(Buffer.from(b64, 'base64')).object;

test('kubectl create namespace', () => {
  const d = decodeKubernetesProtobuf(Buffer.from(kubectl.namespace, 'base64'));
  assert.equal(d.apiVersion, 'v1');
  assert.equal(d.kind, 'Namespace');
  // creationTimestamp arrives as an empty Time and is dropped, as upstream's JSON prints null for it.
  assert.deepEqual(d.object, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' }, spec: {}, status: {} });
});

test('kubectl create configmap / secret / serviceaccount / quota', () => {
  assert.deepEqual(decode(kubectl.configmap), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b', bin: '' } });
  assert.deepEqual(decode(kubectl.secret), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { p: 'cQ==' } });
  assert.deepEqual(decode(kubectl.serviceaccount), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa' } });
  assert.deepEqual(decode(kubectl.quota), {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'q' },
    spec: { hard: { cpu: '1', pods: '2' } },
    status: {},
  });
});

test('kubectl create deployment --replicas=0 keeps the pointer zero', () => {
  assert.deepEqual(decode(kubectl.deployment), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', labels: { app: 'd' } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'd' } },
      template: {
        metadata: { labels: { app: 'd' } },
        spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }], resources: {} }] },
      },
      strategy: {},
    },
    status: {},
  });
});

test('kubectl create service: targetPort as number and as name', () => {
  const a = decode(kubectl.serviceClusterIP);
  assert.deepEqual(a.spec, { ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }], selector: { app: 'svc' }, type: 'ClusterIP' });
  assert.deepEqual(a.status, { loadBalancer: {} });
  const b = decode(kubectl.serviceNodePortNamed);
  assert.deepEqual(b.spec.ports, [{ name: '80-http', protocol: 'TCP', port: 80, targetPort: 'http' }]);
  assert.equal(b.spec.type, 'NodePort');
});

test('kubectl create job / cronjob', () => {
  assert.deepEqual(decode(kubectl.job).spec, {
    template: { metadata: {}, spec: { containers: [{ name: 'j', image: 'busybox', command: ['echo', 'hi'], resources: {} }], restartPolicy: 'Never' } },
  });
  const cj = decode(kubectl.cronjob);
  assert.equal(cj.spec.schedule, '*/1 * * * *');
  assert.equal('suspend' in cj.spec, false);
  assert.deepEqual(cj.spec.jobTemplate.metadata, { name: 'cj' });
  assert.equal(cj.spec.jobTemplate.spec.template.spec.restartPolicy, 'OnFailure');
});

test('kubectl create role / bindings', () => {
  assert.deepEqual(decode(kubectl.role).rules, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
  assert.deepEqual(decode(kubectl.clusterrole).rules, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
  const rb = decode(kubectl.rolebinding);
  assert.deepEqual(rb.subjects, [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'u' }]);
  assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' });
  assert.equal(decode(kubectl.clusterrolebinding).roleRef.kind, 'ClusterRole');
});

test('kubectl create priorityclass --value=0 / pdb --min-available=0 / token', () => {
  assert.deepEqual(decode(kubectl.priorityclass), {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'pc' },
    value: 0,
    preemptionPolicy: 'PreemptLowerPriority',
  });
  const pdb = decode(kubectl.pdb);
  assert.deepEqual(pdb.spec, { minAvailable: 0, selector: { matchLabels: { app: 'x' } } });
  assert.deepEqual(pdb.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
  assert.deepEqual(decode(kubectl.tokenrequest), {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: {},
    spec: { expirationSeconds: 600 },
    status: {},
  });
});

// Hand-encoded bodies for shapes kubectl create does not produce.
const meta = (name: string, ...more: Uint8Array[]) => pb.msg(1, pb.str(1, name), pb.str(2, ''), pb.int(7, 0), pb.msg(8), ...more);

test('ConfigMap binaryData and immutable=false (a pointer) are kept; base64 for bytes', () => {
  const raw = cat(meta('c'), pb.entry(2, 'k', pb.str(2, 'v')), pb.entry(3, 'bin', pb.bytes(2, Uint8Array.from([0, 1, 255]))), pb.int(4, false));
  const obj = decodeKubernetesProtobuf(k8sBody('v1', 'ConfigMap', raw)).object;
  assert.deepEqual(obj, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'v' }, binaryData: { bin: 'AAH/' }, immutable: false });
});

test('Pod details: inline volume source, times, quantities, negative and 64-bit numbers', () => {
  const container = cat(
    pb.str(1, 'app'),
    pb.str(2, 'img'),
    pb.msg(6, pb.str(1, ''), pb.int(2, 0), pb.int(3, 8080), pb.str(4, 'TCP')),
    pb.msg(8, pb.entry(1, 'cpu', pb.quantity(2, '500m')), pb.entry(2, 'memory', pb.quantity(2, '64Mi'))),
    pb.msg(10, pb.msg(1, pb.msg(2, pb.str(1, '/healthz'), pb.intOrString(2, 'http'))), pb.int(2, 0), pb.int(3, 1)),
    pb.msg(15, pb.int(2, false), pb.int(4, 0)),
    pb.int(16, false),
  );
  const spec = cat(
    pb.msg(1, pb.str(1, 'data'), pb.msg(2, pb.msg(2, pb.str(1, '')))),
    pb.msg(1, pb.str(1, 'cfg'), pb.msg(2, pb.msg(19, pb.msg(1, pb.str(1, 'my-cm')), pb.int(3, 420)))),
    pb.msg(2, container),
    pb.int(4, 0),
    pb.int(5, 2n ** 40n),
    pb.msg(22, pb.str(1, 'k'), pb.str(2, 'Exists'), pb.int(5, -1)),
  );
  const raw = cat(meta('p', pb.time(9, 1704164645, 5)), pb.msg(2, spec), pb.msg(3, pb.time(7, 1704164645)));
  const pod = decodeKubernetesProtobuf(k8sBody('v1', 'Pod', raw)).object;
  assert.deepEqual(pod.metadata, { name: 'p', deletionTimestamp: '2024-01-02T03:04:05Z' });
  assert.deepEqual(pod.spec.volumes, [
    { name: 'data', emptyDir: {} },
    { name: 'cfg', configMap: { name: 'my-cm', defaultMode: 420 } },
  ]);
  assert.deepEqual(pod.spec.containers[0], {
    name: 'app',
    image: 'img',
    ports: [{ containerPort: 8080, protocol: 'TCP' }],
    resources: { limits: { cpu: '500m' }, requests: { memory: '64Mi' } },
    livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, timeoutSeconds: 1 },
    securityContext: { privileged: false, runAsUser: 0 },
  });
  assert.equal(pod.spec.terminationGracePeriodSeconds, 0);
  assert.equal(pod.spec.activeDeadlineSeconds, 2 ** 40);
  assert.deepEqual(pod.spec.tolerations, [{ key: 'k', operator: 'Exists', tolerationSeconds: -1 }]);
  assert.deepEqual(pod.status, { startTime: '2024-01-02T03:04:05Z' });
});

test('MicroTime keeps six fractional digits; Go zero time is dropped', () => {
  const raw = cat(meta('l', pb.time(8, -62135596800)), pb.msg(2, pb.str(1, 'me'), pb.int(2, 0), pb.time(4, 1704164645, 123456789), pb.int(5, 0)));
  const lease = decodeKubernetesProtobuf(k8sBody('coordination.k8s.io/v1', 'Lease', raw)).object;
  assert.deepEqual(lease.metadata, { name: 'l' });
  assert.deepEqual(lease.spec, { holderIdentity: 'me', leaseDurationSeconds: 0, renewTime: '2024-01-02T03:04:05.123456Z', leaseTransitions: 0 });
});

test('Job with pointer zeros (parallelism 0, suspend false, backoffLimit 0)', () => {
  const tmpl = pb.msg(6, pb.msg(1), pb.msg(2, pb.msg(2, pb.str(1, 'c'), pb.str(2, 'busybox')), pb.str(3, 'Never')));
  const raw = cat(meta('j'), pb.msg(2, pb.int(1, 0), pb.int(7, 0), pb.int(10, false), tmpl), pb.msg(3));
  const job = decodeKubernetesProtobuf(k8sBody('batch/v1', 'Job', raw)).object;
  assert.deepEqual(job.spec, {
    parallelism: 0,
    backoffLimit: 0,
    suspend: false,
    template: { metadata: {}, spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } },
  });
  assert.deepEqual(job.status, {});
});

test('CronJob with suspend true and history limits', () => {
  const jobSpec = pb.msg(2, pb.msg(6, pb.msg(2, pb.msg(2, pb.str(1, 'c'), pb.str(2, 'x')), pb.str(3, 'OnFailure'))));
  const raw = cat(meta('cj'), pb.msg(2, pb.str(1, '0 * * * *'), pb.str(3, 'Forbid'), pb.int(4, true), pb.msg(5, pb.msg(1), jobSpec), pb.int(6, 0), pb.int(7, 1)));
  const cj = decodeKubernetesProtobuf(k8sBody('batch/v1', 'CronJob', raw)).object;
  assert.equal(cj.spec.suspend, true);
  assert.equal(cj.spec.concurrencyPolicy, 'Forbid');
  assert.equal(cj.spec.successfulJobsHistoryLimit, 0);
  assert.equal(cj.spec.failedJobsHistoryLimit, 1);
  assert.equal(cj.spec.jobTemplate.spec.template.spec.restartPolicy, 'OnFailure');
});

test('Eviction with deleteOptions (as kubectl drain sends)', () => {
  const raw = cat(meta('web-0', pb.str(3, 'default')), pb.msg(2, pb.int(1, 0), pb.msg(2, pb.str(1, 'uid-1')), pb.str(4, 'Background')));
  const ev = decodeKubernetesProtobuf(k8sBody('policy/v1', 'Eviction', raw));
  assert.equal(ev.kind, 'Eviction');
  assert.deepEqual(ev.object, {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: 'web-0', namespace: 'default' },
    deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: 'uid-1' }, propagationPolicy: 'Background' },
  });
});

test('DeleteOptions is accepted under any group version', () => {
  const raw = cat(pb.int(1, 30), pb.str(4, 'Foreground'), pb.str(5, 'All'));
  assert.deepEqual(decodeKubernetesProtobuf(k8sBody('apps/v1', 'DeleteOptions', raw)).object, {
    apiVersion: 'apps/v1',
    kind: 'DeleteOptions',
    gracePeriodSeconds: 30,
    propagationPolicy: 'Foreground',
    dryRun: ['All'],
  });
});

test('a non-pointer IntOrString holding 0 is left out; pointer ones keep 0; unknown fields are skipped', () => {
  const raw = cat(
    meta('s'),
    pb.msg(2, pb.msg(1, pb.int(3, 80), pb.intOrString(4, 0)), pb.int(99, 7), pb.str(98, 'future')),
  );
  assert.deepEqual(decodeKubernetesProtobuf(k8sBody('v1', 'Service', raw)).object.spec, { ports: [{ port: 80 }] });
  const dep = cat(meta('d'), pb.msg(2, pb.msg(4, pb.str(1, 'RollingUpdate'), pb.msg(2, pb.intOrString(1, 0), pb.intOrString(2, '25%')))));
  assert.deepEqual(decodeKubernetesProtobuf(k8sBody('apps/v1', 'Deployment', dep)).object.spec.strategy, {
    type: 'RollingUpdate',
    rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' },
  });
});

function assertStatus(fn: () => unknown, code: number, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StatusError, `expected StatusError, got ${e}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

test('malformed bodies are 400s, unknown kinds 415', () => {
  assertStatus(() => decodeKubernetesProtobuf(Buffer.from('{"kind":"Namespace"}')), 400, /missing "k8s\\0" prefix/);
  assertStatus(() => decodeKubernetesProtobuf(Buffer.from([0x6b, 0x38])), 400, /missing "k8s\\0" prefix/);
  const good = Buffer.from(kubectl.namespace, 'base64');
  // Cut in the middle: a length prefix now runs past the end.
  assertStatus(() => decodeKubernetesProtobuf(good.subarray(0, 30)), 400, /runs beyond the message|truncated/);
  // A varint whose continuation bit never ends.
  assertStatus(() => decodeKubernetesProtobuf(Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x08, 0xff, 0xff])), 400, /truncated varint/);
  assertStatus(() => decodeKubernetesProtobuf(Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x08]), Buffer.alloc(11, 0xff)])), 400, /longer than 10 bytes/);
  // Length far past the end of the body.
  assertStatus(() => decodeKubernetesProtobuf(Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x12, 0xff, 0xff, 0x03, 0x01])), 400, /runs beyond the message/);
  // Wrong wire type for a known field (metadata as a varint).
  assertStatus(() => decodeKubernetesProtobuf(k8sBody('v1', 'Namespace', pb.int(1, 5))), 400, /wire type/);
  // Group wire types are refused.
  assertStatus(() => decodeKubernetesProtobuf(k8sBody('v1', 'Namespace', Uint8Array.from([0x7b]))), 400, /unsupported wire type/);
  assertStatus(() => decodeKubernetesProtobuf(k8sBody('example.com/v1', 'Widget', new Uint8Array())), 415, /example\.com\/v1, Kind=Widget.*application\/json/);
  assertStatus(() => decodeKubernetesProtobuf(k8sBody('v1', 'PodSpec', new Uint8Array())), 415, /Kind=PodSpec/);
});

test('random garbage never escapes as anything but a StatusError', () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const base = Buffer.from(kubectl.deployment, 'base64');
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.from(base);
    const n = 1 + Math.floor(rand() * 4);
    for (let j = 0; j < n; j++) b[4 + Math.floor(rand() * (b.length - 4))] = Math.floor(rand() * 256);
    const cut = rand() < 0.3 ? b.subarray(0, 4 + Math.floor(rand() * (b.length - 4))) : b;
    try {
      decodeKubernetesProtobuf(cut);
    } catch (e) {
      assert.ok(e instanceof StatusError, `non-StatusError: ${e}`);
      assert.ok(e.code === 400 || e.code === 415, `code ${e.code}: ${e.message}`);
    }
  }
});
