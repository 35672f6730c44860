import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { RS_REF, replicaSetController } from '../replicaset/index.ts';
import { isPodActive } from '../../api/core/pod-state.ts';
import { createNamespace, listPods, runControllers, startControllerTestCluster, waitFor, type ControllerTestCluster } from '../test-support.ts';
import { startControllerManager } from '../manager.ts';
import { DEPLOY_REF, deploymentController } from './index.ts';
import { computeHash, equalIgnoreHash, maxSurge, maxUnavailable, REVISION_ANNOTATION } from './util.ts';

function deployment(name: string, replicas: number, image = 'nginx:1', extra: Record<string, any> = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
      ...extra,
    },
  };
}

describe('deployment utils', () => {
  test('hash is stable, name-safe and changes with the template', () => {
    const t = { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
    const h = computeHash(t);
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(h, computeHash(structuredClone(t)));
    assert.notEqual(h, computeHash({ ...t, spec: { containers: [{ name: 'c', image: 'y' }] } }));
    assert.notEqual(h, computeHash(t, 1));
    assert.ok(equalIgnoreHash(t, { metadata: { labels: { a: '1', 'pod-template-hash': h } }, spec: t.spec }));
  });
  test('a template sent back by rollout undo (creationTimestamp: null) matches its old ReplicaSet', () => {
    const t = { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'x', resources: {} }] } };
    const back = { metadata: { creationTimestamp: null, labels: { a: '1', 'pod-template-hash': 'x' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
    assert.ok(equalIgnoreHash(t, back));
    assert.equal(computeHash(t), computeHash({ ...back, metadata: { creationTimestamp: null, labels: { a: '1' } } }));
  });
  test('fenceposts: surge rounds up, unavailable down, never both zero', () => {
    const d = (replicas: number, maxSurge: unknown, maxUnavailable: unknown) =>
      ({ metadata: {}, spec: { replicas, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } } } }) as KObject;
    assert.equal(maxSurge(d(10, '25%', '25%')), 3);
    assert.equal(maxUnavailable(d(10, '25%', '25%')), 2);
    assert.equal(maxUnavailable(d(3, 0, '10%')), 1);
    assert.equal(maxSurge(d(3, 2, 0)), 2);
    assert.equal(maxUnavailable(d(2, 0, 5)), 2);
  });
});

describe('Deployment controller (real API server)', () => {
  let tc: ControllerTestCluster;
  let ctrl: Awaited<ReturnType<typeof runControllers>>;
  before(async () => {
    tc = await startControllerTestCluster({ nodes: 3 });
    ctrl = await runControllers(tc.client, [replicaSetController, deploymentController]);
  });
  after(async () => {
    await ctrl?.stop();
    await tc?.close();
  });

  const getD = (ns: string, name: string) => tc.client.get({ ...DEPLOY_REF, namespace: ns, name });
  const rsList = async (ns: string) => (await tc.client.list({ ...RS_REF, namespace: ns })).items;
  const complete = async (ns: string, name: string) => {
    const d = await getD(ns, name);
    const st = d.status ?? {};
    const want = d.spec.replicas;
    const prog = st.conditions?.find((c: any) => c.type === 'Progressing');
    return st.observedGeneration >= (d.metadata.generation ?? 0) && st.updatedReplicas === want && st.replicas === want && st.availableReplicas === want && prog?.reason === 'NewReplicaSetAvailable'
      ? d
      : undefined;
  };

  test('create → ReplicaSet and pods Running, Available and complete', async () => {
    const ns = await createNamespace(tc.client, 'd-create');
    await tc.client.create({ ...DEPLOY_REF, namespace: ns }, deployment('web', 3));
    const d = await waitFor(() => complete(ns, 'web'), 20_000, 'web complete');
    const avail = d.status.conditions.find((c: any) => c.type === 'Available');
    assert.equal(avail.status, 'True');
    assert.equal(avail.reason, 'MinimumReplicasAvailable');
    assert.equal(avail.message, 'Deployment has minimum availability.');
    assert.equal(d.metadata.annotations![REVISION_ANNOTATION], '1');
    const rss = await rsList(ns);
    assert.equal(rss.length, 1);
    const rs = rss[0]!;
    const hash = rs.metadata.labels!['pod-template-hash'];
    assert.equal(rs.metadata.name, `web-${hash}`);
    assert.equal(rs.spec.selector.matchLabels['pod-template-hash'], hash);
    assert.equal(rs.metadata.annotations!['deployment.kubernetes.io/desired-replicas'], '3');
    assert.equal(rs.metadata.annotations!['deployment.kubernetes.io/max-replicas'], '4');
    assert.equal(rs.metadata.annotations![REVISION_ANNOTATION], '1');
    const prog = d.status.conditions.find((c: any) => c.type === 'Progressing');
    assert.equal(prog.message, `ReplicaSet "${rs.metadata.name}" has successfully progressed.`);
    await waitFor(async () => {
      const evs = (await tc.client.list({ version: 'v1', resource: 'events', namespace: ns })).items;
      return evs.some((e: any) => e.reason === 'ScalingReplicaSet' && e.message === `Scaled up replica set ${rs.metadata.name} to 3 from 0`);
    }, 10_000, 'ScalingReplicaSet event');
  });

  test('image change rolls out within maxSurge/maxUnavailable; rollback restores the old RS', async () => {
    const ns = await createNamespace(tc.client, 'd-roll');
    const spec = deployment('app', 4, 'nginx:1', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } });
    await tc.client.create({ ...DEPLOY_REF, namespace: ns }, spec);
    await waitFor(() => complete(ns, 'app'), 20_000, 'first rollout');
    const [rs1] = await rsList(ns);

    // Watch ReplicaSets: at every point the total desired stays within replicas + maxSurge.
    let maxTotal = 0;
    const sizes = new Map<string, number>();
    const watch = tc.client.watch({ ...RS_REF, namespace: ns }, {}, (ev) => {
      if (ev.type === 'BOOKMARK' || ev.type === 'ERROR') return;
      sizes.set(ev.object.metadata.name!, ev.type === 'DELETED' ? 0 : (ev.object.spec?.replicas ?? 0));
      maxTotal = Math.max(maxTotal, [...sizes.values()].reduce((a, b) => a + b, 0));
    }, () => {});
    // And pods: ready pods never drop below replicas - maxUnavailable.
    let minReady = Infinity;
    const ready = new Map<string, boolean>();
    let counting = false;
    const podWatch = tc.client.watch({ version: 'v1', resource: 'pods', namespace: ns }, {}, (ev) => {
      if (ev.type === 'BOOKMARK' || ev.type === 'ERROR') return;
      const p = ev.object;
      const isReady = ev.type !== 'DELETED' && isPodActive(p) && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
      ready.set(p.metadata.name!, isReady);
      if (counting) minReady = Math.min(minReady, [...ready.values()].filter(Boolean).length);
    }, () => {});
    await waitFor(() => ready.size >= 4, 5_000, 'pod watch primed');
    counting = true;

    await tc.client.patch({ ...DEPLOY_REF, namespace: ns, name: 'app' }, 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } });
    const d2 = await waitFor(async () => {
      const d = await complete(ns, 'app');
      return d && d.metadata.annotations![REVISION_ANNOTATION] === '2' ? d : undefined;
    }, 30_000, 'second rollout');
    const rss = await rsList(ns);
    assert.equal(rss.length, 2);
    const old = rss.find((r) => r.metadata.name === rs1!.metadata.name)!;
    assert.equal(old.spec.replicas, 0);
    const pods = (await listPods(tc.client, ns)).filter(isPodActive);
    assert.ok(pods.every((p) => p.spec.containers[0].image === 'nginx:2'));
    assert.ok(maxTotal <= 5, `total replicas reached ${maxTotal}`);
    assert.ok(minReady >= 3, `ready pods dropped to ${minReady}`);
    assert.equal(d2.status.updatedReplicas, 4);
    watch.abort();
    podWatch.abort();

    // kubectl rollout undo: put the old template back (without the hash label).
    const tmpl = structuredClone(old.spec.template);
    delete tmpl.metadata.labels['pod-template-hash'];
    const cur = await getD(ns, 'app');
    await tc.client.update({ ...DEPLOY_REF, namespace: ns, name: 'app' }, { ...cur, spec: { ...cur.spec, template: tmpl } });
    await waitFor(async () => {
      const d = await complete(ns, 'app');
      return d && d.metadata.annotations![REVISION_ANNOTATION] === '3' ? d : undefined;
    }, 30_000, 'rollback');
    const after = await rsList(ns);
    assert.equal(after.length, 2, 'no new ReplicaSet for a rollback');
    const back = after.find((r) => r.metadata.name === rs1!.metadata.name)!;
    assert.equal(back.spec.replicas, 4);
    assert.equal(back.metadata.annotations![REVISION_ANNOTATION], '3');
    assert.equal(back.metadata.annotations!['deployment.kubernetes.io/revision-history'], '1');
  });

  test('Recreate scales old to zero before creating new pods', async () => {
    const ns = await createNamespace(tc.client, 'd-recreate');
    await tc.client.create({ ...DEPLOY_REF, namespace: ns }, deployment('rec', 2, 'a:1', { strategy: { type: 'Recreate' } }));
    await waitFor(() => complete(ns, 'rec'), 20_000, 'first rollout');
    let overlap = false;
    const live = new Map<string, string>();
    const w = tc.client.watch({ version: 'v1', resource: 'pods', namespace: ns }, {}, (ev) => {
      if (ev.type === 'BOOKMARK' || ev.type === 'ERROR') return;
      const p = ev.object;
      if (ev.type === 'DELETED') live.delete(p.metadata.name!);
      else live.set(p.metadata.name!, p.spec.containers[0].image);
      if (new Set(live.values()).size > 1) overlap = true;
    }, () => {});
    await tc.client.patch({ ...DEPLOY_REF, namespace: ns, name: 'rec' }, 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'a:2' }] } } } });
    await waitFor(async () => {
      const d = await complete(ns, 'rec');
      return d && d.metadata.annotations![REVISION_ANNOTATION] === '2' ? d : undefined;
    }, 30_000, 'recreate rollout');
    w.abort();
    assert.equal(overlap, false, 'old and new pods existed at the same time');
  });

  test('pause and resume', async () => {
    const ns = await createNamespace(tc.client, 'd-pause');
    await tc.client.create({ ...DEPLOY_REF, namespace: ns }, deployment('p', 1, 'x:1'));
    await waitFor(() => complete(ns, 'p'), 20_000, 'first rollout');
    await tc.client.patch({ ...DEPLOY_REF, namespace: ns, name: 'p' }, 'merge', { spec: { paused: true, template: { spec: { containers: [{ name: 'c', image: 'x:2' }] } } } });
    const paused = await waitFor(async () => {
      const d = await getD(ns, 'p');
      const c = d.status?.conditions?.find((x: any) => x.type === 'Progressing');
      return c?.reason === 'DeploymentPaused' && d.status.observedGeneration === d.metadata.generation ? c : undefined;
    }, 10_000, 'paused condition');
    assert.equal(paused.status, 'Unknown');
    assert.equal(paused.message, 'Deployment is paused');
    assert.equal((await rsList(ns)).length, 1, 'no new RS while paused');
    await tc.client.patch({ ...DEPLOY_REF, namespace: ns, name: 'p' }, 'merge', { spec: { paused: false } });
    await waitFor(async () => {
      const d = await complete(ns, 'p');
      return d && d.metadata.annotations![REVISION_ANNOTATION] === '2' ? d : undefined;
    }, 30_000, 'resumed rollout');
  });

  test('scaling during a rollout is proportional; revisionHistoryLimit cleans old sets', async () => {
    const ns = await createNamespace(tc.client, 'd-hist');
    await tc.client.create({ ...DEPLOY_REF, namespace: ns }, deployment('h', 2, 'h:1', { revisionHistoryLimit: 1 }));
    await waitFor(() => complete(ns, 'h'), 20_000, 'v1');
    for (const v of ['h:2', 'h:3']) {
      await tc.client.patch({ ...DEPLOY_REF, namespace: ns, name: 'h' }, 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: v }] } } } });
      await waitFor(async () => {
        const d = await complete(ns, 'h');
        return d && d.spec.template.spec.containers[0].image === v ? d : undefined;
      }, 30_000, v);
    }
    await waitFor(async () => (await rsList(ns)).length === 2, 10_000, 'old sets cleaned to the limit');
    await tc.client.patch({ ...DEPLOY_REF, namespace: ns, name: 'h' }, 'merge', { spec: { replicas: 5 } });
    const d = await waitFor(() => complete(ns, 'h'), 20_000, 'scaled');
    assert.equal(d.status.replicas, 5);
  });
});

describe('Deployment progress deadline (no nodes)', () => {
  let tc: ControllerTestCluster;
  let ctrl: Awaited<ReturnType<typeof runControllers>>;
  before(async () => {
    tc = await startControllerTestCluster({ nodes: 0 });
    ctrl = await runControllers(tc.client, [replicaSetController, deploymentController]);
  });
  after(async () => {
    await ctrl?.stop();
    await tc?.close();
  });

  test('ProgressDeadlineExceeded when pods never become ready', async () => {
    const ns = await createNamespace(tc.client, 'd-deadline');
    await tc.client.create({ ...DEPLOY_REF, namespace: ns }, deployment('stuck', 2, 'x', { progressDeadlineSeconds: 1 }));
    const d = await waitFor(async () => {
      const d = await tc.client.get({ ...DEPLOY_REF, namespace: ns, name: 'stuck' });
      const c = d.status?.conditions?.find((x: any) => x.type === 'Progressing');
      return c?.reason === 'ProgressDeadlineExceeded' ? d : undefined;
    }, 15_000, 'deadline exceeded');
    const c = d.status.conditions.find((x: any) => x.type === 'Progressing');
    assert.equal(c.status, 'False');
    assert.match(c.message, /^ReplicaSet "stuck-[a-z0-9]+" has timed out progressing\.$/);
    const avail = d.status.conditions.find((x: any) => x.type === 'Available');
    assert.equal(avail.status, 'False');
    assert.equal(avail.reason, 'MinimumReplicasUnavailable');
    assert.equal(d.status.unavailableReplicas, 2);
  });
});

describe('controller manager', () => {
  let tc: ControllerTestCluster;
  before(async () => {
    tc = await startControllerTestCluster({ nodes: 2 });
  });
  after(async () => {
    await tc?.close();
  });
  const fast = { leaseDurationSeconds: 2, renewDeadlineMs: 1500, retryPeriodMs: 200 };

  test('only the leader acts; a restart mid-rollout converges without duplicate pods', async () => {
    const ns = await createNamespace(tc.client, 'cm');
    const a = await startControllerManager({ client: tc.client, controllers: ['replicaset', 'deployment'], identity: 'a', leaderElection: fast, log: () => {} });
    await waitFor(() => a.isLeader(), 10_000, 'a leads');
    const b = await startControllerManager({ client: tc.client, controllers: ['replicaset', 'deployment'], identity: 'b', leaderElection: fast, log: () => {} });
    try {
      await tc.client.create({ ...DEPLOY_REF, namespace: ns }, deployment('m', 6, 'm:1'));
      await waitFor(async () => {
        const pods = (await listPods(tc.client, ns)).filter(isPodActive);
        return pods.length === 6;
      }, 20_000, 'six pods');
      assert.equal(b.isLeader(), false);
      const lease = await tc.client.get({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system', name: 'kube-controller-manager' });
      assert.equal(lease.spec.holderIdentity, 'a');

      // Start a rollout and stop the leader mid-way: b takes over and finishes it.
      await tc.client.patch({ ...DEPLOY_REF, namespace: ns, name: 'm' }, 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'm:2' }] } } } });
      await waitFor(async () => (await tc.client.list({ ...RS_REF, namespace: ns })).items.length === 2, 10_000, 'new RS');
      await a.close();
      await waitFor(() => b.isLeader(), 15_000, 'b leads');
      const d = await waitFor(async () => {
        const d = await tc.client.get({ ...DEPLOY_REF, namespace: ns, name: 'm' });
        const c = d.status?.conditions?.find((x: any) => x.type === 'Progressing');
        return d.status?.updatedReplicas === 6 && d.status?.availableReplicas === 6 && d.status?.replicas === 6 && c?.reason === 'NewReplicaSetAvailable' ? d : undefined;
      }, 30_000, 'rollout finished by b');
      assert.equal(d.metadata.annotations![REVISION_ANNOTATION], '2');
      const pods = (await listPods(tc.client, ns)).filter(isPodActive);
      assert.equal(pods.length, 6);
      assert.equal((await tc.client.list({ ...RS_REF, namespace: ns })).items.length, 2);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
