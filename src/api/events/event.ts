// events.k8s.io/v1 Event: the core/v1 Events under other field names, as upstream. Both APIs read
// and write the same stored objects (in core/v1 form); this one converts them on the way in and out.

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { eventRow as coreEventRow, events as coreEvents } from '../core/event.ts';
import { isQualifiedName, validateImmutable } from '../validation.ts';

const maxShortField = 128;
const maxNoteBytes = 1024;

function requiredShort(obj: KObject, key: string): FieldError[] {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return [field.required(key)];
  if (typeof v === 'string' && v.length > maxShortField) return [field.tooLong(key, maxShortField)];
  return [];
}

export function validateEvent(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const series = obj.series;
  if (series) {
    if (typeof series.count !== 'number' || series.count < 2) errs.push(field.invalid('series.count', '', 'should be at least 2'));
    if (!series.lastObservedTime) errs.push(field.required('series.lastObservedTime'));
  }
  if (!obj.eventTime) errs.push(field.required('eventTime'));
  if (obj.type !== 'Normal' && obj.type !== 'Warning') errs.push(field.invalid('type', '', `has invalid value: ${obj.type ?? ''}`));
  if (obj.deprecatedFirstTimestamp) errs.push(field.invalid('deprecatedFirstTimestamp', '', 'needs to be unset'));
  if (obj.deprecatedLastTimestamp) errs.push(field.invalid('deprecatedLastTimestamp', '', 'needs to be unset'));
  if (obj.deprecatedCount) errs.push(field.invalid('deprecatedCount', '', 'needs to be unset'));
  if (obj.deprecatedSource?.component || obj.deprecatedSource?.host) errs.push(field.invalid('deprecatedSource', '', 'needs to be unset'));
  const rc = obj.reportingController;
  if (!rc) errs.push(field.required('reportingController'));
  else for (const m of isQualifiedName(rc)) errs.push(field.invalid('reportingController', rc, m));
  errs.push(...requiredShort(obj, 'reportingInstance'));
  errs.push(...requiredShort(obj, 'action'));
  errs.push(...requiredShort(obj, 'reason'));
  if (typeof obj.note === 'string' && Buffer.byteLength(obj.note) > maxNoteBytes) errs.push(field.tooLong('note', maxNoteBytes));
  return errs;
}

/** Only series and the deprecated counters may change after an event is recorded. */
const immutableFields = ['regarding', 'related', 'reason', 'note', 'type', 'eventTime', 'action', 'reportingController', 'reportingInstance'];

export function validateEventUpdate(obj: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of immutableFields) errs.push(...validateImmutable(obj[k], old[k], k));
  return errs;
}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/** events.k8s.io/v1 name ↔ core/v1 name, for the fields that differ (upstream's conversion). */
const renamed: Array<[string, string]> = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

/** `obj` under `apiVersion`, each renamed field moved from its name at index `from` of `renamed` to the other. */
function convert(obj: KObject, apiVersion: string, from: 0 | 1): KObject {
  const { apiVersion: _v, kind: _k, ...rest } = obj;
  const out: KObject = { apiVersion, kind: 'Event', ...rest };
  for (const pair of renamed) {
    delete out[pair[from]];
    if (obj[pair[from]] !== undefined) out[pair[1 - from]] = obj[pair[from]];
  }
  return out;
}

/** A stored core/v1 Event as events.k8s.io/v1 shows it. */
export function eventFromCore(core: KObject): KObject {
  const out = convert(core, 'events.k8s.io/v1', 1);
  // Upstream serialises an unset MicroTime as null; clients of this API expect the key.
  if (out.eventTime === undefined) out.eventTime = null;
  return out;
}

/** An events.k8s.io/v1 Event in the core/v1 form it is stored in. */
export function eventToCore(ev: KObject): KObject {
  const out = convert(ev, 'v1', 0);
  if (out.eventTime === null) delete out.eventTime;
  return out;
}

export const events: ResourceDef = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  model: 'EventsV1Event',
  strategy: { validate: validateEvent, validateUpdate: validateEventUpdate },
  storedAs: { group: '', plural: 'events', toStored: eventToCore, fromStored: eventFromCore },
  fieldSelectors: {
    'regarding.kind': (o) => str(o.regarding?.kind),
    'regarding.namespace': (o) => str(o.regarding?.namespace),
    'regarding.name': (o) => str(o.regarding?.name),
    'regarding.uid': (o) => str(o.regarding?.uid),
    'regarding.apiVersion': (o) => str(o.regarding?.apiVersion),
    'regarding.resourceVersion': (o) => str(o.regarding?.resourceVersion),
    'regarding.fieldPath': (o) => str(o.regarding?.fieldPath),
    // The core/v1 spellings, which upstream accepts because both APIs share one storage.
    'involvedObject.kind': (o) => str(o.regarding?.kind),
    'involvedObject.namespace': (o) => str(o.regarding?.namespace),
    'involvedObject.name': (o) => str(o.regarding?.name),
    'involvedObject.uid': (o) => str(o.regarding?.uid),
    'involvedObject.apiVersion': (o) => str(o.regarding?.apiVersion),
    'involvedObject.resourceVersion': (o) => str(o.regarding?.resourceVersion),
    'involvedObject.fieldPath': (o) => str(o.regarding?.fieldPath),
    reason: (o) => str(o.reason),
    reportingController: (o) => str(o.reportingController),
    reportingComponent: (o) => str(o.reportingController),
    source: (o) => str(o.deprecatedSource?.component),
    type: (o) => str(o.type),
  },
  // The same printer as core/v1 Events, as upstream: the row is the stored event's.
  table: { columns: coreEvents.table!.columns, row: (obj, now) => coreEventRow(eventToCore(obj), now) },
};
