// The Deployment controller: drives ReplicaSets named <deployment>-<pod-template-hash> toward the
// deployment's template with the RollingUpdate or Recreate strategy, scales proportionally during
// rollouts, keeps revisionHistoryLimit old ReplicaSets, and reports status and conditions the way
// `kubectl rollout status` expects.

import type { KObject } from '../../api/types.ts';
import { isAlreadyExists, isNotFound, type ApiClient } from '../../client/api-client.ts';
import { splitMetaNamespaceKey } from '../../client/cache.ts';
import type { EventRecorder } from '../../client/event-recorder.ts';
import type { Informer } from '../../client/informer.ts';
import { labelSelectorFromObject, type LabelSelector } from '../../machinery/labels.ts';
import { KeyWorker } from '../key-worker.ts';
import { claimObjects, controllerRefOf, newControllerRef } from '../replicaset/controller-ref.ts';
import { POD_REF, RS_REF } from '../replicaset/index.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { rolloutRecreate } from './recreate.ts';
import { rolloutRolling } from './rolling.ts';
import {
  activeRSs,
  computeHash,
  DEFAULT_HASH_LABEL,
  desiredReplicasAnnotation,
  equalIgnoreHash,
  findNewRS,
  getCondition,
  maxRevision,
  newCondition,
  replicasOf,
  REVISION_ANNOTATION,
  setCondition,
  setNewReplicaSetAnnotations,
} from './util.ts';
import { cleanupDeployment, newRSNewReplicas, scale, syncDeploymentStatus } from './sync.ts';

export const DEPLOY_REF = { group: 'apps', version: 'v1', resource: 'deployments' } as const;

const keyOf = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
export const asDeployment = (d: KObject): KObject => ({ ...d, apiVersion: 'apps/v1', kind: 'Deployment' });

/** What one sync works with; helpers in sync.ts, rolling.ts and recreate.ts share it. */
export interface DeploymentSync {
  client: ApiClient;
  recorder: EventRecorder;
  /** Requeue the deployment after a delay (progress deadline checks, minReadySeconds). */
  requeueAfter(ms: number): void;
  /** The deployment as last written by this sync (status writes replace it). */
  d: KObject;
  /** Active pods matching the selector, grouped by owning ReplicaSet UID (Recreate needs them). */
  podsByRS(): Map<string, KObject[]>;
}

class DeploymentController implements Controller {
  readonly name = 'deployment';
  private readonly worker: KeyWorker;
  private readonly dInformer: Informer;
  private readonly rsInformer: Informer;
  private readonly podInformer: Informer;
  private readonly client: ApiClient;
  private readonly recorder: EventRecorder;
  private readonly workers: number;

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.recorder = ctx.recorder('deployment-controller');
    this.workers = ctx.options.workers;
    this.worker = new KeyWorker(this.name, (k) => this.sync(k), ctx.log);
    this.dInformer = ctx.informers.informerFor(DEPLOY_REF);
    this.rsInformer = ctx.informers.informerFor(RS_REF);
    this.podInformer = ctx.informers.informerFor(POD_REF);

    this.dInformer.addEventHandler({
      onAdd: (d) => this.worker.add(keyOf(d)),
      onUpdate: (_o, d) => this.worker.add(keyOf(d)),
      onDelete: (d) => this.worker.add(keyOf(d)),
    });
    this.rsInformer.addEventHandler({
      onAdd: (rs) => this.rsChanged(rs),
      onUpdate: (old, cur) => {
        if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
        const oldRef = controllerRefOf(old);
        if (oldRef && oldRef.uid !== controllerRefOf(cur)?.uid) this.rsChanged(old);
        this.rsChanged(cur);
      },
      onDelete: (rs) => this.rsChanged(rs, true),
    });
    // Recreate waits for old pods to go away: their deletion is what unblocks it.
    this.podInformer.addEventHandler({
      onDelete: (pod) => {
        const ref = controllerRefOf(pod);
        if (ref?.kind !== 'ReplicaSet') return;
        const rs = this.rsInformer.indexer.getByKey(`${pod.metadata.namespace}/${ref.name}`);
        if (rs) this.rsChanged(rs, true);
      },
    });
  }

  run(): void {
    this.worker.run(this.workers);
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  private rsChanged(rs: KObject, ownerOnly = false): void {
    const ref = controllerRefOf(rs);
    if (ref) {
      if (ref.kind !== 'Deployment') return;
      const d = this.dInformer.indexer.getByKey(`${rs.metadata.namespace}/${ref.name}`);
      if (d && d.metadata.uid === ref.uid) this.worker.add(keyOf(d));
      return;
    }
    if (ownerOnly) return;
    // An orphan: every deployment that could adopt it.
    for (const d of this.dInformer.lister().namespace(rs.metadata.namespace ?? '').list()) {
      try {
        const sel = labelSelectorFromObject(d.spec?.selector);
        if (!sel.empty() && sel.matches(rs.metadata.labels)) this.worker.add(keyOf(d));
      } catch {
        // invalid selectors match nothing
      }
    }
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.dInformer.indexer.getByKey(key);
    if (!cached) return;
    let d = structuredClone(cached);
    let selector: LabelSelector;
    try {
      selector = labelSelectorFromObject(d.spec?.selector);
    } catch {
      return;
    }
    if (selector.empty()) {
      this.recorder.event(asDeployment(d), 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        await this.client.updateStatus({ ...DEPLOY_REF, namespace, name: name! }, { ...d, status: { ...d.status, observedGeneration: d.metadata.generation } });
      }
      return;
    }

    const nsRSs = this.rsInformer.lister().namespace(namespace ?? '').list();
    const rsList = await claimObjects(nsRSs, {
      client: this.client,
      owner: d,
      ownerApiVersion: 'apps/v1',
      ownerKind: 'Deployment',
      selector,
      resource: RS_REF,
      fetchOwner: async () => {
        try {
          return await this.client.get({ ...DEPLOY_REF, namespace, name: name! });
        } catch (e) {
          if (isNotFound(e)) return undefined;
          throw e;
        }
      },
    });

    const s: DeploymentSync = {
      client: this.client,
      recorder: this.recorder,
      requeueAfter: (ms) => this.worker.addAfter(key, ms),
      d,
      podsByRS: () => {
        const m = new Map<string, KObject[]>();
        for (const p of this.podInformer.lister().namespace(namespace ?? '').list()) {
          if (!selector.matches(p.metadata.labels)) continue;
          const uid = controllerRefOf(p)?.uid;
          if (!uid) continue;
          if (!m.has(uid)) m.set(uid, []);
          m.get(uid)!.push(p);
        }
        return m;
      },
    };

    if (d.metadata.deletionTimestamp) {
      const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(s, rsList, false);
      await syncDeploymentStatus(s, [...oldRSs, newRS], newRS);
      return;
    }

    await checkPausedConditions(s);
    d = s.d;

    if (d.spec?.paused) {
      await syncOnly(s, rsList);
      return;
    }
    if (await isScalingEvent(s, rsList)) {
      await syncOnly(s, rsList);
      return;
    }
    if (d.spec?.strategy?.type === 'Recreate') await rolloutRecreate(s, rsList);
    else await rolloutRolling(s, rsList);
  }
}

/** Write s.d's status and keep the server's answer as s.d. */
export async function writeStatus(s: DeploymentSync, status: any): Promise<void> {
  const d = s.d;
  s.d = await s.client.updateStatus<KObject>({ ...DEPLOY_REF, namespace: d.metadata.namespace, name: d.metadata.name! }, { ...d, status });
}

/** Progressing=Unknown with DeploymentPaused / DeploymentResumed as the pause flag flips. */
async function checkPausedConditions(s: DeploymentSync): Promise<void> {
  const d = s.d;
  if (d.spec?.progressDeadlineSeconds === undefined || d.spec?.progressDeadlineSeconds === null) return;
  const cond = getCondition(d.status, 'Progressing');
  const pausedCondExists = cond?.reason === 'DeploymentPaused';
  const status = structuredClone(d.status ?? {});
  if (d.spec?.paused && !pausedCondExists) {
    setCondition(status, newCondition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused'));
  } else if (!d.spec?.paused && pausedCondExists) {
    setCondition(status, newCondition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed'));
  } else return;
  await writeStatus(s, status);
}

/** Scale only (paused deployments and scaling events), then status. */
async function syncOnly(s: DeploymentSync, rsList: KObject[]): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(s, rsList, false);
  const scaled = await scale(s, newRS, oldRSs);
  if (s.d.spec?.paused) await cleanupDeployment(s, scaled.oldRSs);
  await syncDeploymentStatus(s, [...scaled.oldRSs, scaled.newRS], scaled.newRS);
}

/** True when some active ReplicaSet was sized for a different deployment replica count. */
async function isScalingEvent(s: DeploymentSync, rsList: KObject[]): Promise<boolean> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(s, rsList, false);
  for (const rs of activeRSs([...oldRSs, newRS])) {
    const desired = desiredReplicasAnnotation(rs);
    if (desired !== undefined && desired !== replicasOf(s.d)) return true;
  }
  return false;
}

/**
 * The new ReplicaSet (created if asked and missing) and the old ones; also moves the new RS to
 * the next revision and records it on the deployment (upstream getAllReplicaSetsAndSyncRevision).
 */
export async function getAllReplicaSetsAndSyncRevision(
  s: DeploymentSync,
  rsList: KObject[],
  createIfMissing: boolean,
): Promise<{ newRS: KObject | undefined; oldRSs: KObject[] }> {
  const existing = findNewRS(s.d, rsList);
  const oldRSs = rsList.filter((rs) => rs !== existing);
  const newRS = await getNewReplicaSet(s, existing, oldRSs, createIfMissing);
  return { newRS, oldRSs };
}

async function getNewReplicaSet(s: DeploymentSync, existing: KObject | undefined, oldRSs: KObject[], create: boolean): Promise<KObject | undefined> {
  const d = s.d;
  const newRevision = maxRevision(oldRSs) + 1;
  if (existing) {
    let rs = structuredClone(existing);
    const annotationsChanged = setNewReplicaSetAnnotations(d, rs, newRevision, true);
    const minReadyChanged = (rs.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
    if (annotationsChanged || minReadyChanged) {
      rs.spec.minReadySeconds = d.spec?.minReadySeconds ?? 0;
      rs = await s.client.update<KObject>({ ...RS_REF, namespace: rs.metadata.namespace, name: rs.metadata.name! }, rs);
    }
    await syncDeploymentRevision(s, rs.metadata.annotations?.[REVISION_ANNOTATION]);
    const status = structuredClone(s.d.status ?? {});
    if (hasProgressDeadline(d) && !getCondition(status, 'Progressing')) {
      setCondition(status, newCondition('Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set ${JSON.stringify(rs.metadata.name)}`));
      await writeStatus(s, status);
    }
    return rs;
  }
  if (!create) return undefined;

  const collisionCount: number | undefined = d.status?.collisionCount;
  const hash = computeHash(d.spec?.template, collisionCount);
  const template = structuredClone(d.spec?.template ?? {});
  template.metadata ??= {};
  template.metadata.labels = { ...(template.metadata.labels ?? {}), [DEFAULT_HASH_LABEL]: hash };
  const selector = structuredClone(d.spec.selector);
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [DEFAULT_HASH_LABEL]: hash };
  const rs: KObject = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')],
      labels: { ...(template.metadata.labels ?? {}) },
    },
    spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
  };
  const replicas = newRSNewReplicas(d, [...oldRSs, rs], rs);
  rs.spec.replicas = replicas;
  setNewReplicaSetAnnotations(d, rs, newRevision, false);

  let created: KObject;
  let alreadyExists = false;
  try {
    created = await s.client.create<KObject>({ ...RS_REF, namespace: d.metadata.namespace }, rs);
  } catch (e) {
    if (!isAlreadyExists(e)) {
      const status = structuredClone(d.status ?? {});
      const msg = `Failed to create new replica set ${JSON.stringify(rs.metadata.name)}: ${(e as Error).message}`;
      if (hasProgressDeadline(d)) setCondition(status, newCondition('Progressing', 'False', 'ReplicaSetCreateError', msg));
      s.recorder.event(asDeployment(d), 'Warning', 'FailedCreate', msg);
      await writeStatus(s, status).catch(() => {});
      throw e;
    }
    // Ours with the same template (a restart, or a stale cache): use it. Otherwise a hash collision.
    const other = await s.client.get<KObject>({ ...RS_REF, namespace: d.metadata.namespace, name: rs.metadata.name! });
    if (controllerRefOf(other)?.uid === d.metadata.uid && equalIgnoreHash(other.spec?.template, d.spec?.template)) {
      created = other;
      alreadyExists = true;
    } else {
      const status = structuredClone(d.status ?? {});
      status.collisionCount = (collisionCount ?? 0) + 1;
      await writeStatus(s, status);
      throw new Error(`found a hash collision for deployment ${JSON.stringify(d.metadata.name)} - bumping collisionCount (${status.collisionCount})`);
    }
  }
  if (!alreadyExists && replicas > 0) {
    s.recorder.event(asDeployment(d), 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} to ${replicas} from 0`);
  }
  await syncDeploymentRevision(s, created.metadata.annotations?.[REVISION_ANNOTATION] ?? String(newRevision));
  if (!alreadyExists && hasProgressDeadline(d)) {
    const status = structuredClone(s.d.status ?? {});
    setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set ${JSON.stringify(created.metadata.name)}`));
    await writeStatus(s, status);
  }
  return created;
}

export const hasProgressDeadline = (d: KObject) => {
  const v = d.spec?.progressDeadlineSeconds;
  return v !== undefined && v !== null && v !== 2147483647;
};

/**
 * Record the new RS revision on the deployment's annotations (metadata, so an update of the main
 * resource; annotations do not bump generation). An update, as upstream's: the controller's role
 * (system:controller:deployment-controller) may update deployments but not patch them.
 */
async function syncDeploymentRevision(s: DeploymentSync, revision: string | undefined): Promise<void> {
  if (!revision || s.d.metadata.annotations?.[REVISION_ANNOTATION] === revision) return;
  const next = structuredClone(s.d);
  next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [REVISION_ANNOTATION]: revision };
  s.d = await s.client.update<KObject>({ ...DEPLOY_REF, namespace: next.metadata.namespace, name: next.metadata.name! }, next);
}

export const deploymentController: ControllerFactory = (ctx) => new DeploymentController(ctx);
