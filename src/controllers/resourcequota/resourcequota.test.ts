// ResourceQuota status against a real API server: hard mirrors spec, used counts objects and sums
// pod requests/limits of non-terminal pods, and follows changes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { startTestCluster, type TestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { createNamespace, eventually, testControllerEnv, type TestControllerEnv } from '../test-support.ts';
import { resourceQuotaController } from './index.ts';
import { podAmount, podUsage } from './usage.ts';

let tc: TestCluster;
let env: TestControllerEnv;

before(async () => {
  tc = await startTestCluster();
  env = testControllerEnv(tc.kubeconfig);
  await env.start(resourceQuotaController);
});
after(async () => {
  await env.stop();
  await tc.close();
});

const container = (cpu: string, mem: string, limCpu?: string) => ({
  name: 'c',
  image: 'nginx',
  resources: { requests: { cpu, memory: mem }, ...(limCpu ? { limits: { cpu: limCpu, memory: mem } } : {}) },
});

test('quota status tracks counts and compute usage', async () => {
  const ns = await createNamespace(tc.client, 'quota');
  const c = tc.client;
  const pods = { version: 'v1', resource: 'pods', namespace: ns };
  await c.create(pods, { metadata: { name: 'a' }, spec: { containers: [container('250m', '64Mi', '500m')] } });
  await c.create(pods, { metadata: { name: 'b' }, spec: { containers: [container('250m', '64Mi', '1')] } });
  await c.create({ version: 'v1', resource: 'configmaps', namespace: ns }, { metadata: { name: 'cm' } });
  await c.create({ group: 'apps', version: 'v1', resource: 'deployments', namespace: ns }, {
    metadata: { name: 'd' },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  });
  const hard = {
    pods: '10',
    'count/pods': '10',
    configmaps: '5',
    secrets: '5',
    services: '5',
    persistentvolumeclaims: '5',
    'requests.cpu': '2',
    'requests.memory': '1Gi',
    'limits.cpu': '4',
    'limits.memory': '2Gi',
    'count/deployments.apps': '3',
  };
  await c.create({ version: 'v1', resource: 'resourcequotas', namespace: ns }, { metadata: { name: 'q' }, spec: { hard } });
  const expected = {
    pods: '2',
    'count/pods': '2',
    configmaps: '1',
    secrets: '0',
    services: '0',
    persistentvolumeclaims: '0',
    'requests.cpu': '500m',
    'requests.memory': '128Mi',
    'limits.cpu': '1500m',
    'limits.memory': '128Mi',
    'count/deployments.apps': '1',
  };
  const ref = { version: 'v1', resource: 'resourcequotas', namespace: ns, name: 'q' };
  const q = await eventually('usage computed', async () => {
    const o = await c.get<KObject>(ref);
    return JSON.stringify(o.status?.used ?? {}) === JSON.stringify(expected) ? o : undefined;
  });
  assert.deepEqual(q.status.hard, hard);

  // A finished pod stops counting; a deleted configmap too.
  const b = await c.get<KObject>({ ...pods, name: 'b' });
  b.status = { ...(b.status ?? {}), phase: 'Succeeded' };
  await c.updateStatus({ ...pods, name: 'b' }, b);
  await c.delete({ version: 'v1', resource: 'configmaps', namespace: ns, name: 'cm' });
  await eventually('usage follows', async () => {
    const o = await c.get<KObject>(ref);
    const u = o.status?.used ?? {};
    return u.pods === '1' && u['requests.cpu'] === '250m' && u['limits.cpu'] === '500m' && u.configmaps === '0' ? o : undefined;
  });
});

test('pod requests: init containers count by their maximum, overhead is added', () => {
  const pod: KObject = {
    metadata: { name: 'p' },
    spec: {
      containers: [container('100m', '10Mi'), container('200m', '10Mi')],
      initContainers: [container('500m', '5Mi')],
      overhead: { cpu: '10m' },
    },
  };
  assert.equal(podAmount(pod, 'requests', 'cpu').toString(), '510m');
  assert.equal(podAmount(pod, 'requests', 'memory').toString(), '20Mi');
  assert.equal(podUsage([pod], ['cpu', 'limits.cpu'], 0).get('cpu')!.toString(), '510m');
  assert.equal(podUsage([pod], ['limits.cpu'], 0).get('limits.cpu')!.toString(), '0');
});
