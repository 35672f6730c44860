// Garbage collector: follows metadata.ownerReferences across every listable, watchable and
// deletable resource (found through discovery, re-polled so later resources join) and
//  - deletes dependents whose owners are all gone (owners are matched by uid, and an owner missing
//    from the caches is confirmed absent with a live GET first); a dependent that still has a live
//    owner only loses its references to the gone ones;
//  - for an owner deleted in the foreground (`foregroundDeletion` finalizer) deletes its dependents
//    (cascading in the foreground) and removes the finalizer once no dependent that blocks owner
//    deletion remains;
//  - for an owner deleted with the `orphan` finalizer strips the references to it from its
//    dependents, then removes the finalizer.
// Work items are object uids; each sync re-reads the caches, so the loop is level-triggered.

import type { KObject, OwnerReference } from '../../api/types.ts';
import { ApiError, isNotFound, type ResourceRef } from '../../client/api-client.ts';
import { metaNamespaceKey } from '../../client/cache.ts';
import type { Informer } from '../../client/informer.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { discoverResources, groupOf, hasVerbs, type DiscoveredResource } from './discovery.ts';

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';
const OWNER_UID_INDEX = 'gc-owner-uid';

/** Upstream's garbage collector ignores Events: they are never owners and seldom dependents. */
const ignoredResources = new Set(['/events', 'events.k8s.io/events']);

export interface GarbageCollectorOptions {
  /** How often discovery is re-read for new resources (upstream: 30 s). */
  discoveryPeriodMs?: number;
  /** Re-check period for an owner waiting on its dependents in the foreground. */
  foregroundRecheckMs?: number;
}

interface Monitor {
  res: DiscoveredResource;
  informer: Informer<KObject>;
}

interface Located {
  obj: KObject;
  res: DiscoveredResource;
}

type OwnerState = 'solid' | 'dangling' | 'waiting' | 'unknown';

export function createGarbageCollector(ctx: ControllerContext, opts: GarbageCollectorOptions = {}): Controller {
  const discoveryPeriodMs = opts.discoveryPeriodMs ?? 30_000;
  const recheckMs = opts.foregroundRecheckMs ?? 5_000;
  const monitors = new Map<string, Monitor>();
  /** uid -> where the object lives in the caches. */
  const byUid = new Map<string, { monitor: Monitor; key: string }>();
  /** `group/Kind` -> resource, to resolve owner references. */
  const byKind = new Map<string, DiscoveredResource>();
  const worker = new KeyWorker('garbagecollector', sync, ctx.log);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let starting: Promise<void> | undefined;

  const refFor = (res: DiscoveredResource, namespace: string | undefined, name: string): ResourceRef & { name: string } => ({
    group: res.group || undefined,
    version: res.version,
    resource: res.resource,
    namespace: res.namespaced ? namespace : undefined,
    name,
  });

  function locate(uid: string): Located | undefined {
    const loc = byUid.get(uid);
    if (!loc) return undefined;
    const obj = loc.monitor.informer.indexer.getByKey(loc.key);
    if (!obj || obj.metadata.uid !== uid) return undefined;
    return { obj, res: loc.monitor.res };
  }

  function dependentsOf(uid: string): Located[] {
    const out: Located[] = [];
    for (const m of monitors.values()) {
      if (!m.informer.indexer.hasIndex(OWNER_UID_INDEX)) continue;
      for (const obj of m.informer.indexer.byIndex(OWNER_UID_INDEX, uid)) out.push({ obj, res: m.res });
    }
    return out;
  }

  const isDeletingWith = (obj: KObject, finalizer: string) => !!obj.metadata.deletionTimestamp && !!obj.metadata.finalizers?.includes(finalizer);

  // ---- event handling: decide which uids need a look ----

  function observe(obj: KObject): void {
    const m = obj.metadata;
    if (!m.uid) return;
    if (isDeletingWith(obj, ORPHAN_FINALIZER) || isDeletingWith(obj, FOREGROUND_FINALIZER)) {
      worker.add(m.uid);
      return;
    }
    if (m.deletionTimestamp) return;
    // A dependent needs a look when an owner is missing from the caches or deleting in the foreground.
    for (const ref of m.ownerReferences ?? []) {
      const owner = locate(ref.uid);
      if (!owner || isDeletingWith(owner.obj, FOREGROUND_FINALIZER)) {
        worker.add(m.uid);
        return;
      }
    }
  }

  function onAdd(monitor: Monitor, obj: KObject): void {
    if (obj.metadata.uid) byUid.set(obj.metadata.uid, { monitor, key: metaNamespaceKey(obj) });
    observe(obj);
  }

  function onUpdate(monitor: Monitor, old: KObject, obj: KObject): void {
    onAdd(monitor, obj);
    // Owners that lost a reference may be waiting for exactly that in the foreground.
    const now = new Set((obj.metadata.ownerReferences ?? []).map((r) => r.uid));
    for (const r of old.metadata.ownerReferences ?? []) if (!now.has(r.uid)) wakeOwner(r.uid);
  }

  function onDelete(obj: KObject): void {
    const uid = obj.metadata.uid;
    if (!uid) return;
    const loc = byUid.get(uid);
    if (loc && loc.key === metaNamespaceKey(obj)) byUid.delete(uid);
    for (const d of dependentsOf(uid)) if (d.obj.metadata.uid) worker.add(d.obj.metadata.uid);
    for (const r of obj.metadata.ownerReferences ?? []) wakeOwner(r.uid);
  }

  function wakeOwner(uid: string): void {
    const owner = locate(uid);
    if (owner && isDeletingWith(owner.obj, FOREGROUND_FINALIZER)) worker.add(uid);
  }

  function monitor(res: DiscoveredResource): void {
    const key = `${res.group}/${res.resource}`;
    byKind.set(`${res.group}/${res.kind}`, res);
    if (stopped || monitors.has(key) || ignoredResources.has(key)) return;
    if (!hasVerbs(res, 'list', 'watch', 'delete')) return;
    const informer = ctx.informers.informerFor<KObject>({
      group: res.group || undefined,
      version: res.version,
      resource: res.resource,
      indexers: { [OWNER_UID_INDEX]: (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid) },
    });
    const m: Monitor = { res, informer };
    monitors.set(key, m);
    informer.addEventHandler({
      onAdd: (o) => onAdd(m, o),
      onUpdate: (o, n) => onUpdate(m, o, n),
      onDelete: (o) => onDelete(o),
    });
  }

  async function rediscover(): Promise<void> {
    try {
      const { resources, failed } = await discoverResources(ctx.client);
      for (const r of resources) monitor(r);
      for (const [gv, msg] of failed) ctx.log(`garbagecollector: discovery of ${gv} failed: ${msg}`);
    } catch (e) {
      ctx.log(`garbagecollector: discovery failed: ${(e as Error).message}`);
    }
  }

  // ---- sync ----

  async function sync(uid: string): Promise<void> {
    const item = locate(uid);
    if (!item) return;
    const { obj } = item;
    if (isDeletingWith(obj, ORPHAN_FINALIZER)) return orphanDependents(item);
    if (isDeletingWith(obj, FOREGROUND_FINALIZER)) return deleteDependentsFirst(item);
    if (obj.metadata.deletionTimestamp) return;
    if (obj.metadata.ownerReferences?.length) return attemptToDelete(item);
  }

  /** Where an owner reference points: live, gone, deleting in the foreground, or unresolvable. */
  async function ownerState(dep: Located, ref: OwnerReference): Promise<OwnerState> {
    const res = byKind.get(`${groupOf(ref.apiVersion)}/${ref.kind}`);
    const depNs = dep.obj.metadata.namespace;
    // Right after start the owner's informer may still be listing: wait rather than GET each owner.
    const ownerMonitor = res && monitors.get(`${res.group}/${res.resource}`);
    if (ownerMonitor && !ownerMonitor.informer.hasSynced()) await ownerMonitor.informer.waitForSync().catch(() => {});
    const cached = locate(ref.uid);
    // A namespaced owner must live in the dependent's namespace (cross-namespace references are invalid).
    if (cached && (!cached.res.namespaced || cached.obj.metadata.namespace === depNs)) {
      return isDeletingWith(cached.obj, FOREGROUND_FINALIZER) ? 'waiting' : 'solid';
    }
    if (!res) return 'unknown';
    if (res.namespaced && !depNs) return 'dangling';
    // Absent from the caches: confirm with the server before treating it as gone.
    try {
      const live = await ctx.client.get<KObject>(refFor(res, depNs, ref.name));
      if (live.metadata.uid !== ref.uid) return 'dangling';
      return isDeletingWith(live, FOREGROUND_FINALIZER) ? 'waiting' : 'solid';
    } catch (e) {
      if (isNotFound(e)) return 'dangling';
      throw e;
    }
  }

  async function attemptToDelete(item: Located): Promise<void> {
    const { obj, res } = item;
    const refs = obj.metadata.ownerReferences ?? [];
    const states = await Promise.all(refs.map((r) => ownerState(item, r)));
    if (states.includes('unknown')) {
      // An owner of a kind we cannot resolve (yet): leave the dependent alone and look again later.
      worker.addAfter(obj.metadata.uid!, discoveryPeriodMs);
      return;
    }
    const solid = states.some((s) => s === 'solid');
    const gone = new Set(refs.filter((_, i) => states[i] !== 'solid').map((r) => r.uid));
    if (gone.size === 0) return;
    if (solid) {
      // Other owners keep it alive: only drop the references to the gone or deleting owners.
      await patchOwnerRefs(item, refs.filter((r) => !gone.has(r.uid)));
      return;
    }
    const waiting = states.includes('waiting');
    let policy: 'Foreground' | 'Background' | 'Orphan' = 'Background';
    if (waiting) policy = 'Foreground';
    else if (obj.metadata.finalizers?.includes(ORPHAN_FINALIZER)) policy = 'Orphan';
    else if (obj.metadata.finalizers?.includes(FOREGROUND_FINALIZER)) policy = 'Foreground';
    try {
      await ctx.client.delete(refFor(res, obj.metadata.namespace, obj.metadata.name!), {
        propagationPolicy: policy,
        preconditions: { uid: obj.metadata.uid },
      });
    } catch (e) {
      if (isNotFound(e) || isUidConflict(e)) return;
      throw e;
    }
  }

  async function deleteDependentsFirst(owner: Located): Promise<void> {
    const uid = owner.obj.metadata.uid!;
    const deps = dependentsOf(uid);
    let blocking = 0;
    for (const d of deps) {
      const ref = (d.obj.metadata.ownerReferences ?? []).find((r) => r.uid === uid);
      if (ref?.blockOwnerDeletion) blocking++;
      if (!d.obj.metadata.deletionTimestamp || isDeletingWith(d.obj, FOREGROUND_FINALIZER)) worker.add(d.obj.metadata.uid!);
    }
    if (blocking > 0) {
      // Deletion events of the dependents wake us; the timer only guards against a lost one.
      worker.addAfter(uid, recheckMs);
      return;
    }
    await removeFinalizer(owner, FOREGROUND_FINALIZER);
  }

  async function orphanDependents(owner: Located): Promise<void> {
    const uid = owner.obj.metadata.uid!;
    for (const d of dependentsOf(uid)) {
      const keep = (d.obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
      await patchOwnerRefs(d, keep);
    }
    await removeFinalizer(owner, ORPHAN_FINALIZER);
  }

  /** Replace ownerReferences, guarded by resourceVersion so a concurrent change is not lost. */
  async function patchOwnerRefs(item: Located, refs: OwnerReference[]): Promise<void> {
    const m = item.obj.metadata;
    try {
      await ctx.client.patch(refFor(item.res, m.namespace, m.name!), 'merge', {
        metadata: { uid: m.uid, resourceVersion: m.resourceVersion, ownerReferences: refs.length ? refs : null },
      });
    } catch (e) {
      // A conflict means the cache is behind: the retry sees the newer object from the watch.
      if (isNotFound(e)) return;
      throw e;
    }
  }

  async function removeFinalizer(item: Located, finalizer: string): Promise<void> {
    const m = item.obj.metadata;
    const rest = (m.finalizers ?? []).filter((f) => f !== finalizer);
    try {
      await ctx.client.patch(refFor(item.res, m.namespace, m.name!), 'merge', {
        metadata: { uid: m.uid, resourceVersion: m.resourceVersion, finalizers: rest.length ? rest : null },
      });
    } catch (e) {
      // A conflict means the cache is behind: the retry sees the newer object from the watch.
      if (isNotFound(e)) return;
      throw e;
    }
  }

  return {
    name: 'garbagecollector',
    run() {
      starting = (async () => {
        await rediscover();
        if (stopped) return;
        worker.run(ctx.options.workers);
        timer = setInterval(() => void rediscover(), discoveryPeriodMs);
        timer.unref();
      })();
    },
    async stop() {
      stopped = true;
      await starting;
      if (timer) clearInterval(timer);
      await worker.stop();
    },
  };
}

function isUidConflict(e: unknown): boolean {
  return e instanceof ApiError && e.code === 409 && /Precondition failed: UID/.test(e.message);
}

export const garbageCollectorController: ControllerFactory = (ctx) => createGarbageCollector(ctx);
