import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  getSchemaRegistry,
  patchSchemaFor,
  strictDecodingMessage,
  toV3,
  unknownFields,
  unknownFieldsError,
  unknownFieldWarnings,
} from './schema.ts';
import { testResources } from './schema/test-resources.ts';

const resources = testResources();

test('registry names models like upstream and marks top-level kinds with their GVK', () => {
  const reg = getSchemaRegistry(resources);
  const d = reg.definitions;
  assert.deepEqual(d['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  assert.deepEqual(d['io.k8s.api.apps.v1.DeploymentList']['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'DeploymentList', version: 'v1' }]);
  assert.deepEqual(d['io.k8s.api.core.v1.Pod']['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
  assert.ok(d['io.k8s.api.core.v1.PodSpec']);
  assert.ok(d['io.k8s.api.core.v1.PodTemplateSpec'], 'PodTemplateSpec belongs to core even though apps reaches it');
  assert.ok(d['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
  assert.ok(d['io.k8s.api.autoscaling.v1.Scale']);
  assert.equal(reg.definitionNameOf('V1DeploymentSpec'), 'io.k8s.api.apps.v1.DeploymentSpec');
  assert.equal(reg.definitionNameOf('V1LabelSelector'), 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector');
  assert.deepEqual(d['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].type, 'string');
  assert.equal(d['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].format, 'int-or-string');
  assert.equal(d['io.k8s.apimachinery.pkg.apis.meta.v1.Time'].format, 'date-time');
  assert.equal(d['io.k8s.apimachinery.pkg.api.resource.Quantity'].type, 'string');
});

test('definitions carry types, descriptions, required fields and refs', () => {
  const d = getSchemaRegistry(resources).definitions;
  const spec = d['io.k8s.api.apps.v1.DeploymentSpec'];
  assert.deepEqual(spec.required, ['selector', 'template']);
  assert.deepEqual({ type: spec.properties.replicas.type, format: spec.properties.replicas.format }, { type: 'integer', format: 'int32' });
  assert.match(spec.properties.replicas.description, /Number of desired pods/);
  assert.equal(spec.properties.template.$ref, '#/definitions/io.k8s.api.core.v1.PodTemplateSpec');
  assert.equal(spec.properties.strategy['x-kubernetes-patch-strategy'], 'retainKeys');
  const meta = d['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties;
  assert.equal(meta.creationTimestamp.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Time');
  assert.deepEqual(meta.labels.additionalProperties, { type: 'string' });
  const podSpec = d['io.k8s.api.core.v1.PodSpec'].properties;
  assert.equal(podSpec.containers.type, 'array');
  assert.equal(podSpec.containers.items.$ref, '#/definitions/io.k8s.api.core.v1.Container');
  assert.equal(podSpec.containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(podSpec.containers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(podSpec.volumes['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  const limits = d['io.k8s.api.core.v1.ResourceRequirements'].properties.limits;
  assert.equal(limits.additionalProperties.$ref, '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity');
  const rolling = d['io.k8s.api.apps.v1.RollingUpdateDeployment'].properties;
  assert.equal(rolling.maxSurge.$ref, '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString');
});

test('v3 definitions wrap refs with siblings in allOf and use component refs', () => {
  const v3 = getSchemaRegistry(resources).v3Definitions;
  const strategy = v3['io.k8s.api.apps.v1.DeploymentSpec'].properties.strategy;
  assert.deepEqual(strategy.allOf, [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy' }]);
  // client-node has no text of its own for ref fields: they carry the referenced type's description.
  assert.ok(strategy.description);
  assert.deepEqual(v3['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].oneOf, [{ type: 'integer' }, { type: 'string' }]);
  assert.deepEqual(toV3({ $ref: '#/definitions/X' }), { $ref: '#/components/schemas/X' });
});

test('unknownFields reports undeclared fields with upstream paths', () => {
  const obj = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', labels: { a: 'b' }, bogus: 1 },
    spec: {
      replicass: 3,
      selector: { matchLabels: { a: 'b' } },
      template: {
        metadata: { labels: { a: 'b' } },
        spec: { containers: [{ name: 'c', image: 'i' }, { name: 'd', imagee: 'i', ports: [{ containerPort: 80, hostPortt: 1 }] }] },
      },
      strategy: { rollingUpdate: { maxSurge: '25%' } },
    },
    status: { replicas: 1 },
  };
  assert.deepEqual(unknownFields('V1Deployment', obj), [
    'metadata.bogus',
    'spec.replicass',
    'spec.template.spec.containers[1].imagee',
    'spec.template.spec.containers[1].ports[0].hostPortt',
  ]);
  assert.deepEqual(unknownFields('V1Pod', { metadata: { managedFields: [{ fieldsV1: { 'f:x': {} } }] } }), []);
  assert.deepEqual(unknownFields('V1Pod', { spec: null }), []);
});

test('unknown field messages follow upstream strict decoding', () => {
  assert.deepEqual(unknownFieldWarnings(['spec.a', 'spec.b']), ['unknown field "spec.a"', 'unknown field "spec.b"']);
  assert.equal(strictDecodingMessage(['spec.a', 'spec.b']), 'strict decoding error: unknown field "spec.a", unknown field "spec.b"');
  const err = unknownFieldsError('Deployment', 'v1', ['spec.replicass']);
  assert.equal(err.code, 400);
  assert.equal(err.reason, 'BadRequest');
  assert.equal(err.message, 'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicass"');
});

test('patchSchemaFor exposes merge keys through nested fields', () => {
  const podSpec = patchSchemaFor('V1Deployment').field('spec')?.field('template')?.field('spec');
  assert.ok(podSpec);
  assert.deepEqual(podSpec.meta('containers'), { strategy: 'merge', mergeKey: 'name' });
  assert.deepEqual(podSpec.meta('volumes'), { strategy: 'merge,retainKeys', mergeKey: 'name' });
  assert.equal(podSpec.meta('tolerations'), undefined);
  assert.deepEqual(podSpec.field('containers')?.meta('ports'), { strategy: 'merge', mergeKey: 'containerPort' });
  assert.deepEqual(podSpec.field('containers')?.meta('env'), { strategy: 'merge', mergeKey: 'name' });
  assert.deepEqual(patchSchemaFor('V1Deployment').field('spec')?.meta('strategy'), { strategy: 'retainKeys' });
  assert.deepEqual(patchSchemaFor('V1Pod').field('metadata')?.meta('finalizers'), { strategy: 'merge' });
  assert.deepEqual(patchSchemaFor('V1Pod').field('metadata')?.meta('ownerReferences'), { strategy: 'merge', mergeKey: 'uid' });
  assert.deepEqual(patchSchemaFor('V1Pod').field('status')?.meta('conditions'), { strategy: 'merge', mergeKey: 'type' });
  assert.equal(patchSchemaFor('V1Pod').field('metadata')?.field('labels'), undefined);
  assert.equal(patchSchemaFor('NoSuchModel').field('x'), undefined);
});

test('checkFields accepts every scalar form a client sends and reports the first wrong type', async () => {
  const { checkFields } = await import('./schema.ts');
  const lease = { metadata: { name: 'l' }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: '2024-01-01T00:00:00.000000Z', renewTime: '2024-01-01T00:00:00.000000Z' } };
  assert.equal(checkFields('V1Lease', lease).mismatch, undefined);
  const pod = { metadata: { name: 'p', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: 1, memory: '1Gi' } }, ports: [{ containerPort: 80 }] }] } };
  assert.equal(checkFields('V1Pod', pod).mismatch, undefined);
  const bad = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: { a: 1 } }] } };
  assert.deepEqual(checkFields('V1Pod', bad).mismatch, { goField: 'Pod.spec.containers.image', found: 'object', expected: 'string' });
  assert.equal(checkFields('V1Pod', { metadata: 'x' }).mismatch?.found, 'string');
  assert.equal(checkFields('V1Pod', { spec: { containers: [{ ports: [{ containerPort: 1.5 }] }] } }).mismatch?.expected, 'int32');
});
