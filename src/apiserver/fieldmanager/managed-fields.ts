// metadata.managedFields <-> managers and their field sets.
//
// A manager is identified as upstream does: name, operation and subresource, plus the API
// version for Update entries (an applier keeps one entry whatever version it applies with).
// Entries are written sorted as upstream sorts them: Apply before Update, then by time, manager,
// apiVersion and subresource. An entry whose set and time did not change is written back as
// the very object it was read from.

import { canonicalFieldSet, equals, type FieldSet } from '../../machinery/fieldpath/set.ts';
import { decodeElement } from '../../machinery/fieldpath/path-element.ts';
import type { Managers } from '../../machinery/apply/updater.ts';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: FieldSet;
  subresource?: string;
}

export interface ManagerId {
  manager: string;
  operation: 'Apply' | 'Update';
  /** Update entries only. */
  apiVersion?: string;
  subresource?: string;
}

/** The identifier a manager's entry is keyed by (a JSON object, as upstream builds it). */
export function managerKey(id: ManagerId): string {
  let s = `{"manager":${JSON.stringify(id.manager)},"operation":"${id.operation}"`;
  if (id.operation === 'Update' && id.apiVersion) s += `,"apiVersion":${JSON.stringify(id.apiVersion)}`;
  if (id.subresource) s += `,"subresource":${JSON.stringify(id.subresource)}`;
  return s + '}';
}

export function parseManagerKey(key: string): ManagerId {
  return JSON.parse(key) as ManagerId;
}

/** Decoded managed fields: each manager's set, and its entry's time. */
export interface Managed {
  sets: Managers;
  times: Map<string, string | undefined>;
  /** Who each key is (saves parsing keys back). */
  ids: Map<string, ManagerId>;
  /** The entries as read, by key, to write unchanged ones back as they were. */
  read: Map<string, ManagedFieldsEntry>;
}

export function emptyManaged(): Managed {
  return { sets: new Map(), times: new Map(), ids: new Map(), read: new Map() };
}

/** An entry list that asks to reset managed fields: `[]` or `[{}]` (upstream's isResetManagedFields). */
export function isResetManagedFields(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  if (v.length === 0) return true;
  return v.length === 1 && v[0] !== null && typeof v[0] === 'object' && Object.keys(v[0]).length === 0;
}

/**
 * Decodes entries. `trusted` entries come from storage (written by us): their sets are used as
 * they are. Others are checked as upstream checks them; throws an Error on a bad entry.
 */
export function decodeManagedFields(entries: unknown, trusted: boolean): Managed {
  const m = emptyManaged();
  if (entries === undefined || entries === null) return m;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((e: any, i) => {
    if (!e || typeof e !== 'object') throw new Error(`managed fields entry ${i} must be an object`);
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    if (typeof e.apiVersion !== 'string' || e.apiVersion.length < 1) throw new Error('apiVersion must not be empty');
    if (e.fieldsType === undefined || e.fieldsType === '') throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}`);
    if (typeof e.manager !== 'string' && e.manager !== undefined) throw new Error(`manager of managed fields entry ${i} must be a string`);
    let set: FieldSet;
    if (trusted) set = e.fieldsV1 ?? {};
    else {
      try {
        set = canonicalFieldSet(e.fieldsV1 ?? {}, decodeElement);
      } catch (err) {
        throw new Error(`error decoding versioned set from entry ${i}: error decoding set: ${(err as Error).message}`);
      }
    }
    const id: ManagerId = { manager: e.manager ?? '', operation: e.operation, apiVersion: e.apiVersion, subresource: e.subresource || undefined };
    const key = managerKey(id);
    m.sets.set(key, { set, apiVersion: e.apiVersion, applied: e.operation === 'Apply' });
    m.ids.set(key, id);
    m.times.set(key, typeof e.time === 'string' ? e.time : undefined);
    m.read.set(key, trusted ? e : { ...e, fieldsV1: set });
  });
  return m;
}

function entryOf(key: string, m: Managed): ManagedFieldsEntry {
  const vs = m.sets.get(key)!;
  const time = m.times.get(key);
  const was = m.read.get(key);
  const operation = vs.applied ? 'Apply' : 'Update';
  if (was && was.fieldsV1 === vs.set && was.time === time && was.apiVersion === vs.apiVersion && was.operation === operation) return was;
  const id = m.ids.get(key) ?? parseManagerKey(key);
  const e: ManagedFieldsEntry = { manager: id.manager, operation, apiVersion: vs.apiVersion } as ManagedFieldsEntry;
  if (time) e.time = time;
  e.fieldsType = 'FieldsV1';
  e.fieldsV1 = vs.set;
  if (id.subresource) e.subresource = id.subresource;
  return e;
}

function seconds(t: string | undefined): number {
  if (!t) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/** Entries to store, sorted as upstream sorts them; undefined when there are none. */
export function encodeManagedFields(m: Managed): ManagedFieldsEntry[] | undefined {
  if (m.sets.size === 0) return undefined;
  const out: ManagedFieldsEntry[] = [];
  for (const key of m.sets.keys()) out.push(entryOf(key, m));
  out.sort((p, q) => {
    if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
    const ps = seconds(p.time);
    const qs = seconds(q.time);
    if (ps !== qs) return ps - qs;
    if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
    if (p.apiVersion !== q.apiVersion) return p.apiVersion < q.apiVersion ? -1 : 1;
    const a = p.subresource ?? '';
    const b = q.subresource ?? '';
    return a < b ? -1 : a > b ? 1 : 0;
  });
  return out;
}

/** Whether two entry lists are the same apart from their times (upstream then keeps the old times). */
export function sameIgnoringTimes(a: unknown, b: unknown): boolean {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (!x || !y || typeof x !== 'object' || typeof y !== 'object') return false;
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
      if (k === 'time') continue;
      if (k === 'fieldsV1') {
        if (!equals(x[k] ?? {}, y[k] ?? {})) return false;
      } else if (x[k] !== y[k]) return false;
    }
  }
  return true;
}
