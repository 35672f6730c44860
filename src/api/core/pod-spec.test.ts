import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPodSpec, defaultPodTemplateSpec, podQOSClass, validatePodSpec, validatePodTemplateSpec } from './pod-spec.ts';

const base = () => ({ containers: [{ name: 'web', image: 'nginx:1.25' }] });

function validSpec(mut: (s: any) => void = () => {}): any {
  const s: any = base();
  mut(s);
  defaultPodSpec(s);
  return s;
}

test('defaultPodSpec fills upstream defaults', () => {
  const s: any = { containers: [{ name: 'a', image: 'nginx', ports: [{ containerPort: 80 }], livenessProbe: { httpGet: { port: 80 } } }, { name: 'b', image: 'busybox:1.36' }] };
  defaultPodSpec(s);
  assert.equal(s.restartPolicy, 'Always');
  assert.equal(s.dnsPolicy, 'ClusterFirst');
  assert.equal(s.schedulerName, 'default-scheduler');
  assert.equal(s.terminationGracePeriodSeconds, 30);
  assert.deepEqual(s.securityContext, {});
  const [a, b] = s.containers;
  assert.equal(a.imagePullPolicy, 'Always');
  assert.equal(b.imagePullPolicy, 'IfNotPresent');
  assert.equal(a.terminationMessagePath, '/dev/termination-log');
  assert.equal(a.terminationMessagePolicy, 'File');
  assert.deepEqual(a.resources, {});
  assert.equal(a.ports[0].protocol, 'TCP');
  assert.deepEqual(a.livenessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  // Template-level defaults do not include pod-only fields.
  assert.equal(s.enableServiceLinks, undefined);
});

test('pull policy for tags and digests', () => {
  const cases: [string, string][] = [
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['registry:5000/nginx', 'Always'],
    ['registry:5000/nginx:1.0', 'IfNotPresent'],
    ['nginx@sha256:abc', 'IfNotPresent'],
  ];
  for (const [image, want] of cases) {
    const s: any = { containers: [{ name: 'c', image }] };
    defaultPodSpec(s);
    assert.equal(s.containers[0].imagePullPolicy, want, image);
  }
});

test('volumes default to emptyDir and file modes', () => {
  const s: any = { containers: [{ name: 'c', image: 'x:1' }], volumes: [{ name: 'a' }, { name: 'b', secret: { secretName: 's' } }, { name: 'c', configMap: { name: 'cm' } }] };
  defaultPodSpec(s);
  assert.deepEqual(s.volumes[0], { name: 'a', emptyDir: {} });
  assert.equal(s.volumes[1].secret.defaultMode, 420);
  assert.equal(s.volumes[2].configMap.defaultMode, 420);
});

test('valid specs pass', () => {
  assert.deepEqual(validatePodSpec(validSpec(), 'spec'), []);
  const s = validSpec((x) => {
    x.volumes = [{ name: 'data', emptyDir: {} }];
    x.containers[0].volumeMounts = [{ name: 'data', mountPath: '/data' }];
    x.containers[0].ports = [{ name: 'http', containerPort: 80 }];
    x.containers[0].env = [{ name: 'A', value: '1' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }];
    x.containers[0].resources = { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } };
    x.tolerations = [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }];
    x.nodeSelector = { 'kubernetes.io/os': 'linux' };
    x.initContainers = [{ name: 'init', image: 'busybox:1' }];
  });
  assert.deepEqual(validatePodSpec(s, 'spec'), []);
});

test('invalid specs report upstream field paths', () => {
  const cases: [string, (s: any) => void, string, string?][] = [
    ['no containers', (s) => (s.containers = []), 'spec.containers', 'Required value'],
    ['missing image', (s) => delete s.containers[0].image, 'spec.containers[0].image', 'Required value'],
    ['bad container name', (s) => (s.containers[0].name = 'Web_1'), 'spec.containers[0].name'],
    ['duplicate name', (s) => s.containers.push({ name: 'web', image: 'x:1' }), 'spec.containers[1].name', 'Duplicate value: "web"'],
    ['port out of range', (s) => (s.containers[0].ports = [{ containerPort: 70000 }]), 'spec.containers[0].ports[0].containerPort', 'Invalid value: 70000: must be between 1 and 65535, inclusive'],
    ['bad protocol', (s) => (s.containers[0].ports = [{ containerPort: 80, protocol: 'HTTP' }]), 'spec.containers[0].ports[0].protocol'],
    ['env name', (s) => (s.containers[0].env = [{ name: 'A=B' }]), 'spec.containers[0].env[0].name'],
    ['mount unknown volume', (s) => (s.containers[0].volumeMounts = [{ name: 'nope', mountPath: '/x' }]), 'spec.containers[0].volumeMounts[0].name', 'Not found: "nope"'],
    ['bad quantity', (s) => (s.containers[0].resources = { limits: { cpu: 'lots' } }), 'spec.containers[0].resources.limits[cpu]'],
    ['requests over limits', (s) => (s.containers[0].resources = { requests: { cpu: '2' }, limits: { cpu: '1' } }), 'spec.containers[0].resources.requests', 'Invalid value: "2": must be less than or equal to cpu limit of 1'],
    ['restart policy', (s) => (s.restartPolicy = 'Sometimes'), 'spec.restartPolicy', 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'],
    ['dns policy', (s) => (s.dnsPolicy = 'Nope'), 'spec.dnsPolicy'],
    ['toleration exists+value', (s) => (s.tolerations = [{ key: 'k', operator: 'Exists', value: 'v' }]), 'spec.tolerations[0].operator'],
    ['toleration seconds', (s) => (s.tolerations = [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule', tolerationSeconds: 5 }]), 'spec.tolerations[0].effect'],
    ['node selector', (s) => (s.nodeSelector = { 'bad key!': 'x' }), 'spec.nodeSelector'],
    ['volume name dup', (s) => (s.volumes = [{ name: 'a', emptyDir: {} }, { name: 'a', emptyDir: {} }]), 'spec.volumes[1].name'],
    ['two volume types', (s) => (s.volumes = [{ name: 'a', emptyDir: {}, hostPath: { path: '/x' } }]), 'spec.volumes[0].emptyDir', 'Forbidden: may not specify more than 1 volume type'],
    ['secret volume', (s) => (s.volumes = [{ name: 'a', secret: {} }]), 'spec.volumes[0].secret.secretName'],
    ['node affinity', (s) => (s.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } }), 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms'],
    ['pod affinity topology', (s) => (s.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {} }] } }), 'spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey'],
    ['active deadline', (s) => (s.activeDeadlineSeconds = 0), 'spec.activeDeadlineSeconds'],
  ];
  for (const [name, mut, path, detail] of cases) {
    const errs = validatePodSpec(validSpec(mut), 'spec');
    const hit = errs.find((e) => e.field === path);
    assert.ok(hit, `${name}: expected error at ${path}, got ${JSON.stringify(errs)}`);
    if (detail) assert.equal(hit.detail, detail, name);
  }
});

test('template paths are prefixed', () => {
  const t: any = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c' }] } };
  defaultPodTemplateSpec(t);
  const errs = validatePodTemplateSpec(t, 'spec.template');
  assert.deepEqual(errs.map((e) => e.field), ['spec.template.spec.containers[0].image']);
});

test('QoS classes', () => {
  const pod = (resources: any[]) => ({ spec: { containers: resources.map((r, i) => ({ name: `c${i}`, image: 'x', resources: r })) } });
  assert.equal(podQOSClass(pod([{}])), 'BestEffort');
  assert.equal(podQOSClass(pod([{ requests: { cpu: '100m' } }])), 'Burstable');
  assert.equal(podQOSClass(pod([{ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }])), 'Guaranteed');
  assert.equal(podQOSClass(pod([{ requests: { cpu: '1000m', memory: '1Gi' }, limits: { cpu: '1', memory: '1024Mi' } }])), 'Guaranteed');
  assert.equal(podQOSClass(pod([{ limits: { cpu: '1', memory: '1Gi' } }, {}])), 'Burstable');
  assert.equal(podQOSClass(pod([{ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }])), 'Burstable');
});
