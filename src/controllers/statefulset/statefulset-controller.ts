// The StatefulSet controller: pods with stable names and storage, created in ordinal order (one at
// a time, each Running and Ready first, for OrderedReady; all at once for Parallel), removed in
// reverse order, updated from the highest ordinal down to the partition, with ControllerRevisions
// recording each template. Pod names are fixed, so a repeated create just finds AlreadyExists.

import type { KObject } from '../../api/types.ts';
import { isAlreadyExists, isNotFound } from '../../client/api-client.ts';
import type { EventRecorder } from '../../client/event-recorder.ts';
import type { Lister } from '../../client/cache.ts';
import { labelSelectorFromObject } from '../../machinery/labels.ts';
import { isPodTerminal } from '../../api/core/pod-state.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { PODS, PVCS, REVISIONS, STATEFULSETS, adopt, controllerRef, newControllerRef } from '../job/pod-helpers.ts';
import { isPodAvailable, isPodReady } from '../../api/core/pod-state.ts';
import { ensureRevision, revisionSpecFor, templateFromRevision, truncateHistory } from '../daemonset/revision-history.ts';
import { REVISION_LABEL, claimName, claimOwners, newClaim, newStatefulPod, ordinalOf } from './identity.ts';

/** The label upstream's history package puts the data hash in on StatefulSet revisions. */
const CONTROLLER_REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';

export function newStatefulSetController(opts: { now?: () => number } = {}): ControllerFactory {
  return (ctx) => new StatefulSetController(ctx, opts.now ?? Date.now);
}

function runningAndReady(p: KObject): boolean {
  return p.status?.phase === 'Running' && isPodReady(p);
}

class StatefulSetController implements Controller {
  readonly name = 'statefulset-controller';
  private readonly worker: KeyWorker;
  private readonly sets: Lister;
  private readonly pods: Lister;
  private readonly claims: Lister;
  private readonly revisions: Lister;
  private readonly recorder: EventRecorder;

  constructor(private readonly ctx: ControllerContext, private readonly now: () => number) {
    this.recorder = ctx.recorder('statefulset-controller');
    this.worker = new KeyWorker(this.name, (k) => this.sync(k), ctx.log);
    const setInf = ctx.informers.informerFor(STATEFULSETS as any);
    const podInf = ctx.informers.informerFor(PODS as any);
    this.sets = setInf.lister();
    this.pods = podInf.lister();
    this.claims = ctx.informers.informerFor(PVCS as any).lister();
    this.revisions = ctx.informers.informerFor(REVISIONS as any).lister();
    const add = (o: KObject) => this.worker.add(`${o.metadata.namespace}/${o.metadata.name}`);
    setInf.addEventHandler({ onAdd: add, onUpdate: (_o, n) => add(n), onDelete: add });
    const onPod = (p: KObject) => {
      const r = controllerRef(p);
      if (r?.kind === 'StatefulSet') this.worker.add(`${p.metadata.namespace}/${r.name}`);
      else if (!r) {
        // An orphan may be ours to adopt.
        for (const s of this.sets.namespace(p.metadata.namespace!).list()) if (ordinalOf(s.metadata.name!, p) !== undefined) add(s);
      }
    };
    podInf.addEventHandler({ onAdd: onPod, onUpdate: (_o, n) => onPod(n), onDelete: onPod });
  }

  run(): void {
    this.worker.run(this.ctx.options.workers);
  }

  async stop(): Promise<void> {
    await this.worker.stop();
  }

  private async revisionsFor(set: KObject): Promise<{ current: KObject; update: KObject; revs: KObject[]; collisionCount: number }> {
    const ns = set.metadata.namespace!;
    const owned = this.revisions.namespace(ns).list((r) => controllerRef(r)?.uid === set.metadata.uid);
    const { revision: update, collisionCount, revisions: revs } = await ensureRevision(
      this.ctx.client,
      owned,
      revisionSpecFor(set, 'StatefulSet', CONTROLLER_REVISION_HASH_LABEL),
      set.status?.collisionCount ?? 0,
    );
    const current = revs.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
    return { current, update, revs, collisionCount };
  }

  private async sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const set = this.sets.namespace(ns).get(name);
    if (!set || set.metadata.deletionTimestamp) return;
    const selector = labelSelectorFromObject(set.spec.selector);
    const owned: KObject[] = [];
    for (const p of this.pods.namespace(ns).list()) {
      const ref = controllerRef(p);
      if (ref?.uid === set.metadata.uid) owned.push(p);
      else if (!ref && !p.metadata.deletionTimestamp && selector.matches(p.metadata.labels) && ordinalOf(name, p) !== undefined) {
        const adopted = await adopt(this.ctx.client, PODS, p, newControllerRef(set, 'apps/v1', 'StatefulSet'));
        if (adopted) owned.push(adopted);
      }
    }
    const { current, update, revs, collisionCount } = await this.revisionsFor(set);
    const start: number = set.spec.ordinals?.start ?? 0;
    const replicas: number = set.spec.replicas ?? 1;
    const monotonic = set.spec.podManagementPolicy !== 'Parallel';
    const rolling = (set.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const partition: number = rolling ? (set.spec.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;
    const minReady: number = set.spec.minReadySeconds ?? 0;

    const slots: Array<KObject | undefined> = Array.from({ length: replicas });
    const condemned: KObject[] = [];
    for (const p of owned) {
      const ord = ordinalOf(name, p);
      if (ord === undefined) continue;
      if (ord >= start && ord < start + replicas) slots[ord - start] = p;
      else condemned.push(p);
    }
    condemned.sort((a, b) => ordinalOf(name, b)! - ordinalOf(name, a)!);
    const created: KObject[] = [];

    const act = async (): Promise<void> => {
      // Create or replace missing and finished pods, in ordinal order.
      for (let i = 0; i < replicas; i++) {
        const ord = start + i;
        let pod = slots[i];
        if (pod && isPodTerminal(pod) && !pod.metadata.deletionTimestamp) {
          await this.deletePod(set, pod);
          if (monotonic) return;
          continue;
        }
        if (!pod) {
          const rev = rolling && i < partition ? current : update;
          await this.ensureClaims(set, ord);
          pod = await this.createPod(set, newStatefulPod(set, templateFromRevision(rev), ord, rev.metadata.name!));
          if (pod) created.push(pod);
          if (monotonic) return;
          continue;
        }
        await this.ensureClaims(set, ord);
        if (monotonic && (pod.metadata.deletionTimestamp || !runningAndReady(pod) || !isPodAvailable(pod, minReady, this.now()))) return;
      }
      // Remove pods beyond the replica range, highest ordinal first.
      for (const pod of condemned) {
        if (pod.metadata.deletionTimestamp) {
          if (monotonic) return;
          continue;
        }
        await this.releaseClaims(set, pod);
        await this.deletePod(set, pod);
        if (monotonic) return;
      }
      if (!rolling) return;
      // Rolling update: from the highest ordinal down to the partition, one unavailable pod at a time.
      for (let i = replicas - 1; i >= partition; i--) {
        const pod = slots[i];
        if (!pod) return;
        if (pod.metadata.labels?.[REVISION_LABEL] !== update.metadata.name && !pod.metadata.deletionTimestamp) {
          await this.deletePod(set, pod);
          return;
        }
        if (pod.metadata.deletionTimestamp || !runningAndReady(pod) || !isPodAvailable(pod, minReady, this.now())) return;
      }
    };
    await act();

    // Status from what we observed plus what we just created.
    const all = [...slots.filter((p): p is KObject => !!p), ...condemned, ...created];
    const nowMs = this.now();
    const status: any = {
      observedGeneration: set.metadata.generation,
      replicas: 0,
      readyReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      availableReplicas: 0,
      currentRevision: current.metadata.name,
      updateRevision: update.metadata.name,
      collisionCount,
    };
    for (const p of all) {
      status.replicas++;
      if (runningAndReady(p)) {
        status.readyReplicas++;
        if (isPodAvailable(p, minReady, nowMs)) status.availableReplicas++;
      }
      if (!p.metadata.deletionTimestamp) {
        if (p.metadata.labels?.[REVISION_LABEL] === current.metadata.name) status.currentReplicas++;
        if (p.metadata.labels?.[REVISION_LABEL] === update.metadata.name) status.updatedReplicas++;
      }
    }
    if (rolling && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas && status.replicas === replicas) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    if (!rolling && status.currentReplicas === 0 && status.updatedReplicas === status.replicas) {
      // OnDelete: once every old pod is gone the update revision becomes current.
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    if (set.status?.conditions) status.conditions = set.status.conditions;
    const old = set.status ?? {};
    const changed = Object.keys(status).some((k) => JSON.stringify(status[k] ?? 0) !== JSON.stringify(old[k] ?? 0));
    if (changed) await this.ctx.client.updateStatus({ ...STATEFULSETS, namespace: ns, name }, { ...set, status });
    if (minReady > 0 && status.readyReplicas > status.availableReplicas) this.worker.addAfter(key, minReady * 1000);

    const live = new Set<string>([status.currentRevision, status.updateRevision]);
    for (const p of all) if (p.metadata.labels?.[REVISION_LABEL]) live.add(p.metadata.labels[REVISION_LABEL]);
    await truncateHistory(this.ctx.client, revs, live, set.spec.revisionHistoryLimit ?? 10);
  }

  private async createPod(set: KObject, pod: KObject): Promise<KObject | undefined> {
    const name = pod.metadata.name;
    try {
      const made = await this.ctx.client.create<KObject>({ ...PODS, namespace: set.metadata.namespace }, pod);
      this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${set.metadata.name} successful`);
      return made;
    } catch (e) {
      if (isAlreadyExists(e)) return undefined; // our earlier create; the watch will show it
      this.recorder.event(set, 'Warning', 'FailedCreate', `create Pod ${name} in StatefulSet ${set.metadata.name} failed error: ${(e as Error).message}`);
      throw e;
    }
  }

  private async deletePod(set: KObject, pod: KObject): Promise<void> {
    const name = pod.metadata.name;
    try {
      await this.ctx.client.delete({ ...PODS, namespace: pod.metadata.namespace, name: name! }, { preconditions: { uid: pod.metadata.uid } });
      this.recorder.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${name} in StatefulSet ${set.metadata.name} successful`);
    } catch (e) {
      if (isNotFound(e)) return;
      this.recorder.event(set, 'Warning', 'FailedDelete', `delete Pod ${name} in StatefulSet ${set.metadata.name} failed error: ${(e as Error).message}`);
      throw e;
    }
  }

  /** Create the pod's missing claims (before the pod, so it never starts without its storage). */
  private async ensureClaims(set: KObject, ordinal: number): Promise<void> {
    const ns = set.metadata.namespace!;
    for (const t of set.spec.volumeClaimTemplates ?? []) {
      const cn = claimName(t.metadata.name, set, ordinal);
      if (this.claims.namespace(ns).get(cn)) continue;
      const pod = `${set.metadata.name}-${ordinal}`;
      try {
        await this.ctx.client.create({ ...PVCS, namespace: ns }, newClaim(set, t, ordinal));
        this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${cn} Pod ${pod} in StatefulSet ${set.metadata.name} success`);
      } catch (e) {
        if (isAlreadyExists(e)) continue;
        this.recorder.event(set, 'Warning', 'FailedCreate', `create Claim ${cn} for Pod ${pod} in StatefulSet ${set.metadata.name} failed error: ${(e as Error).message}`);
        throw e;
      }
    }
  }

  /** whenScaled=Delete: hand a condemned pod's claims to the pod, so they go with it. */
  private async releaseClaims(set: KObject, pod: KObject): Promise<void> {
    if (set.spec.persistentVolumeClaimRetentionPolicy?.whenScaled !== 'Delete') return;
    const ns = set.metadata.namespace!;
    const ord = ordinalOf(set.metadata.name!, pod)!;
    for (const t of set.spec.volumeClaimTemplates ?? []) {
      const cn = claimName(t.metadata.name, set, ord);
      const claim = this.claims.namespace(ns).get(cn);
      if (!claim || (claim.metadata.ownerReferences ?? []).some((r) => r.uid === pod.metadata.uid)) continue;
      const refs = [...(claim.metadata.ownerReferences ?? []).filter((r) => r.kind !== 'Pod'), ...claimOwners(set, pod, true).filter((r) => r.kind === 'Pod')];
      try {
        // An update, as upstream's: the controller's role may update claims but not patch them.
        const next = structuredClone(claim);
        next.metadata.ownerReferences = refs;
        await this.ctx.client.update({ ...PVCS, namespace: ns, name: cn }, next);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }
}
