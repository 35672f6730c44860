// The generic registry: create/get/list/update/patch/delete for any kind, driven by its
// ResourceDef strategy (upstream's registry/generic/registry/store.go, much smaller).
// Reads come from the watch cache; writes go to the Store with compare-and-swap.

import { rfc3339, nowRFC3339 } from '../../machinery/time.ts';
import { randomUUID } from 'node:crypto';
import type { UserInfo } from '../authn/user.ts';
import type { KObject, ResourceDef, StrategyContext } from '../../api/types.ts';
import { cloneJSON } from '../../machinery/json-values.ts';
import { validateObjectMeta, validateObjectMetaUpdate, deepEqual, isDNS1123Label } from '../../api/validation.ts';
import { errors, field, StatusError, type FieldError, type GroupResource } from '../../machinery/errors.ts';
import { StorageError, type Store } from '../../storage/store.ts';
import { objectKey, keyPrefix, apiVersionOf } from '../../api/resource-keys.ts';
import { CachedObject, encodeForStorage, objectsInFlight, withResourceVersion, writtenJSON } from './cached-object.ts';
import { sameIgnoringTimes } from '../fieldmanager/managed-fields.ts';
import type { AdmissionRequest, AdmitStep } from '../admission/types.ts';

/** The subset of the watch cache this registry needs. */
export interface CacheView {
  get(key: string): CachedObject | undefined;
  list(prefix: string): { items: CachedObject[]; revision: number };
  /** Objects under prefix with a storage key after `after` (all when undefined), in key order. */
  scan(prefix: string, after?: string): Iterable<{ obj: CachedObject; kv: { key: string } }>;
  /** How many objects under prefix have a key after `after`. */
  countAfter(prefix: string, after?: string): number;
  readonly revision: number;
  /**
   * Set when other API servers write to the same storage: resolves once the cache holds every
   * change up to the storage's current revision (a consistent read, as upstream's quorum read).
   */
  sync?(): Promise<void>;
  /** Resolves once the cache has reached revision; rejects after timeoutMs. */
  waitFor?(revision: number, timeoutMs: number): Promise<void>;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** Collected `Warning` header texts. */
  warnings?: string[];
  /** Who asks (the request's user after impersonation), for admission; absent for the server's own writes. */
  user?: UserInfo;
  /**
   * How the write records field ownership (metadata.managedFields): a field manager's update,
   * called once the object is defaulted (as upstream, before admission and the strategy), or
   * 'applied' when a server-side apply set them already. Without it the stored ones are kept.
   */
  managedFields?: ManagedFieldsWrite;
  /** Collected audit annotations (admission adds them; the audit log records them). */
  annotations?: Record<string, string>;
}

export type ManagedFieldsWrite = { update(live: KObject | undefined, obj: KObject): void } | 'applied';

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  /** Upstream's ignoreStoreReadErrorWithClusterBreakingPotential (the handler checks who may). */
  ignoreStoreReadError?: boolean;
}

export interface DeleteResult {
  obj: KObject;
  /** True when the object is gone from storage; false when deletion is pending (finalizers, grace period). */
  deleted: boolean;
}

/**
 * How a resource served in several versions is converted to and from its stored form (custom
 * resources: stored in the CRD's storage version, converted by the CRD's conversion strategy).
 * Both may call a conversion webhook, hence asynchronous; neither mutates its argument.
 */
export interface StorageCodec {
  /** A stored object (in whatever version it was written) as this store's version. */
  decode(obj: KObject): Promise<KObject>;
  /** An object of this store's version as it is to be stored. */
  encode(obj: KObject): Promise<KObject>;
}

/**
 * Admission (see src/apiserver/admission/): `mutate` runs after defaulting and before the kind's
 * validation and may change the object; `validate` runs after it, just before storing. Either may
 * throw a StatusError, and either may return a promise (webhooks, quota).
 */
export interface Admission {
  mutate: AdmitStep;
  validate: AdmitStep;
}

export const noAdmission: Admission = { mutate: () => {}, validate: () => {} };

const gcFinalizers = ['orphan', 'foregroundDeletion'];

export class ResourceStore {
  readonly def: ResourceDef;
  readonly gr: GroupResource;
  readonly prefix: string;
  readonly apiVersion: string;

  constructor(
    def: ResourceDef,
    private store: Store,
    readonly cache: CacheView,
    private ctx: StrategyContext,
    private admit: Admission,
    /** Only for resources stored in another version than they are served in (custom resources). */
    readonly codec?: StorageCodec,
  ) {
    this.def = def;
    this.gr = { group: def.group, resource: def.plural };
    this.prefix = keyPrefix(def);
    this.apiVersion = apiVersionOf(def);
  }

  key(namespace: string | undefined, name: string): string {
    return objectKey(this.def, namespace, name);
  }

  /** The stored form of an object (another resource's, for a def with storedAs). */
  private encode(obj: KObject): string {
    return encodeForStorage(this.def.storedAs ? this.def.storedAs.toStored(obj) : obj);
  }

  /**
   * Run a write with its object offered to the watch cache (see objectsInFlight). From here on the
   * object belongs to the cache too: nothing may change it after the write.
   */
  private async inFlight<T>(key: string, stored: string, obj: KObject, write: () => Promise<T>): Promise<T> {
    if (this.def.storedAs || this.codec) return write();
    const entry = { stored, obj };
    objectsInFlight.set(key, entry);
    try {
      return await write();
    } finally {
      // A later write of the same key may have taken the entry over: leave it to that one.
      if (objectsInFlight.get(key) === entry) objectsInFlight.delete(key);
    }
  }

  /** Keep the stored text for the response, when the response is that text (no storedAs conversion). */
  private remember(obj: KObject, stored: string, rev: number): void {
    if (!this.def.storedAs && !this.codec) remember(obj, stored, rev);
  }

  /** Prefix for a list: the namespace's, or all. */
  listPrefix(namespace?: string): string {
    return this.def.namespaced && namespace ? `${this.prefix}${namespace}/` : this.prefix;
  }

  get(namespace: string | undefined, name: string): CachedObject {
    const c = this.cache.get(this.key(namespace, name));
    if (!c) throw this.missing(namespace, name);
    return c;
  }

  /**
   * Why an object is not in the cache: not found, or stored but unreadable (encryption at rest
   * with no key for it), which is an internal error naming the key and the reason, as upstream.
   */
  private missing(namespace: string | undefined, name: string): StatusError {
    const key = this.key(namespace, name);
    const bad = this.store.unreadable?.(key).find((x) => x.key === key);
    return bad ? errors.internal(`unable to transform key ${JSON.stringify(key)}: ${bad.reason}`) : errors.notFound(this.gr, name);
  }

  /** A list under prefix that would include unreadable objects fails, naming the first. */
  checkReadable(prefix: string): void {
    const bad = this.store.unreadable?.(prefix)[0];
    if (bad) throw errors.internal(`unable to transform key ${JSON.stringify(bad.key)}: ${bad.reason}`);
  }

  tryGet(namespace: string | undefined, name: string): CachedObject | undefined {
    return this.cache.get(this.key(namespace, name));
  }

  private invalid(name: string, causes: FieldError[]): StatusError {
    return errors.invalid(this.def.kind, this.def.group, name, causes);
  }

  /** Fill in apiVersion/kind and check the body names this resource. */
  private checkTypeMeta(obj: KObject): void {
    if (obj.kind !== undefined && obj.kind !== this.def.kind)
      throw errors.badRequest(`the body of the request was in an unknown format - accepted media types include: application/json, application/yaml: kind "${obj.kind}" does not match the expected kind "${this.def.kind}"`);
    if (obj.apiVersion !== undefined && obj.apiVersion !== this.apiVersion)
      throw errors.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${this.apiVersion})`);
    obj.apiVersion = this.apiVersion;
    obj.kind = this.def.kind;
  }

  async create(namespace: string | undefined, obj: KObject, opts: WriteOptions = {}): Promise<KObject> {
    this.checkTypeMeta(obj);
    if (!obj.metadata || typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) obj.metadata = {};
    const m = obj.metadata;
    if (this.def.namespaced) {
      if (m.namespace && namespace && m.namespace !== namespace)
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      m.namespace = namespace ?? m.namespace;
    } else if (m.namespace) {
      // Upstream silently clears the namespace of cluster-scoped objects.
      delete m.namespace;
    }
    const useGenerated = !m.name && typeof m.generateName === 'string' && m.generateName !== '';
    if (useGenerated) m.name = generateName(m.generateName as string);
    m.uid = randomUUID();
    m.creationTimestamp = nowRFC3339();
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    const sentManagedFields = m.managedFields;
    delete m.managedFields;
    if (this.def.tracksGeneration) m.generation = 1;
    else delete m.generation;
    if (this.def.status && !this.def.statusOnCreate) {
      // Clients cannot set status on create for kinds with a status subresource (strategies may set an initial one).
      delete obj.status;
    }
    const s = this.def.strategy;
    s.defaults?.(obj);
    const mf = opts.managedFields;
    if (mf && sentManagedFields !== undefined) m.managedFields = sentManagedFields;
    if (mf && mf !== 'applied') mf.update(undefined, obj);
    const ar: AdmissionRequest = { operation: 'CREATE', def: this.def, obj, user: opts.user, dryRun: opts.dryRun, warnings: opts.warnings, annotations: opts.annotations };
    const mutated = this.admit.mutate(ar);
    if (mutated) await mutated;
    await s.prepareForCreate?.(obj, this.ctx);
    const errs = [...validateObjectMeta(obj, this.def.namespaced, this.def.nameValidator), ...(s.validate?.(obj) ?? [])];
    if (errs.length) {
      this.releaseAllocations(obj);
      throw this.invalid(m.name ?? m.generateName ?? '', errs);
    }
    try {
      const validated = this.admit.validate(ar);
      if (validated) await validated;
    } catch (e) {
      this.releaseAllocations(obj);
      throw e;
    }
    if (opts.warnings && s.warnings) opts.warnings.push(...s.warnings(obj));
    if (opts.dryRun) {
      if (this.cache.get(this.key(m.namespace, m.name!))) throw errors.alreadyExists(this.gr, m.name!);
      this.releaseAllocations(obj);
      return obj;
    }
    const generated = useGenerated;
    const storedForm = this.codec ? await this.codec.encode(obj) : obj;
    for (let attempt = 0; ; attempt++) {
      try {
        if (storedForm !== obj) storedForm.metadata.name = m.name;
        const stored = this.encode(storedForm);
        const key = this.key(m.namespace, m.name!);
        const kv = await this.inFlight(key, stored, obj, () => this.store.create(key, stored));
        obj.metadata.resourceVersion = String(kv.modRevision);
        this.remember(obj, stored, kv.modRevision);
        return obj;
      } catch (e) {
        if (e instanceof StorageError && e.code === 'Exists') {
          // A generated name that collides is generated again, as upstream does (RetryGenerateName).
          if (generated && attempt < 7) {
            m.name = generateName(m.generateName as string);
            continue;
          }
          this.releaseAllocations(obj);
          throw errors.alreadyExists(this.gr, m.name!);
        }
        this.releaseAllocations(obj);
        throw this.storageError(e, m.name!);
      }
    }
  }

  private releaseAllocations(obj: KObject): void {
    // Allocations made by prepareForCreate (service IPs/ports) are released when the write fails.
    if (this.def.strategy.afterDelete) this.def.strategy.afterDelete(obj, this.ctx);
  }

  /**
   * Update through a function of the current object (PUT passes a constant, PATCH applies a patch).
   * Retries on conflict unless the new object pins a resourceVersion.
   */
  async update(
    namespace: string | undefined,
    name: string,
    mutate: (current: KObject) => KObject,
    opts: WriteOptions & { subresource?: string } = {},
  ): Promise<KObject> {
    for (let attempt = 0; ; attempt++) {
      const current = this.tryGet(namespace, name);
      if (!current) throw this.missing(namespace, name);
      // A codec's store works on the object converted to its version.
      const decoded = this.codec ? await this.codec.decode(current.obj) : undefined;
      const old = decoded ?? current.obj;
      const copyOfOld = decoded ? () => cloneJSON(decoded) : () => current.copy();
      // The copy has no resourceVersion: only one the client sent (PUT body, patch) pins the write.
      const base = copyOfOld();
      delete base.metadata.resourceVersion;
      const obj = mutate(base);
      const pinned = obj.metadata?.resourceVersion;
      if (pinned !== undefined && pinned !== '' && pinned !== old.metadata.resourceVersion) throw errors.staleConflict(this.gr, name);
      let next = await this.prepareUpdate(obj, old, opts);
      if (next === old) {
        // Unchanged, but stored in an outdated form (an old encryption key): written again.
        if (!this.store.isStale?.(this.key(namespace, name))) return old;
        next = copyOfOld();
      }
      if (opts.dryRun) {
        // As upstream's dry-run storage: the answer carries the revision it was computed from.
        next.metadata.resourceVersion = old.metadata.resourceVersion;
        return next;
      }
      try {
        if (shouldDeleteDuringUpdate(next)) {
          await this.store.delete(this.key(namespace, name), Number(old.metadata.resourceVersion));
          this.def.strategy.afterDelete?.(next, this.ctx);
          return next;
        }
        const stored = this.encode(this.codec ? await this.codec.encode(next) : next);
        const key = this.key(namespace, name);
        const kv = await this.inFlight(key, stored, next, () => this.store.update(key, stored, Number(old.metadata.resourceVersion)));
        next.metadata.resourceVersion = String(kv.modRevision);
        this.remember(next, stored, kv.modRevision);
        return next;
      } catch (e) {
        if (e instanceof StorageError && e.code === 'Conflict') {
          if (pinned || attempt >= 8) throw errors.staleConflict(this.gr, name);
          continue;
        }
        if (e instanceof StorageError && e.code === 'NotFound') throw errors.notFound(this.gr, name);
        throw this.storageError(e, name);
      }
    }
  }

  /** Applies upstream's update rules; returns `old` itself when nothing changed. */
  private async prepareUpdate(obj: KObject, old: KObject, opts: WriteOptions & { subresource?: string }): Promise<KObject> {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw errors.badRequest('the request body must be a JSON object');
    if (!obj.metadata || typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) obj.metadata = {};
    const sub = opts.subresource;
    const ar = (o: KObject): AdmissionRequest => ({ operation: 'UPDATE', def: this.def, obj: o, old, subresource: sub, user: opts.user, dryRun: opts.dryRun, warnings: opts.warnings, annotations: opts.annotations });
    if (sub === 'binding') {
      // The binding subresource has already made its checked change (nodeName, PodScheduled).
    } else if (sub === 'finalize') {
      // namespaces/<name>/finalize changes spec.finalizers only.
      const fins = obj.spec?.finalizers;
      obj = JSON.parse(JSON.stringify(old));
      obj.spec = { ...(obj.spec ?? {}) };
      if (fins?.length) obj.spec.finalizers = fins;
      else delete obj.spec.finalizers;
    } else {
      // A status write is an update whose spec is the stored one (upstream's status strategies):
      // its metadata changes (labels, annotations, finalizers) are kept, its status replaces.
      const status = sub === 'status' || (sub !== undefined && !!this.def.statusLikeSubresources?.includes(sub));
      this.checkTypeMeta(obj);
      const m = obj.metadata;
      const o = old.metadata;
      if (m.name === undefined) m.name = o.name;
      if (this.def.namespaced && m.namespace === undefined) m.namespace = o.namespace;
      if (m.name !== o.name) throw errors.badRequest(`the name of the object (${m.name}) does not match the name on the URL (${o.name})`);
      if (this.def.namespaced && m.namespace !== o.namespace)
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      if (m.uid && m.uid !== o.uid)
        throw errors.conflict(this.gr, o.name!, `Precondition failed: UID in precondition: ${m.uid}, UID in object meta: ${o.uid}`);
      // System-owned metadata is kept from the stored object.
      m.uid = o.uid;
      m.creationTimestamp = o.creationTimestamp;
      if (o.deletionTimestamp) m.deletionTimestamp = o.deletionTimestamp;
      else delete m.deletionTimestamp;
      if (o.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
      else delete m.deletionGracePeriodSeconds;
      if (o.generation !== undefined) m.generation = o.generation;
      else delete m.generation;
      // Managed fields: the client's (kept when valid, `[]` resets them) go to the field manager,
      // which runs once what the endpoint resets has been carried over from the stored object and
      // the object is defaulted, before the strategy (where upstream's handlers run it).
      const s = this.def.strategy;
      let errs: FieldError[];
      if (status) {
        keepSpec(obj, old);
        this.manageFields(obj, old, opts);
        const mutated = this.admit.mutate(ar(obj));
        if (mutated) await mutated;
        this.def.status!.prepareForUpdate?.(obj, old, sub);
        errs = [...validateObjectMetaUpdate(obj, old), ...(this.def.status!.validateUpdate?.(obj, old) ?? [])];
      } else {
        if (this.def.status) {
          if (old.status === undefined) delete obj.status;
          else obj.status = JSON.parse(JSON.stringify(old.status));
        }
        s.defaults?.(obj);
        this.manageFields(obj, old, opts);
        const mutated = this.admit.mutate(ar(obj));
        if (mutated) await mutated;
        await s.prepareForUpdate?.(obj, old, this.ctx);
        errs = [...validateObjectMetaUpdate(obj, old), ...(s.validateUpdate?.(obj, old) ?? s.validate?.(obj) ?? [])];
      }
      if (m.deletionTimestamp) {
        // Once deleting, no new finalizers may be added (upstream rejects this).
        const added = (m.finalizers ?? []).filter((f: string) => !(o.finalizers ?? []).includes(f));
        if (added.length) errs.push({ type: 'FieldValueForbidden', field: 'metadata.finalizers', detail: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` });
      }
      if (errs.length) throw this.invalid(o.name!, errs);
      if (this.def.tracksGeneration && !specEqual(obj, old)) m.generation = (o.generation ?? 0) + 1;
      if (!status && opts.warnings && s.warnings) opts.warnings.push(...s.warnings(obj, old));
    }
    // Subresources whose change the server made itself still pass mutating admission (webhooks).
    if (sub === 'binding' || sub === 'finalize') {
      const mutated = this.admit.mutate(ar(obj));
      if (mutated) await mutated;
    }
    const validated = this.admit.validate(ar(obj));
    if (validated) await validated;
    // A binding always changes the pod (its handler refuses a pod that has a node already): no
    // need to compare the whole pod with the stored one to find out.
    if (sub === 'binding') return obj;
    // A no-op update leaves the object (and its resourceVersion) as it is, like upstream; managed
    // fields that differ only in their times do not make a change either.
    const { resourceVersion: _a, managedFields: nmf, ...nm } = obj.metadata;
    const { resourceVersion: _b, managedFields: omf, ...om } = old.metadata;
    if (deepEqualExcept(obj, old) && deepEqual(nm, om) && (deepEqual(nmf, omf) || sameIgnoringTimes(nmf, omf))) return old;
    return obj;
  }

  /** Records the update in metadata.managedFields, or keeps the stored ones when the write is not tracked. */
  private manageFields(obj: KObject, old: KObject, opts: WriteOptions): void {
    const mf = opts.managedFields;
    if (mf === 'applied') return;
    if (mf) return mf.update(old, obj);
    if (old.metadata.managedFields) obj.metadata.managedFields = old.metadata.managedFields;
    else delete obj.metadata.managedFields;
  }

  async delete(namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const r = await this.deleteStored(namespace, name, opts);
    if (this.codec) r.obj = await this.codec.decode(r.obj);
    return r;
  }

  /**
   * Upstream's unsafe delete of a corrupt object (`ignoreStoreReadErrorWithClusterBreakingPotential`):
   * only a value that is stored but cannot be read (encryption at rest without its key) is removed,
   * straight from storage: no preconditions, finalizers, admission or grace period, since there is
   * no object to apply them to. Anything else (readable, or not there) is a 422, as upstream.
   */
  async unsafeDelete(namespace: string | undefined, name: string): Promise<void> {
    const key = this.key(namespace, name);
    const corrupt = !this.cache.get(key) && this.store.unreadable?.(key).some((x) => x.key === key);
    if (!corrupt)
      throw errors.invalid(this.def.plural, this.def.group, name, [
        field.invalid('ignoreStoreReadErrorWithClusterBreakingPotential', true, 'is exclusively used to delete corrupt object(s), try again by removing this option'),
      ]);
    try {
      await this.store.delete(key);
    } catch (e) {
      // Gone meanwhile: what was asked is done.
      if (e instanceof StorageError && e.code === 'NotFound') return;
      throw this.storageError(e, name);
    }
  }

  /** Deletion works on the stored form: it changes metadata only. */
  private async deleteStored(namespace: string | undefined, name: string, opts: DeleteOptions): Promise<DeleteResult> {
    for (let attempt = 0; ; attempt++) {
      const current = this.tryGet(namespace, name);
      if (!current) throw this.missing(namespace, name);
      const old = current.obj;
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== old.metadata.uid)
        throw errors.conflict(this.gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
      if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion)
        throw errors.conflict(this.gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
      const ar: AdmissionRequest = { operation: 'DELETE', def: this.def, obj: old, old, user: opts.user, dryRun: opts.dryRun, warnings: opts.warnings, annotations: opts.annotations };
      const mutated = this.admit.mutate(ar);
      if (mutated) await mutated;
      const validated = this.admit.validate(ar);
      if (validated) await validated;
      const obj = current.copy();
      if (!old.metadata.deletionTimestamp) this.def.strategy.prepareForDelete?.(obj);
      const m = obj.metadata;
      const finalizers = new Set<string>(m.finalizers ?? []);
      // Garbage-collection finalizers follow the propagation policy (upstream deletionFinalizersForGarbageCollection).
      if (opts.propagationPolicy === 'Orphan') {
        finalizers.add('orphan');
        finalizers.delete('foregroundDeletion');
      } else if (opts.propagationPolicy === 'Foreground') {
        finalizers.add('foregroundDeletion');
        finalizers.delete('orphan');
      } else if (opts.propagationPolicy === 'Background') {
        for (const f of gcFinalizers) finalizers.delete(f);
      }
      const grace = this.gracePeriod(old, opts.gracePeriodSeconds);
      let pendingGrace = false;
      if (grace > 0) {
        // Graceful deletion (pods): record when the grace period ends; the kubelet removes it.
        const ends = new Date(Date.now() + grace * 1000);
        if (!m.deletionTimestamp || (m.deletionGracePeriodSeconds ?? Infinity) > grace) {
          m.deletionTimestamp = rfc3339(ends);
          m.deletionGracePeriodSeconds = grace;
        }
        pendingGrace = true;
      }
      const hasFinalizers = finalizers.size > 0 || (obj.kind === 'Namespace' && !!obj.spec?.finalizers?.length);
      if (hasFinalizers && obj.kind === 'Namespace') obj.status = { ...(obj.status ?? {}), phase: 'Terminating' };
      if (hasFinalizers || pendingGrace) {
        m.finalizers = [...finalizers];
        if (!m.finalizers.length) delete m.finalizers;
        if (!m.deletionTimestamp) {
          m.deletionTimestamp = nowRFC3339();
          m.deletionGracePeriodSeconds = 0;
        }
        if (m.generation !== undefined && !old.metadata.deletionTimestamp) m.generation = (m.generation ?? 0) + 1;
        if (opts.dryRun) return { obj, deleted: false };
        if (deepEqual(obj.metadata, old.metadata) && deepEqual(obj.status, old.status)) return { obj: old, deleted: false };
        try {
          const stored = this.encode(obj);
          const key = this.key(namespace, name);
          const kv = await this.inFlight(key, stored, obj, () => this.store.update(key, stored, Number(old.metadata.resourceVersion)));
          obj.metadata.resourceVersion = String(kv.modRevision);
          return { obj, deleted: false };
        } catch (e) {
          if (e instanceof StorageError && e.code === 'Conflict' && attempt < 8) continue;
          if (e instanceof StorageError && e.code === 'NotFound') throw errors.notFound(this.gr, name);
          throw this.storageError(e, name);
        }
      }
      if (opts.dryRun) return { obj: old, deleted: true };
      try {
        const kv = await this.store.delete(this.key(namespace, name), Number(old.metadata.resourceVersion));
        this.def.strategy.afterDelete?.(old, this.ctx);
        const gone = current.copy();
        gone.metadata.resourceVersion = String(kv.modRevision);
        return { obj: gone, deleted: true };
      } catch (e) {
        if (e instanceof StorageError && e.code === 'Conflict' && attempt < 8) continue;
        if (e instanceof StorageError && e.code === 'NotFound') throw errors.notFound(this.gr, name);
        throw this.storageError(e, name);
      }
    }
  }

  /** Upstream's graceful-deletion rules: only pods have a grace period, and only once bound to a node. */
  private gracePeriod(obj: KObject, requested: number | undefined): number {
    if (this.def.group !== '' || this.def.plural !== 'pods') return 0;
    const phase = obj.status?.phase;
    if (!obj.spec?.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
    let grace = requested ?? obj.spec?.terminationGracePeriodSeconds ?? 30;
    if (grace < 0) grace = 1;
    return grace;
  }

  private storageError(e: unknown, name: string): Error {
    if (e instanceof StatusError) return e;
    if (e instanceof StorageError) {
      switch (e.code) {
        case 'NotFound':
          return errors.notFound(this.gr, name);
        case 'Exists':
          return errors.alreadyExists(this.gr, name);
        case 'Conflict':
          return errors.staleConflict(this.gr, name);
        case 'Compacted':
          return errors.expired(e.message);
        case 'TooLarge':
          return errors.tooLarge(e.message);
        default:
          return errors.serviceUnavailable(e.message, 1);
      }
    }
    return e instanceof Error ? e : new Error(String(e));
  }
}

function remember(obj: KObject, stored: string, rev: number): void {
  const json = withResourceVersion(stored, rev);
  if (json !== undefined) writtenJSON.set(obj, json);
}

/** An object being deleted with no finalizers left and no grace period pending is removed on update. */
function shouldDeleteDuringUpdate(obj: KObject): boolean {
  const m = obj.metadata;
  return !!m.deletionTimestamp && !hasPendingFinalizers(obj) && (m.deletionGracePeriodSeconds ?? 0) === 0;
}

/** Finalizers that block removal: metadata.finalizers, and for namespaces also spec.finalizers. */
function hasPendingFinalizers(obj: KObject): boolean {
  if (obj.metadata.finalizers?.length) return true;
  return obj.kind === 'Namespace' && !!obj.spec?.finalizers?.length;
}

/** What a status write cannot change: every top-level field but metadata and status, taken from old. */
function keepSpec(obj: KObject, old: KObject): void {
  for (const k of Object.keys(obj)) if (!topLevelKept.has(k)) delete obj[k];
  for (const k of Object.keys(old)) if (!topLevelKept.has(k)) obj[k] = JSON.parse(JSON.stringify(old[k]));
}

const topLevelKept = new Set(['apiVersion', 'kind', 'metadata', 'status']);

/** Everything but metadata and status equal (the rule for bumping generation). */
function specEqual(a: KObject, b: KObject): boolean {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (k === 'metadata' || k === 'status' || k === 'apiVersion' || k === 'kind') continue;
    if (!deepEqual(a[k], b[k])) return false;
  }
  return true;
}

function deepEqualExcept(a: KObject, b: KObject): boolean {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (k === 'metadata') continue;
    if (!deepEqual(a[k], b[k])) return false;
  }
  return true;
}

const alphanums = 'bcdfghjklmnpqrstvwxz2456789';

/** generateName + 5 random characters from upstream's alphabet (no vowels, no confusable digits). */
export function generateName(base: string): string {
  const max = 63 - 5;
  let prefix = base.length > max ? base.slice(0, max) : base;
  let s = '';
  for (let i = 0; i < 5; i++) s += alphanums[Math.floor(Math.random() * alphanums.length)];
  return prefix + s;
}

export { isDNS1123Label };
