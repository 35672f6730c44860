// The garbage collector and namespace deletion handle custom resources like built-in kinds: they
// find them through discovery, a custom resource owned by a ConfigMap goes with it, and deleting
// a namespace deletes the custom resources in it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { KObject } from '../api/types.ts';
import { isNotFound } from '../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../kubelet/simulated/test-cluster.ts';
import { createNamespace, eventually, testControllerEnv, type TestControllerEnv } from '../controllers/test-support.ts';
import { createGarbageCollector } from '../controllers/garbagecollector/index.ts';
import { createNamespaceController } from '../controllers/namespace/index.ts';

let tc: TestCluster;
let env: TestControllerEnv;
const crontabs = (namespace: string) => ({ group: 'stable.example.com', version: 'v1', resource: 'crontabs', namespace });

before(async () => {
  tc = await startTestCluster();
  const crd = YAML.parse(readFileSync(new URL('./testdata/crontab-crd.yaml', import.meta.url), 'utf8'));
  await tc.client.create({ group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' }, crd);
  await eventually('CronTabs served', async () => {
    try {
      return await tc.client.list(crontabs('default'));
    } catch {
      return undefined;
    }
  });
  env = testControllerEnv(tc.kubeconfig);
  await env.start(
    (ctx) => createGarbageCollector(ctx, { discoveryPeriodMs: 200 }),
    (ctx) => createNamespaceController(ctx, { maxRecheckMs: 500 }),
  );
});

after(async () => {
  await env.stop();
  await tc.close();
});

async function gone(ref: any, name: string): Promise<true | undefined> {
  try {
    await tc.client.get({ ...ref, name });
    return undefined;
  } catch (e) {
    if (isNotFound(e)) return true;
    throw e;
  }
}

test('a custom resource owned by a ConfigMap is garbage collected with it', async () => {
  const cms = { version: 'v1', resource: 'configmaps', namespace: 'default' };
  const owner = await tc.client.create<KObject>(cms, { metadata: { name: 'owner' } });
  await tc.client.create(crontabs('default'), {
    apiVersion: 'stable.example.com/v1',
    kind: 'CronTab',
    metadata: { name: 'owned', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid! }] },
    spec: { cronSpec: '* * * * *' },
  });
  // A ConfigMap owned by the custom resource goes too once its owner is collected.
  const cr = await tc.client.get<KObject>({ ...crontabs('default'), name: 'owned' });
  await tc.client.create(cms, { metadata: { name: 'grandchild', ownerReferences: [{ apiVersion: 'stable.example.com/v1', kind: 'CronTab', name: 'owned', uid: cr.metadata.uid! }] } });
  await tc.client.delete({ ...cms, name: 'owner' });
  await eventually('custom resource collected', () => gone(crontabs('default'), 'owned'), 30_000);
  await eventually('its dependent collected', () => gone(cms, 'grandchild'), 30_000);
});

test('deleting a namespace deletes its custom resources', async () => {
  const ns = await createNamespace(tc.client, 'cr-doomed');
  await tc.client.create(crontabs(ns), { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'c1' }, spec: {} });
  await tc.client.delete({ version: 'v1', resource: 'namespaces', name: ns });
  await eventually('namespace gone', () => gone({ version: 'v1', resource: 'namespaces' }, ns), 30_000);
  const left = await tc.client.list(crontabs(ns));
  assert.equal(left.items.length, 0);
});
