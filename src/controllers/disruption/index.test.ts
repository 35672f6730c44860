import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { ApiError, resourcePath } from '../../client/api-client.ts';
import { startTestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { eventually, testControllerEnv } from '../test-support.ts';
import { budgetNumbers, disruptionsAllowed, scaledValue } from './budget.ts';
import { disruptionController } from './index.ts';

test('budget arithmetic rounds percentages up', () => {
  assert.equal(scaledValue('50%', 3, true), 2);
  assert.equal(scaledValue(2, 10, true), 2);
  const pods = [1, 2, 3].map(() => ({ metadata: {} }));
  assert.deepEqual(budgetNumbers({ metadata: {}, spec: { minAvailable: 2 } }, pods, () => 99), { expectedPods: 3, desiredHealthy: 2 });
  assert.deepEqual(budgetNumbers({ metadata: {}, spec: { maxUnavailable: '34%' } }, pods, () => 3), { expectedPods: 3, desiredHealthy: 1 });
  assert.equal(disruptionsAllowed(3, 2, 3), 1);
  assert.equal(disruptionsAllowed(1, 2, 3), 0);
});

test('PDB status follows the pods; the eviction subresource answers 429 when no disruption is allowed', async () => {
  const cluster = await startTestCluster();
  const c = cluster.client;
  const PODS = { version: 'v1', resource: 'pods', namespace: 'default' };
  const PDBS = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespace: 'default' };
  const env = testControllerEnv(c);
  try {
    await env.start(disruptionController);
    for (const name of ['p1', 'p2']) {
      const pod = await c.create<KObject>(PODS, { metadata: { name, labels: { app: 'db' } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] } });
      pod.status = { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] };
      await c.updateStatus({ ...PODS, name }, pod);
    }
    await c.create(PDBS, { metadata: { name: 'db' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'db' } } } });
    const pdb = await eventually('pdb status', async () => {
      const p = await c.get<KObject>({ ...PDBS, name: 'db' });
      return p.status?.observedGeneration === 1 && p.status.currentHealthy === 2 ? p : undefined;
    });
    assert.equal(pdb.status.expectedPods, 2);
    assert.equal(pdb.status.desiredHealthy, 1);
    assert.equal(pdb.status.disruptionsAllowed, 1);
    const cond = pdb.status.conditions.find((x: any) => x.type === 'DisruptionAllowed');
    assert.equal(cond.status, 'True');
    assert.equal(cond.reason, 'SufficientPods');

    // One eviction goes through; the second is refused until the budget allows it again.
    await c.request('POST', resourcePath({ ...PODS, name: 'p1', subresource: 'eviction' }), { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p1', namespace: 'default' } });
    await eventually('budget exhausted', async () => {
      const p = await c.get<KObject>({ ...PDBS, name: 'db' });
      return p.status.disruptionsAllowed === 0 && p.status.conditions.find((x: any) => x.type === 'DisruptionAllowed').reason === 'InsufficientPods' ? true : undefined;
    });
    await assert.rejects(
      c.request('POST', resourcePath({ ...PODS, name: 'p2', subresource: 'eviction' }), { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p2', namespace: 'default' } }),
      (e: unknown) => e instanceof ApiError && e.code === 429,
    );

    // A percentage needs the pods' controller scale: bare pods make the sync fail safe.
    await c.create(PDBS, { metadata: { name: 'pct' }, spec: { maxUnavailable: '50%', selector: { matchLabels: { app: 'db' } } } });
    const pct = await eventually('SyncFailed', async () => {
      const p = await c.get<KObject>({ ...PDBS, name: 'pct' });
      return p.status?.conditions?.find((x: any) => x.reason === 'SyncFailed') ? p : undefined;
    });
    assert.equal(pct.status.disruptionsAllowed, 0);
  } finally {
    await env.stop();
    await cluster.close();
  }
});
