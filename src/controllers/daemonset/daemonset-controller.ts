// The DaemonSet controller: one pod per eligible node, pinned there through required node affinity
// (so the scheduler places it), replaced node by node on template changes (RollingUpdate with
// maxUnavailable or maxSurge, or OnDelete), with ControllerRevisions and upstream's status counts.

import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import type { EventRecorder } from '../../client/event-recorder.ts';
import { UIDTrackingExpectations } from '../../client/expectations.ts';
import type { Lister } from '../../client/cache.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { DAEMONSETS, NODES, PODS, REVISIONS, byCreation, controllerRef, newControllerRef, podFromTemplate, slowStartBatch } from '../job/pod-helpers.ts';
import { isPodAvailable, isPodReady } from '../../api/core/pod-state.ts';
import { nodeEligibility, pinToNode, targetNodeName, withDaemonTolerations } from './node-eligibility.ts';
import { ensureRevision, revisionSpecFor, truncateHistory } from './revision-history.ts';
import { scaledValue } from '../../machinery/intstr.ts';

export const REVISION_HASH_LABEL = 'controller-revision-hash';
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

export function newDaemonSetController(opts: { now?: () => number } = {}): ControllerFactory {
  return (ctx) => new DaemonSetController(ctx, opts.now ?? Date.now);
}

/** maxSurge / maxUnavailable of a rolling update, rounded up as upstream; unset counts as 0. */
function scaledOrZero(v: number | string | undefined, total: number): number {
  return v === undefined || v === null ? 0 : scaledValue(v, total, true);
}

function alive(p: KObject): boolean {
  return !p.metadata.deletionTimestamp && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded';
}

class DaemonSetController implements Controller {
  readonly name = 'daemonset-controller';
  private readonly worker: KeyWorker;
  private readonly sets: Lister;
  private readonly pods: Lister;
  private readonly nodes: Lister;
  private readonly revisions: Lister;
  private readonly recorder: EventRecorder;
  private readonly expectations = new UIDTrackingExpectations();

  constructor(private readonly ctx: ControllerContext, private readonly now: () => number) {
    this.recorder = ctx.recorder('daemonset-controller');
    this.worker = new KeyWorker(this.name, (k) => this.sync(k), ctx.log);
    const dsInf = ctx.informers.informerFor(DAEMONSETS as any);
    const podInf = ctx.informers.informerFor(PODS as any);
    const nodeInf = ctx.informers.informerFor(NODES as any);
    const revInf = ctx.informers.informerFor(REVISIONS as any);
    this.sets = dsInf.lister();
    this.pods = podInf.lister();
    this.nodes = nodeInf.lister();
    this.revisions = revInf.lister();
    const add = (o: KObject) => this.worker.add(`${o.metadata.namespace}/${o.metadata.name}`);
    dsInf.addEventHandler({ onAdd: add, onUpdate: (_o, n) => add(n), onDelete: add });
    const all = () => this.sets.list().forEach(add);
    nodeInf.addEventHandler({
      onAdd: all,
      onUpdate: (o, n) => {
        if (o === n) return;
        const changed = JSON.stringify([o.metadata.labels, o.spec?.taints, o.spec?.unschedulable]) !== JSON.stringify([n.metadata.labels, n.spec?.taints, n.spec?.unschedulable]);
        if (changed) all();
      },
      onDelete: all,
    });
    const owner = (p: KObject) => {
      const r = controllerRef(p);
      return r?.kind === 'DaemonSet' ? `${p.metadata.namespace}/${r.name}` : undefined;
    };
    podInf.addEventHandler({
      onAdd: (p) => {
        const k = owner(p);
        if (!k) return;
        if (p.metadata.deletionTimestamp) this.expectations.deletionObservedOf(k, podKey(p));
        else this.expectations.creationObserved(k);
        this.worker.add(k);
      },
      onUpdate: (o, n) => {
        const k = owner(n);
        if (!k) return;
        if (n.metadata.deletionTimestamp && !o.metadata.deletionTimestamp) this.expectations.deletionObservedOf(k, podKey(n));
        this.worker.add(k);
      },
      onDelete: (p) => {
        const k = owner(p);
        if (!k) return;
        this.expectations.deletionObservedOf(k, podKey(p));
        this.worker.add(k);
      },
    });
  }

  run(): void {
    this.worker.run(this.ctx.options.workers);
  }

  async stop(): Promise<void> {
    await this.worker.stop();
  }

  /** Find or create the revision for the current template; returns its hash. */
  private async currentRevision(ds: KObject): Promise<{ hash: string; revs: KObject[]; collisionCount: number; name: string }> {
    const ns = ds.metadata.namespace!;
    const owned = this.revisions.namespace(ns).list((r) => controllerRef(r)?.uid === ds.metadata.uid);
    const { revision, collisionCount, revisions } = await ensureRevision(this.ctx.client, owned, revisionSpecFor(ds, 'DaemonSet', REVISION_HASH_LABEL), ds.status?.collisionCount ?? 0);
    const hash = revision.metadata.labels?.[REVISION_HASH_LABEL] ?? revision.metadata.name!.slice(ds.metadata.name!.length + 1);
    return { hash, revs: revisions, collisionCount, name: revision.metadata.name! };
  }

  private async sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const ds = this.sets.namespace(ns).get(name);
    if (!ds) {
      this.expectations.deleteExpectations(key);
      return;
    }
    if (ds.metadata.deletionTimestamp) return;
    const { hash, revs, collisionCount, name: revName } = await this.currentRevision(ds);
    const pods = this.pods.namespace(ns).list((p) => controllerRef(p)?.uid === ds.metadata.uid);
    const nodes = this.nodes.list();
    const nodeNames = new Set(nodes.map((n) => n.metadata.name!));
    const byNode = new Map<string, KObject[]>();
    const orphaned: KObject[] = [];
    for (const p of pods) {
      const n = targetNodeName(p);
      if (!n || !nodeNames.has(n)) {
        if (alive(p)) orphaned.push(p);
        continue;
      }
      (byNode.get(n) ?? byNode.set(n, []).get(n)!).push(p);
    }
    const nowMs = this.now();
    const minReady: number = ds.spec.minReadySeconds ?? 0;
    const isNew = (p: KObject) => p.metadata.labels?.[REVISION_HASH_LABEL] === hash;

    if (this.expectations.satisfiedExpectations(key)) {
      const create: string[] = [];
      const del: KObject[] = [...orphaned];
      const surgeOn = ds.spec.updateStrategy?.type === 'RollingUpdate' && scaledOrZero(ds.spec.updateStrategy.rollingUpdate?.maxSurge, 1) > 0;
      for (const node of nodes) {
        const elig = nodeEligibility(node, ds.spec.template?.spec);
        const onNode = (byNode.get(node.metadata.name!) ?? []).sort(byCreation);
        const running = onNode.filter(alive);
        if (elig.shouldRun) {
          for (const p of onNode.filter((x) => x.status?.phase === 'Failed' && !x.metadata.deletionTimestamp)) {
            this.recorder.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${ns}/${p.metadata.name} on node ${node.metadata.name}, will try to kill it`);
            del.push(p);
          }
          if (!running.length) create.push(node.metadata.name!);
          else if (running.length > 1) {
            // Keep the oldest (or, while surging, the oldest old and the oldest new).
            const keep = surgeOn ? [running.find((p) => !isNew(p)), running.find(isNew)].filter(Boolean) : [running[0]];
            del.push(...running.filter((p) => !keep.includes(p)));
          }
        } else if (!elig.shouldContinueRunning) {
          del.push(...running);
        }
      }
      if (!create.length && !del.length && ds.spec.updateStrategy?.type === 'RollingUpdate') {
        const r = this.rollingUpdate(ds, nodes, byNode, isNew, nowMs);
        create.push(...r.create);
        del.push(...r.del);
      }
      if (create.length || del.length) await this.apply(key, ds, create, del, hash);
    }

    // Status, counted over the nodes the pods should run on.
    let desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
    for (const node of nodes) {
      const elig = nodeEligibility(node, ds.spec.template?.spec);
      const running = (byNode.get(node.metadata.name!) ?? []).filter(alive).sort(byCreation);
      if (elig.shouldRun) {
        desired++;
        if (running.length) {
          current++;
          const p = running.find(isNew) ?? running[0];
          if (isPodReady(p)) ready++;
          if (isPodAvailable(p, minReady, nowMs)) available++;
          if (isNew(p)) updated++;
        }
      } else if (running.length) misscheduled++;
    }
    const status: any = {
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata.generation,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: desired - available,
    };
    if (collisionCount) status.collisionCount = collisionCount;
    if (ds.status?.conditions) status.conditions = ds.status.conditions;
    const old = ds.status ?? {};
    const same = Object.keys(status).every((k) => JSON.stringify(status[k]) === JSON.stringify(old[k] ?? (k === 'observedGeneration' ? undefined : 0)));
    if (!same) await this.ctx.client.updateStatus({ ...DAEMONSETS, namespace: ns, name }, { ...ds, status });
    if (minReady > 0 && ready > available) this.worker.addAfter(key, minReady * 1000);

    const live = new Set<string>([revName]);
    for (const p of pods) {
      const h = p.metadata.labels?.[REVISION_HASH_LABEL];
      if (h) live.add(`${name}-${h}`);
    }
    await truncateHistory(this.ctx.client, revs, live, ds.spec.revisionHistoryLimit ?? 10);
  }

  /** One step of a rolling update; returns pods to create (by node) and delete. */
  private rollingUpdate(ds: KObject, nodes: KObject[], byNode: Map<string, KObject[]>, isNew: (p: KObject) => boolean, nowMs: number): { create: string[]; del: KObject[] } {
    const minReady: number = ds.spec.minReadySeconds ?? 0;
    const eligible = nodes.filter((n) => nodeEligibility(n, ds.spec.template?.spec).shouldRun);
    const desired = eligible.length;
    const ru = ds.spec.updateStrategy?.rollingUpdate ?? {};
    const maxSurge = scaledOrZero(ru.maxSurge, desired);
    let maxUnavailable = scaledOrZero(ru.maxUnavailable, desired);
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    const create: string[] = [];
    const del: KObject[] = [];
    const avail = (p: KObject) => isPodAvailable(p, minReady, nowMs);

    if (maxSurge === 0) {
      let unavailable = 0;
      const oldAvailable: KObject[] = [];
      for (const n of eligible) {
        const running = (byNode.get(n.metadata.name!) ?? []).filter(alive);
        const p = running[0];
        if (!p || !avail(p)) unavailable++;
        if (p && !isNew(p)) {
          if (!avail(p)) del.push(p); // already down: replacing it costs nothing
          else oldAvailable.push(p);
        }
      }
      for (const p of oldAvailable) {
        if (unavailable >= maxUnavailable) break;
        del.push(p);
        unavailable++;
      }
      return { create, del };
    }

    // Surge: start the new pod beside the old one, remove the old one once the new is available.
    let surging = 0;
    const candidates: string[] = [];
    for (const n of eligible) {
      const running = (byNode.get(n.metadata.name!) ?? []).filter(alive);
      const oldP = running.filter((p) => !isNew(p));
      const newP = running.find(isNew);
      if (!oldP.length) continue;
      if (newP) {
        if (avail(newP)) del.push(...oldP);
        else surging++;
      } else if (!oldP.some(avail)) {
        del.push(...oldP);
      } else candidates.push(n.metadata.name!);
    }
    for (const n of candidates) {
      if (surging >= maxSurge) break;
      create.push(n);
      surging++;
    }
    return { create, del };
  }

  private async apply(key: string, ds: KObject, create: string[], del: KObject[], hash: string): Promise<void> {
    this.expectations.expectDeletionsOf(key, del.map(podKey));
    this.expectations.raiseExpectations(key, create.length, 0);
    const errors: unknown[] = [];
    await Promise.all(
      del.map(async (p) => {
        try {
          await this.ctx.client.delete({ ...PODS, namespace: p.metadata.namespace, name: p.metadata.name! }, { preconditions: { uid: p.metadata.uid } });
          this.recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        } catch (e) {
          this.expectations.deletionObservedOf(key, podKey(p));
          if (!isNotFound(e)) errors.push(e);
        }
      }),
    );
    if (create.length) {
      const res = await slowStartBatch(create.length, async (i) => {
        const pod = podFromTemplate(ds.spec.template, ds, newControllerRef(ds, 'apps/v1', 'DaemonSet'));
        pod.metadata.generateName = `${ds.metadata.name}-`;
        pod.metadata.labels![REVISION_HASH_LABEL] = hash;
        pod.metadata.labels![TEMPLATE_GENERATION_LABEL] = String(ds.metadata.generation ?? 1);
        pinToNode(pod.spec, create[i]);
        pod.spec.tolerations = withDaemonTolerations(pod.spec.tolerations, !!pod.spec.hostNetwork);
        try {
          const made = await this.ctx.client.create<KObject>({ ...PODS, namespace: ds.metadata.namespace }, pod);
          this.recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${made.metadata.name}`);
        } catch (e) {
          this.recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
          throw e;
        }
      });
      const missed = create.length - res.created;
      if (missed) this.expectations.lowerExpectations(key, missed, 0);
      if (res.error) errors.push(res.error);
    }
    if (errors.length) throw errors[0];
  }
}

function podKey(p: KObject): string {
  return `${p.metadata.namespace}/${p.metadata.name}`;
}
