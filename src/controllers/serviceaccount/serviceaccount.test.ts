// The default ServiceAccount and the kube-root-ca.crt ConfigMap appear in new namespaces and come
// back after deletion (or, for the ConfigMap, after an edit).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { createNamespace, eventually, testControllerEnv, type TestControllerEnv } from '../test-support.ts';
import { serviceAccountController } from './index.ts';
import { rootCACertPublisherController, ROOT_CA_CONFIGMAP, ROOT_CA_DESCRIPTION } from '../rootcacertpublisher/index.ts';

let tc: TestCluster;
let env: TestControllerEnv;
const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

before(async () => {
  tc = await startTestCluster();
  env = testControllerEnv(tc.kubeconfig, { rootCAPem: pem });
  await env.start(serviceAccountController, rootCACertPublisherController);
});
after(async () => {
  await env.stop();
  await tc.close();
});

const get = async (ref: any): Promise<KObject | undefined> => {
  try {
    return await tc.client.get<KObject>(ref);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
};

test('a new namespace gets the default ServiceAccount, recreated when deleted', async () => {
  const ns = await createNamespace(tc.client, 'sa-test');
  const ref = { version: 'v1', resource: 'serviceaccounts', namespace: ns, name: 'default' };
  const first = await eventually('default SA', () => get(ref));
  await tc.client.delete(ref);
  const second = await eventually('default SA recreated', async () => {
    const sa = await get(ref);
    return sa && sa.metadata.uid !== first.metadata.uid ? sa : undefined;
  });
  assert.equal(second.metadata.name, 'default');
  // Existing namespaces got one too.
  await eventually('default SA in kube-system', () => get({ ...ref, namespace: 'kube-system' }));
});

test('kube-root-ca.crt is published, restored after an edit and after deletion', async () => {
  const ns = await createNamespace(tc.client, 'ca-test');
  const ref = { version: 'v1', resource: 'configmaps', namespace: ns, name: ROOT_CA_CONFIGMAP };
  const cm = await eventually('root CA configmap', () => get(ref));
  assert.deepEqual(cm.data, { 'ca.crt': pem });
  assert.equal(cm.metadata.annotations?.['kubernetes.io/description'], ROOT_CA_DESCRIPTION);
  await tc.client.patch(ref, 'merge', { data: { 'ca.crt': 'tampered', extra: 'x' } });
  await eventually('data restored', async () => {
    const c = await get(ref);
    return c && JSON.stringify(c.data) === JSON.stringify({ 'ca.crt': pem }) ? c : undefined;
  });
  await tc.client.delete(ref);
  await eventually('recreated', async () => {
    const c = await get(ref);
    return c?.data?.['ca.crt'] === pem ? c : undefined;
  });
});

test('nothing is created in a terminating namespace', async () => {
  const ns = await createNamespace(tc.client, 'ending');
  await eventually('default SA', () => get({ version: 'v1', resource: 'serviceaccounts', namespace: ns, name: 'default' }));
  await tc.client.delete({ version: 'v1', resource: 'namespaces', name: ns });
  await tc.client.delete({ version: 'v1', resource: 'serviceaccounts', namespace: ns, name: 'default' });
  // Wait for a later event to pass through the controller's caches, then check nothing came back.
  await createNamespace(tc.client, 'after-ending');
  await eventually('later namespace served', () => get({ version: 'v1', resource: 'serviceaccounts', namespace: 'after-ending', name: 'default' }));
  assert.equal(await get({ version: 'v1', resource: 'serviceaccounts', namespace: ns, name: 'default' }), undefined);
});
