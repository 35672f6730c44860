// Field management for one resource (and subresource) endpoint, as upstream's FieldManager
// stack does it: every create, update and patch records what its manager changed (an Update
// entry per manager, API version and subresource); server-side apply merges a configuration,
// records what it sets (an Apply entry), removes what its applier dropped, and reports
// conflicts. Around that: managed fields a client sends, fields nobody may own (identity and
// system metadata), the cap on update entries, and kubectl's client-side-apply annotation.

import type { KObject } from '../../api/types.ts';
import { errors } from '../../machinery/errors.ts';
import { applyManagers, ConflictsError, updateManagers, type Managers, type UpdaterOptions } from '../../machinery/apply/updater.ts';
import { compare, createdFields } from '../../machinery/apply/compare.ts';
import { deepEqual } from '../../machinery/apply/equal.ts';
import { toFieldSet } from '../../machinery/apply/to-field-set.ts';
import { formatValidationErrors, validateConfig } from '../../machinery/apply/validate.ts';
import type { FieldType } from '../../machinery/apply/types.ts';
import { difference, fieldSetOf, has, isEmpty, union, type FieldSet } from '../../machinery/fieldpath/set.ts';
import { fieldElement, goJSON } from '../../machinery/fieldpath/path-element.ts';
import { nowRFC3339 } from '../../machinery/time.ts';
import { conflictError } from './conflicts.ts';
import { decodeManagedFields, emptyManaged, encodeManagedFields, isResetManagedFields, managerKey, type Managed, type ManagedFieldsEntry, type ManagerId } from './managed-fields.ts';

export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

/** Upstream's cap on Update entries; the oldest are merged into "ancient-changes". */
export const maxUpdateManagers = 10;

// Fields nobody owns: the object's identity and what the system maintains.
const systemPaths = [
  ['apiVersion'],
  ['kind'],
  ['metadata', 'name'],
  ['metadata', 'namespace'],
  ['metadata', 'creationTimestamp'],
  ['metadata', 'selfLink'],
  ['metadata', 'uid'],
  ['metadata', 'clusterName'],
  ['metadata', 'generation'],
  ['metadata', 'managedFields'],
  ['metadata', 'resourceVersion'],
].map((p) => p.map(fieldElement));
const systemFields = fieldSetOf(...systemPaths);
/** What upstream strips from every set: the system fields and `metadata` itself. */
const stripSet = fieldSetOf(...systemPaths, [fieldElement('metadata')]);

// A name no manager can have: the write in progress, kept apart so that the writer's own earlier
// entry is settled like anyone's before the new fields are added to it (as upstream does).
const currentOperation = '\u0000current-operation';

export interface FieldManagerOptions {
  type: FieldType;
  /** `apps/v1` */
  apiVersion: string;
  kind: string;
  /** The endpoint's subresource (`status`, `scale`); none for the resource itself. */
  subresource?: string;
  /** Fields the endpoint's strategy resets (resetFieldsFor). */
  resetFields: FieldSet;
  /** RFC 3339 time of now (tests pin it). */
  now?: () => string;
}

export class FieldManager {
  private readonly opts: UpdaterOptions;
  private readonly now: () => string;

  constructor(private readonly o: FieldManagerOptions) {
    // Reset fields and system fields are neither compared nor owned.
    this.opts = { type: o.type, version: o.apiVersion, ignored: union(o.resetFields, systemFields) };
    this.now = o.now ?? nowRFC3339;
  }

  get type(): FieldType {
    return this.o.type;
  }

  /**
   * Records an update (a create when `live` is undefined) by `manager` in
   * `obj.metadata.managedFields`, starting from the managed fields the client sent when they are
   * valid (and it is no subresource), else from the live object's.
   */
  update(live: KObject | undefined, obj: KObject, manager: string): void {
    try {
      this.updateFields(live, obj, manager);
    } catch (e) {
      // As upstream's UpdateNoErrors: bookkeeping never fails a write; the stored entries stay.
      // (The walks recurse: an object nested deeper than the stack allows ends up here.)
      if (!(e instanceof RangeError)) throw e;
      if (live?.metadata?.managedFields) obj.metadata.managedFields = live.metadata.managedFields;
      else delete obj.metadata.managedFields;
    }
  }

  private updateFields(live: KObject | undefined, obj: KObject, manager: string): void {
    // A create that sends no managed fields starts from none (what decoding none would give).
    const sent = obj.metadata.managedFields;
    if (!live && (sent === undefined || sent === null)) {
      delete obj.metadata.managedFields;
      return this.recordCreate(obj, manager || 'unknown');
    }
    const managed = this.decodeLiveOrNew(live, obj);
    delete obj.metadata.managedFields;
    // An existing object without managed fields is not tracked again until an apply (upstream's
    // skip-non-applied); resetting managed fields so strips them for good.
    if (managed.sets.size === 0 && live) return;
    if (!live && managed.sets.size === 0) return this.recordCreate(obj, manager || 'unknown');
    this.recordUpdate(managed, live ?? {}, obj, manager || 'unknown');
    capUpdateManagers(managed);
    setManagedFields(obj, managed);
  }

  private recordUpdate(managed: Managed, before: unknown, after: KObject, manager: string): void {
    const id: ManagerId = { manager, operation: 'Update', apiVersion: this.o.apiVersion, subresource: this.o.subresource };
    const self = managerKey(id);
    // The comparison skips the system fields; of what upstream strips, `metadata` itself is left.
    const owned = withoutMetadataMember(updateManagers(before, after, managed.sets, currentOperation, this.opts));
    if (isEmpty(owned)) return;
    const prev = managed.sets.get(self);
    managed.sets.set(self, { set: prev ? union(owned, prev.set) : owned, apiVersion: this.o.apiVersion, applied: false });
    managed.ids.set(self, id);
    managed.times.set(self, this.now());
  }

  /** The common create (no managed fields sent): one entry, from one walk of the object. */
  private recordCreate(obj: KObject, manager: string): void {
    const owned = withoutMetadataMember(createdFields(obj, this.o.type, this.opts.ignored));
    if (isEmpty(owned)) return;
    const e = { manager, operation: 'Update', apiVersion: this.o.apiVersion, time: this.now(), fieldsType: 'FieldsV1', fieldsV1: owned } as ManagedFieldsEntry;
    if (this.o.subresource) e.subresource = this.o.subresource;
    obj.metadata.managedFields = [e];
  }

  private decodeLiveOrNew(live: KObject | undefined, obj: KObject): Managed {
    const liveEntries = live?.metadata?.managedFields;
    const fromLive = () => {
      try {
        return decodeManagedFields(liveEntries, true);
      } catch {
        return emptyManaged();
      }
    };
    if (this.o.subresource) return fromLive();
    const sent = obj.metadata.managedFields;
    if (isResetManagedFields(sent)) return emptyManaged();
    if (sent === undefined || sent === null || sent === liveEntries || deepEqual(sent, liveEntries)) return fromLive();
    try {
      const m = decodeManagedFields(sent, false);
      return m.sets.size ? m : fromLive();
    } catch {
      return fromLive();
    }
  }

  /**
   * Server-side apply of `config` by `manager` onto `live` (undefined: create). Returns the merged
   * object with its managed fields; throws a 400 for a configuration that does not fit the type
   * and a 409 for conflicts (unless `force`).
   */
  apply(live: KObject | undefined, config: KObject, manager: string, force: boolean): KObject {
    try {
      return this.applyConfig(live, config, manager, force);
    } catch (e) {
      if (e instanceof RangeError) throw errors.badRequest(`the applied configuration or the object is nested too deeply to apply: ${e.message}`);
      throw e;
    }
  }

  private applyConfig(live: KObject | undefined, config: KObject, manager: string, force: boolean): KObject {
    this.checkConfig(config);
    const managed = live ? this.decodeStored(live) : emptyManaged();
    const liveBody = live ? withoutManagedFields(live) : undefined;
    // Fields of an object nobody tracked yet belong to "before-first-apply", so that the apply
    // does not take them silently (upstream's skip-non-applied manager).
    if (live && managed.sets.size === 0) this.recordUpdate(managed, {}, liveBody!, 'before-first-apply');
    const selfId: ManagerId = { manager, operation: 'Apply', subresource: this.o.subresource };
    const self = managerKey(selfId);
    managed.ids.set(self, selfId);
    let sets = new Map(managed.sets);
    let result;
    try {
      result = applyManagers(liveBody, config, sets, self, force, this.opts);
    } catch (e) {
      if (!(e instanceof ConflictsError)) throw e;
      // kubectl's own apply may take fields its client-side apply set to the same values.
      const allowed = manager === 'kubectl' && live ? this.allowedFromLastApplied(live, liveBody!) : undefined;
      const remaining = allowed ? e.conflicts.filter((c) => !has(allowed, c.path)) : e.conflicts;
      if (remaining.length) throw conflictError(remaining);
      sets = new Map(managed.sets);
      result = applyManagers(liveBody, config, sets, self, true, this.opts);
    }
    const mine = sets.get(self)!;
    const stripped = difference(mine.set, stripSet);
    if (isEmpty(stripped)) sets.delete(self);
    else sets.set(self, { ...mine, set: stripped });
    managed.sets = sets;
    if (!result.noop) managed.times.set(self, this.now());
    const out = (result.noop ? liveBody : result.object) as KObject;
    out.metadata ??= {};
    if (manager === 'kubectl' && out.metadata.annotations?.[lastAppliedAnnotation]) {
      out.metadata.annotations = { ...out.metadata.annotations, [lastAppliedAnnotation]: lastAppliedOf(config) };
    }
    setManagedFields(out, managed);
    return out;
  }

  private decodeStored(live: KObject): Managed {
    try {
      return decodeManagedFields(live.metadata?.managedFields, true);
    } catch (e) {
      throw errors.internal(`failed to decode managed fields: ${(e as Error).message}`);
    }
  }

  /** Upstream refuses configurations of another kind, with managed fields, or not fitting the schema. */
  private checkConfig(config: KObject): void {
    const gvk = (apiVersion: unknown, kind: unknown) => `${typeof apiVersion === 'string' && apiVersion.includes('/') ? apiVersion : `/${apiVersion ?? ''}`}, Kind=${kind ?? ''}`;
    if (config.apiVersion !== this.o.apiVersion || config.kind !== this.o.kind) throw errors.badRequest(`invalid object type: ${gvk(config.apiVersion, config.kind)}`);
    if (config.metadata && typeof config.metadata === 'object' && config.metadata.managedFields !== undefined && config.metadata.managedFields !== null)
      throw errors.badRequest('metadata.managedFields must be nil');
    const errs = validateConfig(config, this.o.type);
    if (errs.length) {
      const ns = config.metadata?.namespace ?? '';
      const name = config.metadata?.name ?? '';
      throw errors.badRequest(`failed to create typed patch object (${ns}/${name}; ${gvk(config.apiVersion, config.kind)}): ${formatValidationErrors(errs)}`);
    }
  }

  /** Fields of kubectl's last-applied annotation that still hold the values it set. */
  private allowedFromLastApplied(live: KObject, liveBody: KObject): FieldSet | undefined {
    const text = live.metadata.annotations?.[lastAppliedAnnotation];
    if (!text) return undefined;
    let last: unknown;
    try {
      last = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (!last || typeof last !== 'object' || (last as KObject).apiVersion !== this.o.apiVersion) return undefined;
    if (validateConfig(last, this.o.type).length) return undefined;
    const c = compare(last, liveBody, this.o.type);
    return difference(difference(difference(toFieldSet(last, this.o.type), c.modified), c.added), c.removed);
  }
}

function withoutMetadataMember(s: FieldSet): FieldSet {
  const meta = s['f:metadata'];
  // A member either holds `.` or is an empty leaf: a type without metadata as a zero field (custom
  // resources) gives the latter when only stripped system fields were under it.
  if (!meta || !('.' in meta || Object.keys(meta).length === 0)) return s;
  const { '.': _self, ...rest } = meta;
  const out: FieldSet = {};
  for (const k of Object.keys(s)) {
    if (k !== 'f:metadata') out[k] = s[k];
    else if (Object.keys(rest).length) out[k] = rest;
  }
  return out;
}

function withoutManagedFields(obj: KObject): KObject {
  const { managedFields: _m, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

function setManagedFields(obj: KObject, managed: Managed): void {
  const entries = encodeManagedFields(managed);
  if (entries) obj.metadata.managedFields = entries;
  else delete obj.metadata.managedFields;
}

/** The annotation kubectl's client-side apply keeps: the configuration without it, as JSON. */
function lastAppliedOf(config: KObject): string {
  const annotations = { ...(config.metadata?.annotations ?? {}) };
  delete annotations[lastAppliedAnnotation];
  const metadata = { ...(config.metadata ?? {}) };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  return `${goJSON({ ...config, metadata })}\n`;
}

/** Merges the oldest Update entries into one "ancient-changes" entry per API version above the cap. */
export function capUpdateManagers(managed: Managed, max = maxUpdateManagers): void {
  if (managed.sets.size <= max) return;
  const updaters = [...managed.sets.entries()].filter(([, vs]) => !vs.applied).map(([k]) => k);
  if (updaters.length <= max) return;
  const seconds = (k: string) => {
    const t = managed.times.get(k);
    return t ? Math.floor(Date.parse(t) / 1000) || 0 : 0;
  };
  updaters.sort((a, b) => seconds(a) - seconds(b) || (a < b ? -1 : a > b ? 1 : 0));
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > max; i++) {
    const key = updaters[i];
    const vs = managed.sets.get(key)!;
    const time = managed.times.get(key);
    const bucketId: ManagerId = { manager: 'ancient-changes', operation: 'Update', apiVersion: vs.apiVersion };
    const bucket = managerKey(bucketId);
    managed.ids.set(bucket, bucketId);
    const first = firstOfVersion.get(vs.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(vs.apiVersion, key);
      continue;
    }
    const sets: Managers = managed.sets;
    if (!sets.has(bucket)) {
      sets.set(bucket, sets.get(first)!);
      sets.delete(first);
    }
    sets.set(bucket, { set: union(vs.set, sets.get(bucket)!.set), apiVersion: vs.apiVersion, applied: false });
    sets.delete(key);
    managed.times.set(bucket, time);
    length--;
  }
}
