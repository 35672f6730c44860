// The ReplicaSet controller: keeps `spec.replicas` active pods per ReplicaSet, creating them in
// slow-start batches and deleting the least useful first, adopting matching orphans, releasing
// pods that stop matching, and reporting status. Level-triggered: each sync re-reads the caches.
// The same controller runs ReplicationControllers (../replicationcontroller), as upstream's
// replication manager is the ReplicaSet controller over a converted kind: a ReplicaKind says
// which kind it drives and how to read its selector.

import type { KObject } from '../../api/types.ts';
import { isConflict, isNotFound, type ApiClient, type ResourceRef } from '../../client/api-client.ts';
import { splitMetaNamespaceKey } from '../../client/cache.ts';
import type { EventRecorder } from '../../client/event-recorder.ts';
import { UIDTrackingExpectations } from '../../client/expectations.ts';
import type { Informer } from '../../client/informer.ts';
import { labelSelectorFromObject, type LabelSelectorObject } from '../../machinery/labels.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { claimObjects, controllerIndexValues, controllerRefOf, newControllerRef } from './controller-ref.ts';
import { podsToDelete } from './pod-ranking.ts';
import { msUntilAvailable } from './pod-utils.ts';
import { isPodActive, isPodReady, podReadyCondition } from '../../api/core/pod-state.ts';
import { calculateReplicaSetStatus, replicaSetStatusChanged } from './status.ts';

/** Most pods created or deleted in one sync (upstream BurstReplicas). */
export const BURST_REPLICAS = 500;

export const RS_REF = { group: 'apps', version: 'v1', resource: 'replicasets' } as const;
export const POD_REF = { version: 'v1', resource: 'pods' } as const;
/** Pods by controller UID (or `orphan/<ns>`): a sync looks at its own pods and orphans only. */
export const POD_CONTROLLER_INDEX = 'replicaset:controller';

const key = (obj: KObject) => `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;

/** The kind a replica controller drives. */
export interface ReplicaKind {
  /** The controller's name (upstream's --controllers name). */
  name: string;
  /** Source of its events (upstream's component name). */
  eventSource: string;
  ref: ResourceRef;
  apiVersion: string;
  kind: string;
  /** The object's pod selector as a metav1.LabelSelector. */
  selector(obj: KObject): LabelSelectorObject | undefined;
}

export const replicaSetKind: ReplicaKind = {
  name: 'replicaset',
  eventSource: 'replicaset-controller',
  ref: RS_REF,
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  selector: (rs) => rs.spec?.selector,
};

/** Run fn `count` times in batches of 1, 2, 4, … stopping after a batch with a failure. */
export async function slowStartBatch(count: number, fn: () => Promise<void>): Promise<{ successes: number; failures: number; error?: Error }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, 1); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, fn));
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    successes += batch - failed.length;
    if (failed.length) return { successes, failures: failed.length, error: failed[0]!.reason as Error };
    remaining -= batch;
  }
  return { successes, failures: 0 };
}

/** The pod a ReplicaSet (or anything with a pod template) creates. */
export function podFromTemplate(owner: KObject, template: any, controllerRef: ReturnType<typeof newControllerRef>): KObject {
  const meta = template?.metadata ?? {};
  const pod: KObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${owner.metadata.name}-`,
      namespace: owner.metadata.namespace,
      labels: { ...(meta.labels ?? {}) },
      ownerReferences: [controllerRef],
    },
    spec: structuredClone(template?.spec ?? {}),
  };
  if (meta.annotations) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}

class ReplicaController implements Controller {
  readonly name: string;
  private readonly worker: KeyWorker;
  private readonly expectations = new UIDTrackingExpectations();
  private readonly rsInformer: Informer;
  private readonly podInformer: Informer;
  private readonly client: ApiClient;
  private readonly recorder: EventRecorder;
  private readonly workers: number;

  constructor(
    ctx: ControllerContext,
    private readonly kind: ReplicaKind,
  ) {
    this.name = kind.name;
    this.client = ctx.client;
    this.recorder = ctx.recorder(kind.eventSource);
    this.workers = ctx.options.workers;
    this.worker = new KeyWorker(this.name, (k) => this.sync(k), ctx.log);
    this.rsInformer = ctx.informers.informerFor(kind.ref);
    this.podInformer = ctx.informers.informerFor({ ...POD_REF, indexers: { [POD_CONTROLLER_INDEX]: controllerIndexValues } });

    this.rsInformer.addEventHandler({
      onAdd: (rs) => this.worker.add(key(rs)),
      onUpdate: (_o, rs) => this.worker.add(key(rs)),
      onDelete: (rs) => {
        this.expectations.deleteExpectations(key(rs));
        this.worker.add(key(rs));
      },
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.podAdded(pod),
      onUpdate: (old, cur) => this.podUpdated(old, cur),
      onDelete: (pod) => this.podDeleted(pod),
    });
  }

  run(): void {
    this.worker.run(this.workers);
  }

  /** The object with its type, for events (informer objects may lack apiVersion/kind). */
  private typed(obj: KObject): KObject {
    return { ...obj, apiVersion: this.kind.apiVersion, kind: this.kind.kind };
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  // ---- event handlers: map pods to the ReplicaSets that care ----

  /** The object named by a controller ref, if it is in the cache with that UID. */
  private resolveOwner(namespace: string | undefined, ref: { kind: string; name: string; uid: string } | undefined): KObject | undefined {
    if (!ref || ref.kind !== this.kind.kind) return undefined;
    const rs = this.rsInformer.indexer.getByKey(`${namespace ?? ''}/${ref.name}`);
    return rs && rs.metadata.uid === ref.uid ? rs : undefined;
  }

  private enqueueMatchingReplicaSets(pod: KObject): void {
    for (const rs of this.rsInformer.lister().namespace(pod.metadata.namespace ?? '').list()) {
      try {
        if (labelSelectorFromObject(this.kind.selector(rs)).matches(pod.metadata.labels)) this.worker.add(key(rs));
      } catch {
        // an invalid selector matches nothing
      }
    }
  }

  private podAdded(pod: KObject): void {
    if (pod.metadata.deletionTimestamp) {
      // Restarted controller saw a pod already being deleted: count it as a deletion.
      this.podDeleted(pod);
      return;
    }
    const ref = controllerRefOf(pod);
    if (ref) {
      const rs = this.resolveOwner(pod.metadata.namespace, ref);
      if (!rs) return;
      this.expectations.creationObserved(key(rs));
      this.worker.add(key(rs));
      return;
    }
    this.enqueueMatchingReplicaSets(pod);
  }

  private podUpdated(old: KObject, cur: KObject): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const labelsChanged = JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(cur.metadata.labels ?? {});
    if (cur.metadata.deletionTimestamp) {
      this.podDeleted(cur);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    if (oldRef && oldRef.uid !== curRef?.uid) {
      const oldRS = this.resolveOwner(old.metadata.namespace, oldRef);
      if (oldRS) this.worker.add(key(oldRS));
    }
    if (curRef) {
      const rs = this.resolveOwner(cur.metadata.namespace, curRef);
      if (!rs) return;
      // Binding and other status noise change nothing a sync looks at; skipping them saves a full
      // pass over every pod of a big ReplicaSet per event.
      if (!labelsChanged && oldRef?.uid === curRef.uid && !podStateChanged(old, cur)) return;
      this.worker.add(key(rs));
      // A pod that just became ready turns available after minReadySeconds: look again then.
      const minReady = rs.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) this.worker.addAfter(key(rs), minReady * 1000 + 100);
      return;
    }
    if (labelsChanged || oldRef) this.enqueueMatchingReplicaSets(cur);
  }

  private podDeleted(pod: KObject): void {
    const ref = controllerRefOf(pod);
    const rs = this.resolveOwner(pod.metadata.namespace, ref);
    if (!rs) return;
    this.expectations.deletionObservedOf(key(rs), key(pod));
    this.worker.add(key(rs));
  }

  // ---- sync ----

  private async sync(rsKey: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(rsKey);
    const rs = this.rsInformer.indexer.getByKey(rsKey);
    if (!rs) {
      this.expectations.deleteExpectations(rsKey);
      return;
    }
    const needsSync = this.expectations.satisfiedExpectations(rsKey);
    let selector;
    const selectorObject = this.kind.selector(rs);
    try {
      selector = labelSelectorFromObject(selectorObject);
    } catch {
      return; // invalid selectors are rejected by validation; nothing sensible to do here
    }
    // Pods controlled by others can be neither claimed nor released: only ours and orphans matter.
    const indexer = this.podInformer.indexer;
    const candidates = [...indexer.byIndex(POD_CONTROLLER_INDEX, rs.metadata.uid!), ...indexer.byIndex(POD_CONTROLLER_INDEX, `orphan/${namespace ?? ''}`)];
    const active = candidates.filter(isPodActive);
    const pods = await claimObjects(active, {
      client: this.client,
      owner: rs,
      ownerApiVersion: this.kind.apiVersion,
      ownerKind: this.kind.kind,
      selector,
      selectorKey: JSON.stringify(selectorObject ?? null),
      resource: POD_REF,
      fetchOwner: async () => {
        try {
          return await this.client.get({ ...this.kind.ref, namespace, name });
        } catch (e) {
          if (isNotFound(e)) return undefined;
          throw e;
        }
      },
    });

    let manageError: { message: string; creating: boolean } | undefined;
    if (needsSync && !rs.metadata.deletionTimestamp) {
      manageError = await this.manageReplicas(rs, rsKey, pods);
    }

    const now = Date.now();
    const status = calculateReplicaSetStatus(rs, pods, manageError, now);
    status.observedGeneration = rs.metadata.generation;
    const written = await this.updateStatus(rs, status);

    // With minReadySeconds, ready pods become available later without any event: requeue.
    const minReady = rs.spec?.minReadySeconds ?? 0;
    if (!manageError && minReady > 0 && written.readyReplicas === (rs.spec?.replicas ?? 1) && written.availableReplicas !== written.readyReplicas) {
      let wait = minReady * 1000;
      for (const p of pods) {
        const ms = msUntilAvailable(p, minReady, now);
        if (ms !== undefined && ms > 0) wait = Math.min(wait, ms);
      }
      this.worker.addAfter(rsKey, wait + 100);
    }
    if (manageError) throw new Error(manageError.message);
  }

  private async manageReplicas(
    rs: KObject,
    rsKey: string,
    pods: KObject[],
  ): Promise<{ message: string; creating: boolean } | undefined> {
    const want = rs.spec?.replicas ?? 1;
    const diff = pods.length - want;
    if (diff < 0) {
      const count = Math.min(-diff, BURST_REPLICAS);
      // Expect all creations up front so pod events seen mid-batch are counted.
      this.expectations.expectCreations(rsKey, count);
      const ref = newControllerRef(rs, this.kind.apiVersion, this.kind.kind);
      const templateLabels = rs.spec?.template?.metadata?.labels;
      let lastError: Error | undefined;
      const { successes, failures, error } = await slowStartBatch(count, async () => {
        if (!templateLabels || Object.keys(templateLabels).length === 0) {
          const e = new Error('unable to create pods, no labels');
          this.expectations.creationObserved(rsKey);
          this.recorder.event(this.typed(rs), 'Warning', 'FailedCreate', `Error creating: ${e.message}`);
          throw e;
        }
        try {
          const created = await this.client.create<KObject>(POD_REF_NS(rs), podFromTemplate(rs, rs.spec?.template, ref));
          this.recorder.event(this.typed(rs), 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
        } catch (e) {
          lastError = e as Error;
          this.expectations.creationObserved(rsKey);
          this.recorder.event(this.typed(rs), 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
          throw e;
        }
      });
      // Batches never attempted will never show up: stop expecting them (each failure already
      // lowered the count by one).
      const skipped = count - successes - failures;
      if (skipped > 0) this.expectations.lowerExpectations(rsKey, skipped, 0);
      if (error) return { message: (lastError ?? error).message, creating: true };
      return undefined;
    }
    if (diff > 0) {
      const count = Math.min(diff, BURST_REPLICAS);
      const related = this.relatedActivePods(rs);
      const victims = podsToDelete(pods, related, count);
      this.expectations.expectDeletionsOf(rsKey, victims.map(key));
      const results = await Promise.allSettled(
        victims.map(async (pod) => {
          try {
            await this.client.delete({ ...POD_REF, namespace: pod.metadata.namespace, name: pod.metadata.name! });
            this.recorder.event(this.typed(rs), 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
          } catch (e) {
            // The informer will not see a deletion that did not happen.
            this.expectations.deletionObservedOf(rsKey, key(pod));
            if (isNotFound(e)) return;
            this.recorder.event(this.typed(rs), 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
            throw e;
          }
        }),
      );
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) return { message: (failed.reason as Error).message, creating: false };
    }
    return undefined;
  }

  /** Active pods of this RS and of every ReplicaSet with the same controlling owner. */
  private relatedActivePods(rs: KObject): KObject[] {
    const owner = controllerRefOf(rs);
    const uids = new Set<string>([rs.metadata.uid!]);
    if (owner) {
      for (const other of this.rsInformer.lister().namespace(rs.metadata.namespace ?? '').list()) {
        if (controllerRefOf(other)?.uid === owner.uid) uids.add(other.metadata.uid!);
      }
    }
    return [...uids].flatMap((uid) => this.podInformer.indexer.byIndex(POD_CONTROLLER_INDEX, uid)).filter(isPodActive);
  }

  /** Write status if it changed; on conflict re-read once and retry (upstream retries once). */
  private async updateStatus(rs: KObject, status: ReturnType<typeof calculateReplicaSetStatus>): Promise<typeof status> {
    if (!replicaSetStatusChanged(rs, status)) return status;
    let cur = rs;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.updateStatus({ ...this.kind.ref, namespace: cur.metadata.namespace, name: cur.metadata.name! }, { ...cur, status });
        return status;
      } catch (e) {
        if (isNotFound(e)) return status;
        if (!isConflict(e) || attempt >= 1) throw e;
        cur = await this.client.get({ ...this.kind.ref, namespace: rs.metadata.namespace, name: rs.metadata.name! });
        status.observedGeneration = cur.metadata.generation;
      }
    }
  }
}

/** What a ReplicaSet sync reads from an owned pod besides labels and owner: activeness and readiness. */
function podStateChanged(old: KObject, cur: KObject): boolean {
  if (old.status?.phase !== cur.status?.phase || !!old.metadata.deletionTimestamp !== !!cur.metadata.deletionTimestamp) return true;
  const a = podReadyCondition(old);
  const b = podReadyCondition(cur);
  return a?.status !== b?.status || a?.lastTransitionTime !== b?.lastTransitionTime;
}

function POD_REF_NS(owner: KObject) {
  return { ...POD_REF, namespace: owner.metadata.namespace };
}

/** A controller for a kind that works like ReplicaSets. */
export function replicaController(kind: ReplicaKind): ControllerFactory {
  return (ctx) => new ReplicaController(ctx, kind);
}

export const replicaSetController: ControllerFactory = replicaController(replicaSetKind);
