import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from './api-types.ts';
import { containerResourceValue, extractFieldPathAsString, formatMap, podFieldValue, resourceFieldValue } from './fieldpath.ts';

const pod: Pod = {
  metadata: {
    name: 'web-1',
    namespace: 'shop',
    uid: 'uid-1',
    labels: { app: 'web', 'tier.example.com/role': 'front' },
    annotations: { note: 'say "hi"\nbye', 'a.b/c': 'x' },
  },
  spec: {
    nodeName: 'node-a',
    serviceAccountName: 'robot',
    containers: [
      { name: 'app', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '128Mi' } } },
      { name: 'side', resources: { limits: { cpu: '1500m' } } },
    ],
    initContainers: [{ name: 'init', resources: { requests: { cpu: '2' } } }],
  },
  status: { podIP: '10.42.0.7', podIPs: [{ ip: '10.42.0.7' }, { ip: 'fd00::7' }], hostIP: '192.168.1.5', hostIPs: [{ ip: '192.168.1.5' }] },
};

test('extractFieldPathAsString: metadata fields, subscripts and errors as upstream', () => {
  const ok: [string, string][] = [
    ['metadata.name', 'web-1'],
    ['metadata.namespace', 'shop'],
    ['metadata.uid', 'uid-1'],
    ['metadata.labels', 'app="web"\ntier.example.com/role="front"'],
    ['metadata.annotations', 'a.b/c="x"\nnote="say \\"hi\\"\\nbye"'],
    ["metadata.labels['app']", 'web'],
    ["metadata.labels['missing']", ''],
    ["metadata.annotations['a.b/c']", 'x'],
  ];
  for (const [path, want] of ok) assert.equal(extractFieldPathAsString(pod, path), want, path);
  const bad: [string, RegExp][] = [
    ['spec.nodeName', /unsupported fieldPath: spec.nodeName$/],
    ["metadata.name['x']", /fieldPath "metadata.name\['x'\]" does not support subscript$/],
    ["metadata.labels['-bad-']", /invalid key subscript in metadata.labels\['-bad-'\]: name part must consist/],
  ];
  for (const [path, re] of bad) assert.throws(() => extractFieldPathAsString(pod, path), re, path);
});

test('formatMap sorts keys and Go-quotes values', () => {
  assert.equal(formatMap({ b: '2', a: 'tab\there' }), 'a="tab\\there"\nb="2"');
  assert.equal(formatMap(undefined), '');
});

test('podFieldValue: env fieldRefs including spec and status fields', () => {
  const cases: [string, string][] = [
    ['spec.nodeName', 'node-a'],
    ['spec.host', 'node-a'],
    ['spec.serviceAccountName', 'robot'],
    ['status.podIP', '10.42.0.7'],
    ['status.podIPs', '10.42.0.7,fd00::7'],
    ['status.hostIP', '192.168.1.5'],
    ['status.hostIPs', '192.168.1.5'],
    ['metadata.name', 'web-1'],
    ["metadata.labels['app']", 'web'],
  ];
  for (const [fieldPath, want] of cases) assert.equal(podFieldValue(pod, { fieldPath }), want, fieldPath);
  assert.equal(podFieldValue(pod, { fieldPath: 'status.podIP' }, { podIPs: ['10.42.0.9'] }), '10.42.0.9');
  assert.throws(() => podFieldValue(pod, { fieldPath: 'spec.containers' }), /^Error: field label not supported: spec.containers$/);
  assert.throws(() => podFieldValue(pod, { apiVersion: 'v2', fieldPath: 'metadata.name' }), /unsupported pod version: v2/);
});

test('containerResourceValue: ceil(amount / divisor), cpu in millis', () => {
  const c: Container = { name: 'c', resources: { requests: { cpu: '250m', memory: '64Mi', 'ephemeral-storage': '1Gi' }, limits: { cpu: '1500m', memory: '100M' } } };
  const cases: [string, string | undefined, string][] = [
    ['requests.cpu', undefined, '1'],
    ['requests.cpu', '1m', '250'],
    ['limits.cpu', undefined, '2'],
    ['limits.cpu', '1m', '1500'],
    ['requests.memory', undefined, String(64 * 1024 * 1024)],
    ['requests.memory', '1Mi', '64'],
    ['limits.memory', '1Mi', '96'],
    ['requests.ephemeral-storage', '1Gi', '1'],
    ['limits.ephemeral-storage', undefined, '0'],
  ];
  for (const [resource, divisor, want] of cases) assert.equal(containerResourceValue({ resource, divisor }, c), want, `${resource}/${divisor}`);
  assert.throws(() => containerResourceValue({ resource: 'limits.gpu' }, c), /unsupported container resource : limits.gpu/);
});

test('resourceFieldValue: limits default to node allocatable; containerName picks another container', () => {
  const alloc = { cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi' };
  const app = pod.spec.containers[0];
  assert.equal(resourceFieldValue({ resource: 'limits.cpu' }, pod, app, alloc), '4');
  assert.equal(resourceFieldValue({ resource: 'limits.memory', divisor: '1Mi' }, pod, app, alloc), '128');
  assert.equal(resourceFieldValue({ resource: 'limits.cpu', containerName: 'side', divisor: '1m' }, pod, app, alloc), '1500');
  assert.equal(resourceFieldValue({ resource: 'requests.cpu', containerName: 'init' }, pod, app, alloc), '2');
  assert.throws(() => resourceFieldValue({ resource: 'limits.cpu', containerName: 'nope' }, pod, app, alloc), /container nope not found/);
});
