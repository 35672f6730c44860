import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiServices, availableCell } from './api-service.ts';

const fields = (errs: { field: string }[]) => errs.map((e) => e.field);

test('APIService: name is version.group, priorities, service, caBundle rules', () => {
  const svc: any = { metadata: { name: 'v1beta1.metrics.k8s.io' }, spec: { group: 'metrics.k8s.io', version: 'v1beta1', groupPriorityMinimum: 100, versionPriority: 100, insecureSkipTLSVerify: true, service: { name: 'metrics-server', namespace: 'kube-system' } } };
  apiServices.strategy.defaults!(svc);
  assert.equal(svc.spec.service.port, 443);
  assert.deepEqual(apiServices.strategy.validate!(svc), []);
  const v = (o: any) => fields(apiServices.strategy.validate!(o));
  assert.deepEqual(v({ ...svc, metadata: { name: 'v1.metrics.k8s.io' } }), ['metadata.name']);
  assert.match(apiServices.strategy.validate!({ ...svc, metadata: { name: 'v1.metrics.k8s.io' } })[0].detail, /must be `spec.version\+"."\+spec.group`: "v1beta1.metrics.k8s.io"/);
  assert.deepEqual(v({ ...svc, spec: { ...svc.spec, groupPriorityMinimum: 0, versionPriority: 2000 } }), ['spec.groupPriorityMinimum', 'spec.versionPriority']);
  assert.deepEqual(v({ ...svc, spec: { ...svc.spec, caBundle: 'Cg==' } }), ['spec.insecureSkipTLSVerify']);
  assert.deepEqual(v({ metadata: { name: 'v1.local.io' }, spec: { group: 'local.io', version: 'v1', groupPriorityMinimum: 1, versionPriority: 1, insecureSkipTLSVerify: true } }), ['spec.insecureSkipTLSVerify']);
  assert.deepEqual(v({ metadata: { name: 'v2.' }, spec: { group: '', version: 'v2', groupPriorityMinimum: 1, versionPriority: 1 } }), ['spec.group']);
  assert.deepEqual(v({ metadata: { name: 'v1.' }, spec: { group: '', version: 'v1', groupPriorityMinimum: 18000, versionPriority: 1 } }), []);
});

test('APIService printer: SERVICE and AVAILABLE as upstream', () => {
  const now = Date.parse('2024-01-01T00:00:05Z');
  const local = { metadata: { name: 'v1.apps', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: {}, status: { conditions: [{ type: 'Available', status: 'True', reason: 'Local' }] } };
  assert.deepEqual(apiServices.table!.row(local, now), ['v1.apps', 'Local', 'True', '5s']);
  const down = { metadata: { name: 'v1beta1.metrics.k8s.io', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { service: { namespace: 'kube-system', name: 'metrics-server' } }, status: { conditions: [{ type: 'Available', status: 'False', reason: 'MissingEndpoints' }] } };
  assert.deepEqual(apiServices.table!.row(down, now), ['v1beta1.metrics.k8s.io', 'kube-system/metrics-server', 'False (MissingEndpoints)', '5s']);
  assert.equal(availableCell({ metadata: {} }), 'Unknown');
});
