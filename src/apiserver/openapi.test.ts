import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openAPIV2, openAPIV3, openAPIV3Document, openAPIV3Index, openAPIV2Document } from './openapi.ts';
import { testResources } from '../api/schema/test-resources.ts';

const resources = testResources();

test('v3 index lists group versions with hash-qualified URLs', () => {
  const idx = openAPIV3Index(resources);
  assert.deepEqual(Object.keys(idx.paths), ['api/v1', 'apis/apps/v1']);
  const d = openAPIV3Document(resources, 'apis/apps/v1')!;
  assert.equal(idx.paths['apis/apps/v1'].serverRelativeURL, `/openapi/v3/apis/apps/v1?hash=${d.hash}`);
  assert.match(d.hash, /^[0-9A-F]{128}$/);
  assert.equal(d.etag, `"${d.hash}"`);
  assert.equal(openAPIV3Document(resources, 'apis/apps/v1'), d, 'memoised');
  assert.equal(openAPIV3(resources, 'apis/batch/v1'), undefined);
});

test('v3 apps/v1 document: PATCH carries fieldValidation and the GVK', () => {
  const doc = openAPIV3(resources, 'apis/apps/v1') as any;
  assert.equal(doc.openapi, '3.0.0');
  const item = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
  const names = item.patch.parameters.map((p: any) => p.name);
  assert.deepEqual(names, ['dryRun', 'fieldManager', 'fieldValidation', 'force']);
  assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: 'apps', version: 'v1', kind: 'Deployment' });
  assert.equal(item.patch['x-kubernetes-action'], 'patch');
  assert.equal(item.patch.operationId, 'patchAppsV1NamespacedDeployment');
  assert.ok(item.patch.requestBody.content['application/strategic-merge-patch+json']);
  assert.deepEqual(item.parameters.map((p: any) => p.name), ['name', 'namespace', 'pretty']);
  assert.ok(item.put.parameters.some((p: any) => p.name === 'fieldValidation'));
  const coll = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments'];
  assert.ok(coll.post.parameters.some((p: any) => p.name === 'fieldValidation'));
  assert.equal(coll.get.operationId, 'listAppsV1NamespacedDeployment');
  assert.ok(doc.paths['/apis/apps/v1/deployments'].get);
  assert.ok(doc.paths['/apis/apps/v1/watch/namespaces/{namespace}/deployments/{name}'].get);
  const scale = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'];
  assert.deepEqual(scale.patch['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  assert.ok(scale.patch.parameters.some((p: any) => p.name === 'fieldValidation'));
  const schemas = doc.components.schemas;
  assert.deepEqual(schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  assert.ok(schemas['io.k8s.api.core.v1.PodSpec']);
  assert.ok(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Patch']);
  assert.equal(schemas['io.k8s.api.core.v1.Namespace'], undefined, 'only the group version closure');
  const refs = JSON.stringify(doc).match(/"\$ref":"([^"]+)"/g)!;
  for (const r of refs) assert.ok(schemas[r.slice(8, -1).replace('#/components/schemas/', '')], `dangling ${r}`);
});

test('v3 core document has cluster-scoped paths', () => {
  const doc = openAPIV3(resources, 'api/v1') as any;
  assert.ok(doc.paths['/api/v1/namespaces/{name}'].patch);
  assert.ok(doc.paths['/api/v1/namespaces/{name}/status'].put);
  assert.equal(doc.paths['/api/v1/namespaces'].delete, undefined, 'no deletecollection verb');
  assert.equal(doc.paths['/api/v1/namespaces/{namespace}/pods'].get.operationId, 'listCoreV1NamespacedPod');
});

test('v2 document', () => {
  const doc = openAPIV2(resources) as any;
  assert.equal(doc.swagger, '2.0');
  assert.match(doc.info.version, /^v1\.32\./);
  assert.ok(doc.definitions['io.k8s.api.apps.v1.Deployment']);
  const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
  assert.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation'));
  assert.equal(patch.parameters[0].in, 'body');
  assert.ok(openAPIV2Document(resources).body.length > 1000);
});
