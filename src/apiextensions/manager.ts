// Serves the resources CustomResourceDefinitions define, inside the API server, and runs what
// upstream's apiextensions-apiserver runs beside its handler:
//  - the naming controller: status.acceptedNames and the NamesAccepted condition (a plural,
//    singular, short name, kind or list kind another CRD of the group already has is a conflict);
//  - the establishing controller: Established once the names are accepted;
//  - the finalizer: a deleted CRD's custom resources are deleted, then its
//    customresourcecleanup.apiextensions.k8s.io finalizer removed;
//  - serving: per CRD a watch cache of its objects (kept while the CRD exists) and an immutable
//    serving bundle (serving.ts), rebuilt on every change of the CRD and swapped in whole.
// CRD events are turned into CRD names on one queue; each sync re-reads the CRD (level-triggered).

import type { KObject, ResourceDef } from '../api/types.ts';
import { keyPrefix } from '../api/resource-keys.ts';
import { StatusError } from '../machinery/errors.ts';
import { nowRFC3339 } from '../machinery/time.ts';
import type { Store } from '../storage/store.ts';
import { WatchCache } from '../storage/watch-cache.ts';
import { CachedObject, decodeKeyValue } from '../apiserver/registry/cached-object.ts';
import type { ResourceStore, CacheView } from '../apiserver/registry/resource-store.ts';
import type { WatchableCache } from '../apiserver/watch.ts';
import { cacheView } from '../apiserver/registry/cache-view.ts';
import { CRDServing, type ServingDeps, type VersionServing } from './serving.ts';
import { cleanupFinalizer, compareKubeVersions, conditionOf } from './crd-model.ts';
import type { JSONSchemaProps } from './schema/types.ts';

export interface CustomResourceManagerOptions extends ServingDeps {
  /** The CRD resource's own store (its cache is watched). */
  crds: ResourceStore;
  /** Built-in resources, listed before the custom ones. */
  builtins: ResourceDef[];
  log?: (msg: string) => void;
  /** How long to wait before looking again at a deleted CRD whose objects are not all gone. */
  cleanupRetryMs?: number;
  /** Called when the served group/versions change (the aggregator's Local APIServices follow them). */
  onGroupVersionsChange?: () => void;
}

interface Entry {
  cache: WatchCache<CachedObject>;
  view: CacheView & WatchableCache;
  serving?: CRDServing;
}

export class CustomResourceManager {
  private entries = new Map<string, Entry>(); // by CRD name
  private byGroupResource = new Map<string, CRDServing>(); // `${group}/${plural}`
  private groups = new Map<string, Set<string>>(); // group -> versions served (established or accepted)
  private groupVersionsKey = '[]';
  private resourcesMemo: ResourceDef[] | undefined;
  private queue = new Set<string>();
  private running = false;
  private watch?: { stop(): void };
  private timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly log: (msg: string) => void;
  /** Bumped whenever what is served changes (discovery and OpenAPI caches key on it). */
  generation = 0;

  constructor(private opts: CustomResourceManagerOptions) {
    this.log = opts.log ?? (() => {});
  }

  /** Serves every stored CRD before returning (so a restart serves custom resources at once), then follows changes. */
  async start(): Promise<void> {
    const crdCache = this.opts.crds.cache as unknown as WatchableCache;
    const { items, revision } = this.opts.crds.cache.list(this.opts.crds.listPrefix());
    for (const c of items) await this.serve(c.obj);
    this.publish();
    this.watch = crdCache.watch(revision, this.opts.crds.listPrefix(), (ev) => this.enqueue(ev.object.name));
    for (const c of items) this.enqueue(c.name);
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    for (const t of this.timers) clearTimeout(t);
    for (const e of this.entries.values()) e.cache.stop();
  }

  /** The bundle and version serving a request path, if any. */
  lookup(group: string, version: string, plural: string): { crd: CRDServing; version: VersionServing } | undefined {
    const crd = this.byGroupResource.get(`${group}/${plural}`);
    if (!crd || !crd.active) return undefined;
    const v = crd.versions.get(version);
    return v ? { crd, version: v } : undefined;
  }

  hasGroup(group: string): boolean {
    return this.groups.has(group);
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.groups.get(group)?.has(version) ?? false;
  }

  /** The group/versions custom resources are served at. */
  groupVersions(): Array<{ group: string; version: string }> {
    return [...this.groups].flatMap(([group, versions]) => [...versions].map((version) => ({ group, version })));
  }

  /** The serving bundle of a CRD by group and plural (served or not yet). */
  serving(group: string, plural: string): CRDServing | undefined {
    return this.byGroupResource.get(`${group}/${plural}`);
  }

  /**
   * The structural schema of a custom resource version (for server-side apply: list types,
   * map types, map keys), by group, version and kind; undefined when none is served.
   */
  schemaFor(group: string, version: string, kind: string): JSONSchemaProps | undefined {
    for (const crd of this.byGroupResource.values()) if (crd.group === group && crd.kind === kind) return crd.versions.get(version)?.schema;
    return undefined;
  }

  /** Built-in resources followed by the established custom resources, group by group (same array until something changes). */
  resources(): ResourceDef[] {
    if (this.resourcesMemo) return this.resourcesMemo;
    const custom: ResourceDef[] = [];
    const bundles = [...this.byGroupResource.values()].filter((b) => b.established);
    // Versions in Kubernetes' priority order within each group, so the first is the preferred one.
    const byGroup = new Map<string, CRDServing[]>();
    for (const b of bundles) byGroup.set(b.group, [...(byGroup.get(b.group) ?? []), b]);
    for (const [, list] of [...byGroup].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const versions = [...new Set(list.flatMap((b) => [...b.versions.keys()]))].sort(compareKubeVersions);
      for (const v of versions) for (const b of list.sort((x, y) => (x.plural < y.plural ? -1 : 1))) if (b.versions.get(v)) custom.push(b.versions.get(v)!.def);
    }
    this.resourcesMemo = custom.length ? [...this.opts.builtins, ...custom] : this.opts.builtins;
    return this.resourcesMemo;
  }

  // --- the queue ------------------------------------------------------------------------------

  private enqueue(name: string): void {
    if (this.stopped) return;
    this.queue.add(name);
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.size && !this.stopped) {
        const name = this.queue.values().next().value as string;
        this.queue.delete(name);
        try {
          await this.sync(name);
        } catch (e) {
          this.log(`customresourcedefinition ${name}: ${(e as Error)?.message ?? e}`);
          this.later(name, 1000);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private later(name: string, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.enqueue(name);
    }, ms);
    t.unref?.();
    this.timers.add(t);
  }

  private async sync(name: string): Promise<void> {
    const crd = this.opts.crds.tryGet(undefined, name)?.obj;
    if (!crd) return this.unserve(name);
    if (crd.metadata.deletionTimestamp) {
      await this.serve(crd);
      this.publish();
      return this.finalize(crd);
    }
    if (await this.acceptNames(crd)) return; // the status write brings the CRD back through the queue
    if (await this.establish(crd)) return;
    await this.serve(crd);
    this.publish();
  }

  // --- naming and establishing ----------------------------------------------------------------

  /** Other CRDs of the group: their accepted resource names and kinds. */
  private claimedNames(crd: KObject): { resources: Set<string>; kinds: Set<string> } {
    const resources = new Set<string>();
    const kinds = new Set<string>();
    for (const c of this.opts.crds.cache.list(this.opts.crds.listPrefix()).items) {
      const o = c.obj;
      if (o.metadata.name === crd.metadata.name || o.spec?.group !== crd.spec.group) continue;
      const n = o.status?.acceptedNames ?? {};
      for (const r of [n.plural, n.singular, ...(n.shortNames ?? [])]) if (r) resources.add(r);
      for (const k of [n.kind, n.listKind]) if (k) kinds.add(k);
    }
    return { resources, kinds };
  }

  /** Sets acceptedNames and NamesAccepted (and Established's initial state); true when it wrote. */
  private async acceptNames(crd: KObject): Promise<boolean> {
    const { resources, kinds } = this.claimedNames(crd);
    const want = crd.spec.names ?? {};
    const had = crd.status?.acceptedNames ?? {};
    const names: Record<string, unknown> = { ...had };
    let accepted: { status: string; reason: string; message: string } | undefined;
    const conflict = (reason: string, message: string) => (accepted = { status: 'False', reason, message });
    const fresh = (requested: string | undefined, current: string | undefined, used: Set<string>): string | undefined =>
      requested === current || !requested || !used.has(requested) ? undefined : `"${requested}" is already in use`;
    let err = fresh(want.plural, had.plural, resources);
    if (err) conflict('PluralConflict', err);
    else names.plural = want.plural;
    err = fresh(want.singular, had.singular, resources);
    if (err) conflict('SingularConflict', err);
    else names.singular = want.singular;
    const wantShort: string[] = want.shortNames ?? [];
    const hadShort: string[] = had.shortNames ?? [];
    if (JSON.stringify(wantShort) !== JSON.stringify(hadShort)) {
      const errs = wantShort.filter((s) => !hadShort.includes(s) && resources.has(s)).map((s) => `"${s}" is already in use`);
      if (errs.length) conflict('ShortNamesConflict', errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`);
      else if (wantShort.length) names.shortNames = wantShort;
      else delete names.shortNames;
    }
    err = fresh(want.kind, had.kind, kinds);
    if (err) conflict('KindConflict', err);
    else names.kind = want.kind;
    err = fresh(want.listKind, had.listKind, kinds);
    if (err) conflict('ListKindConflict', err);
    else names.listKind = want.listKind;
    if (want.categories?.length) names.categories = want.categories;
    else delete names.categories;
    accepted ??= { status: 'True', reason: 'NoConflicts', message: 'no conflicts found' };

    let established = conditionOf(crd, 'Established') ?? { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' };
    if (established.status !== 'True' && accepted.status === 'True') established = { type: 'Established', status: 'False', reason: 'Installing', message: 'the initial names have been accepted' };
    const namesChanged = JSON.stringify(sortKeys(names)) !== JSON.stringify(sortKeys(had));
    const prevAccepted = conditionOf(crd, 'NamesAccepted');
    const acceptedChanged = !prevAccepted || prevAccepted.status !== accepted.status || prevAccepted.reason !== accepted.reason || prevAccepted.message !== accepted.message;
    const prevEst = conditionOf(crd, 'Established');
    const estChanged = !prevEst || prevEst.status !== established.status || prevEst.reason !== established.reason;
    if (!namesChanged && !acceptedChanged && !estChanged) return false;
    await this.writeStatus(crd.metadata.name!, (status) => {
      status.acceptedNames = names;
      setCondition(status, { type: 'NamesAccepted', ...accepted! });
      setCondition(status, established);
    });
    // Names this CRD gave up or took may change what others of the group can have.
    for (const c of this.opts.crds.cache.list(this.opts.crds.listPrefix()).items)
      if (c.obj.spec?.group === crd.spec.group && c.name !== crd.metadata.name && !isTrue(c.obj, 'NamesAccepted')) this.enqueue(c.name);
    return true;
  }

  private async establish(crd: KObject): Promise<boolean> {
    if (!isTrue(crd, 'NamesAccepted') || isTrue(crd, 'Established')) return false;
    await this.writeStatus(crd.metadata.name!, (status) => setCondition(status, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }));
    return true;
  }

  private async writeStatus(name: string, change: (status: Record<string, any>) => void): Promise<void> {
    try {
      await this.opts.crds.update(
        undefined,
        name,
        (cur) => {
          cur.status ??= {};
          change(cur.status);
          return cur;
        },
        { subresource: 'status' },
      );
    } catch (e) {
      if (e instanceof StatusError && e.code === 404) return;
      throw e;
    }
  }

  // --- deletion -------------------------------------------------------------------------------

  /** Deletes every custom resource of a deleted CRD; once none is left, removes the finalizer. */
  private async finalize(crd: KObject): Promise<void> {
    const name = crd.metadata.name!;
    if (!(crd.metadata.finalizers ?? []).includes(cleanupFinalizer)) return;
    const entry = this.entries.get(name);
    const serving = entry?.serving;
    if (entry && serving) {
      const left = entry.cache.list().items;
      if (left.length) {
        const cond = conditionOf(crd, 'Terminating');
        if (cond?.reason !== 'InstanceDeletionInProgress')
          await this.writeStatus(name, (s) =>
            setCondition(s, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' }),
          );
        for (const c of left) {
          if (c.obj.metadata.deletionTimestamp) continue;
          try {
            await serving.storageStore.delete(c.namespace, c.name, {});
          } catch (e) {
            if (!(e instanceof StatusError && (e.code === 404 || e.code === 409))) throw e;
          }
        }
        if (entry.cache.list().items.length) {
          // Objects with finalizers of their own go when their controllers let them.
          this.later(name, this.opts.cleanupRetryMs ?? 1000);
          return;
        }
      }
    }
    await this.writeStatus(name, (s) => setCondition(s, { type: 'Terminating', status: 'False', reason: 'InstanceDeletionCompleted', message: 'removed all instances' }));
    try {
      await this.opts.crds.update(undefined, name, (cur) => {
        cur.metadata.finalizers = (cur.metadata.finalizers ?? []).filter((f: string) => f !== cleanupFinalizer);
        return cur;
      });
    } catch (e) {
      if (!(e instanceof StatusError && e.code === 404)) throw e;
    }
  }

  // --- serving --------------------------------------------------------------------------------

  /** Builds the CRD's serving bundle (and its objects' cache the first time) and swaps it in. */
  private async serve(crd: KObject): Promise<void> {
    const name = crd.metadata.name!;
    let entry = this.entries.get(name);
    if (entry?.serving && entry.serving.crd.metadata.resourceVersion === crd.metadata.resourceVersion) return;
    if (!crd.spec?.group || !crd.spec?.names?.plural) return;
    if (!entry) {
      const cache = new WatchCache<CachedObject>(this.opts.store, keyPrefix({ group: crd.spec.group, plural: crd.spec.names.plural }), decodeKeyValue);
      await cache.start();
      entry = { cache, view: cacheView(cache, this.opts.store.shared === true) };
      this.entries.set(name, entry);
    }
    let serving: CRDServing;
    try {
      serving = new CRDServing(crd, entry.view, this.opts);
    } catch (e) {
      this.log(`customresourcedefinition ${name}: cannot serve: ${(e as Error)?.stack ?? e}`);
      return;
    }
    entry.serving = serving;
    this.byGroupResource.set(`${serving.group}/${serving.plural}`, serving);
    this.changed();
  }

  private unserve(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    entry.cache.stop();
    this.entries.delete(name);
    if (entry.serving) {
      const k = `${entry.serving.group}/${entry.serving.plural}`;
      if (this.byGroupResource.get(k) === entry.serving) this.byGroupResource.delete(k);
      // Names it held are free again for the CRDs of its group that wanted them.
      for (const c of this.opts.crds.cache.list(this.opts.crds.listPrefix()).items)
        if (c.obj.spec?.group === entry.serving.group && !isTrue(c.obj, 'NamesAccepted')) this.enqueue(c.name);
    }
    this.changed();
    this.publish();
  }

  private changed(): void {
    this.resourcesMemo = undefined;
    this.generation++;
  }

  /** Recomputes the served groups and versions. */
  private publish(): void {
    const groups = new Map<string, Set<string>>();
    for (const b of this.byGroupResource.values()) {
      if (!b.active) continue;
      let g = groups.get(b.group);
      if (!g) groups.set(b.group, (g = new Set()));
      for (const v of b.versions.keys()) g.add(v);
    }
    const before = this.groupVersionsKey;
    this.groups = groups;
    this.groupVersionsKey = JSON.stringify(this.groupVersions().sort((a, b) => (`${a.group}/${a.version}` < `${b.group}/${b.version}` ? -1 : 1)));
    if (this.groupVersionsKey !== before && !this.stopped) this.opts.onGroupVersionsChange?.();
  }
}

function isTrue(crd: KObject, type: string): boolean {
  return conditionOf(crd, type)?.status === 'True';
}

function setCondition(status: Record<string, any>, c: { type: string; status: string; reason: string; message: string }): void {
  const conds: any[] = (status.conditions ??= []);
  const i = conds.findIndex((x) => x?.type === c.type);
  const prev = i >= 0 ? conds[i] : undefined;
  const next = { type: c.type, status: c.status, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : nowRFC3339(), reason: c.reason, message: c.message };
  if (i >= 0) conds[i] = next;
  else conds.push(next);
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
