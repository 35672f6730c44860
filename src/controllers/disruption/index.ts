// Disruption controller: keeps each PodDisruptionBudget's status (expected/current/desired healthy
// pods, disruptionsAllowed, disruptedPods, DisruptionAllowed condition) current. The API server's
// eviction subresource reads that status to allow or refuse (429) an eviction.

import { isDeepStrictEqual } from 'node:util';
import type { KObject } from '../../api/types.ts';
import { isNotFound, rfc3339 } from '../../client/api-client.ts';
import { metaNamespaceKey } from '../../client/cache.ts';
import { labelSelectorFromObject } from '../../machinery/labels.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { budgetNumbers, countHealthy, disruptionsAllowed, liveDisruptedPods } from './budget.ts';

export * from './budget.ts';

const PDBS = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' } as const;

function selects(pdb: KObject, pod: KObject): boolean {
  try {
    return labelSelectorFromObject(pdb.spec?.selector).matches(pod.metadata.labels);
  } catch {
    return false;
  }
}

/** Set the DisruptionAllowed condition, keeping lastTransitionTime unless the status flips. */
function withCondition(conditions: any[] | undefined, status: 'True' | 'False', reason: string, message: string, observedGeneration: number | undefined, now: string): any[] {
  const list = (conditions ?? []).filter((c) => c?.type !== 'DisruptionAllowed');
  const old = (conditions ?? []).find((c) => c?.type === 'DisruptionAllowed');
  const cond: any = {
    type: 'DisruptionAllowed',
    status,
    observedGeneration,
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now,
    reason,
    message,
  };
  if (observedGeneration === undefined) delete cond.observedGeneration;
  return [...list, cond];
}

export const disruptionController: ControllerFactory = (ctx: ControllerContext): Controller => {
  const recorder = ctx.recorder('controllermanager');
  const pdbs = ctx.informers.informerFor(PDBS);
  const pods = ctx.informers.informerFor({ version: 'v1', resource: 'pods' });
  const rcs = ctx.informers.informerFor({ version: 'v1', resource: 'replicationcontrollers' });
  const rss = ctx.informers.informerFor({ group: 'apps', version: 'v1', resource: 'replicasets' });
  const deployments = ctx.informers.informerFor({ group: 'apps', version: 'v1', resource: 'deployments' });
  const statefulsets = ctx.informers.informerFor({ group: 'apps', version: 'v1', resource: 'statefulsets' });

  /** Replicas of the controller owning a pod: RC, ReplicaSet (or its Deployment), StatefulSet. */
  const controllerScale = (ns: string, ref: any): { uid: string; replicas: number } | undefined => {
    const group = String(ref.apiVersion ?? '').split('/');
    const apiGroup = group.length > 1 ? group[0] : '';
    const get = (inf: typeof rcs) => {
      const o = inf.indexer.getByKey(`${ns}/${ref.name}`);
      return o && o.metadata.uid === ref.uid ? o : undefined;
    };
    if (ref.kind === 'ReplicationController' && apiGroup === '') {
      const rc = get(rcs);
      return rc && { uid: rc.metadata.uid!, replicas: rc.spec?.replicas ?? 1 };
    }
    if (ref.kind === 'StatefulSet' && apiGroup === 'apps') {
      const ss = get(statefulsets);
      return ss && { uid: ss.metadata.uid!, replicas: ss.spec?.replicas ?? 1 };
    }
    if (ref.kind === 'ReplicaSet' && apiGroup === 'apps') {
      const rs = get(rss);
      if (!rs) return undefined;
      const owner = (rs.metadata.ownerReferences ?? []).find((o) => o.controller);
      if (owner?.kind === 'Deployment' && String(owner.apiVersion).startsWith('apps/')) {
        const d = deployments.indexer.getByKey(`${ns}/${owner.name}`);
        if (d && d.metadata.uid === owner.uid) return { uid: d.metadata.uid!, replicas: d.spec?.replicas ?? 1 };
      }
      return { uid: rs.metadata.uid!, replicas: rs.spec?.replicas ?? 1 };
    }
    return undefined;
  };

  const expectedScale = (pdb: KObject, matched: KObject[]): number => {
    const seen = new Map<string, number>();
    for (const pod of matched) {
      const ref = (pod.metadata.ownerReferences ?? []).find((o) => o.controller);
      if (!ref) {
        const msg = `found no controller ref for pod "${pod.metadata.name}"`;
        recorder.event(pdb, 'Warning', 'NoControllerRef', msg);
        throw new Error(msg);
      }
      const s = controllerScale(pod.metadata.namespace!, ref);
      if (!s) {
        const msg = `found no controllers for pod "${pod.metadata.name}"`;
        recorder.event(pdb, 'Warning', 'NoControllers', msg);
        throw new Error(msg);
      }
      // Keyed by the object whose replicas count, so a Deployment's ReplicaSets count once.
      seen.set(s.uid, s.replicas);
    }
    let total = 0;
    for (const v of seen.values()) total += v;
    return total;
  };

  const writeStatus = async (pdb: KObject, status: Record<string, any>): Promise<void> => {
    if (isDeepStrictEqual(pdb.status ?? {}, status)) return;
    const next = structuredClone(pdb);
    next.status = status;
    try {
      await ctx.client.updateStatus({ ...PDBS, namespace: pdb.metadata.namespace, name: pdb.metadata.name! }, next);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  };

  const sync = async (key: string): Promise<void> => {
    const pdb = pdbs.indexer.getByKey(key);
    if (!pdb) return;
    const ns = pdb.metadata.namespace!;
    const now = Date.now();
    const nowText = rfc3339(new Date(now));
    const matched = pods.lister().namespace(ns).list((p) => selects(pdb, p));
    if (matched.length === 0) recorder.event(pdb, 'Normal', 'NoPods', 'No matching pods found');
    let numbers;
    try {
      numbers = budgetNumbers(pdb, matched, () => expectedScale(pdb, matched));
    } catch (e) {
      // Fail safe: no disruptions until the budget can be computed again.
      const status = {
        ...(pdb.status ?? {}),
        disruptionsAllowed: 0,
        conditions: withCondition(pdb.status?.conditions, 'False', 'SyncFailed', (e as Error).message, pdb.status?.observedGeneration, nowText),
      };
      await writeStatus(pdb, status);
      throw e;
    }
    const { live, recheckAtMs } = liveDisruptedPods(pdb, matched, now);
    const currentHealthy = countHealthy(matched, live);
    const allowed = disruptionsAllowed(currentHealthy, numbers.desiredHealthy, numbers.expectedPods);
    const status: Record<string, any> = {
      observedGeneration: pdb.metadata.generation,
      disruptionsAllowed: allowed,
      currentHealthy,
      desiredHealthy: numbers.desiredHealthy,
      expectedPods: numbers.expectedPods,
      conditions: withCondition(pdb.status?.conditions, allowed > 0 ? 'True' : 'False', allowed > 0 ? 'SufficientPods' : 'InsufficientPods', '', pdb.metadata.generation, nowText),
    };
    if (Object.keys(live).length) status.disruptedPods = live;
    if (status.observedGeneration === undefined) delete status.observedGeneration;
    await writeStatus(pdb, status);
    if (recheckAtMs !== undefined) worker.addAfter(key, Math.max(0, recheckAtMs - now) + 10);
  };

  const worker = new KeyWorker('disruption', sync, ctx.log);
  const enqueue = (pdb: KObject) => worker.add(metaNamespaceKey(pdb));
  const enqueueForPod = (pod: KObject) => {
    for (const pdb of pdbs.lister().namespace(pod.metadata.namespace!).list()) if (selects(pdb, pod)) enqueue(pdb);
  };
  pdbs.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n) });
  pods.addEventHandler({
    onAdd: enqueueForPod,
    onUpdate: (o, n) => {
      enqueueForPod(n);
      if (!isDeepStrictEqual(o.metadata.labels ?? {}, n.metadata.labels ?? {})) enqueueForPod(o);
    },
    onDelete: enqueueForPod,
  });
  // Scaling a controller changes expectedPods.
  const enqueueForOwner = (o: KObject) => {
    for (const pdb of pdbs.lister().namespace(o.metadata.namespace!).list()) enqueue(pdb);
  };
  for (const inf of [rcs, rss, deployments, statefulsets]) {
    inf.addEventHandler({
      onUpdate: (o, n) => {
        if (o.spec?.replicas !== n.spec?.replicas) enqueueForOwner(n);
      },
    });
  }

  return {
    name: 'disruption-controller',
    run() {
      worker.run(ctx.options.workers);
    },
    stop: () => worker.stop(),
  };
};
