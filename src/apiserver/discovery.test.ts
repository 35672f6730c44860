import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoveryContentTypes, discoveryDocuments, negotiateDiscovery, storageVersionHash } from './discovery.ts';
import { testResources } from '../api/schema/test-resources.ts';

const docs = discoveryDocuments(testResources(), '10.0.0.1:6443');

test('legacy /api and /apis', () => {
  assert.deepEqual(docs.legacy['/api'], {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '10.0.0.1:6443' }],
  });
  assert.deepEqual(docs.legacy['/apis'], {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }],
  });
  assert.equal((docs.legacy['/apis/apps'] as any).kind, 'APIGroup');
});

test('APIResourceList with subresources', () => {
  const core = docs.legacy['/api/v1'] as any;
  assert.equal(core.groupVersion, 'v1');
  const names = core.resources.map((r: any) => r.name);
  assert.deepEqual(names.slice(0, 3), ['namespaces', 'namespaces/finalize', 'namespaces/status']);
  assert.ok(names.includes('pods/log') && names.includes('pods/exec') && names.includes('pods/binding'));
  const pods = core.resources.find((r: any) => r.name === 'pods');
  assert.deepEqual(pods, {
    name: 'pods',
    singularName: 'pod',
    namespaced: true,
    kind: 'Pod',
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['po'],
    categories: ['all'],
    storageVersionHash: storageVersionHash('', 'v1', 'Pod'),
  });
  assert.deepEqual(core.resources.find((r: any) => r.name === 'pods/eviction'), {
    name: 'pods/eviction',
    singularName: '',
    namespaced: true,
    group: 'policy',
    version: 'v1',
    kind: 'Eviction',
    verbs: ['create'],
  });
  const apps = docs.legacy['/apis/apps/v1'] as any;
  assert.deepEqual(apps.resources.find((r: any) => r.name === 'deployments/scale'), {
    name: 'deployments/scale',
    singularName: '',
    namespaced: true,
    group: 'autoscaling',
    version: 'v1',
    kind: 'Scale',
    verbs: ['get', 'patch', 'update'],
  });
  assert.match(storageVersionHash('apps', 'v1', 'Deployment'), /^[A-Za-z0-9+/]{11}=$/);
});

test('aggregated discovery v2 shape', () => {
  const apis = docs.aggregated.v2['/apis'] as any;
  assert.equal(apis.kind, 'APIGroupDiscoveryList');
  assert.equal(apis.apiVersion, 'apidiscovery.k8s.io/v2');
  assert.deepEqual(apis.items[0].metadata, { name: 'apps', creationTimestamp: null });
  const v1 = apis.items[0].versions[0];
  assert.equal(v1.version, 'v1');
  assert.equal(v1.freshness, 'Current');
  const dep = v1.resources[0];
  assert.equal(dep.resource, 'deployments');
  assert.deepEqual(dep.responseKind, { group: 'apps', version: 'v1', kind: 'Deployment' });
  assert.equal(dep.scope, 'Namespaced');
  assert.equal(dep.singularResource, 'deployment');
  assert.deepEqual(dep.shortNames, ['deploy']);
  assert.deepEqual(dep.subresources, [
    { subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] },
    { subresource: 'status', responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' }, verbs: ['get', 'patch', 'update'] },
  ]);
  const api = docs.aggregated.v2['/api'] as any;
  assert.deepEqual(api.items[0].metadata, { creationTimestamp: null });
  const ns = api.items[0].versions[0].resources.find((r: any) => r.resource === 'namespaces');
  assert.equal(ns.scope, 'Cluster');
  assert.equal((docs.aggregated.v2beta1['/api'] as any).apiVersion, 'apidiscovery.k8s.io/v2beta1');
});

test('negotiateDiscovery', () => {
  const kubectl =
    'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
  assert.equal(negotiateDiscovery(kubectl), 'v2');
  assert.equal(negotiateDiscovery('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json'), 'v2beta1');
  assert.equal(negotiateDiscovery('application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json'), 'legacy');
  assert.equal(negotiateDiscovery('application/json'), 'legacy');
  assert.equal(negotiateDiscovery(undefined), 'legacy');
  assert.equal(negotiateDiscovery('application/json;q=0.5,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'), 'v2');
  assert.equal(discoveryContentTypes.v2, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
});
