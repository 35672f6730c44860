// Core v1 Events and the `kubectl get events` table.

import { field, type FieldError } from '../../machinery/errors.ts';
import { humanAge, type KObject, type ResourceDef } from '../types.ts';
import { col } from './common.ts';

function validateEvent(ev: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const io = ev.involvedObject ?? {};
  const ns = ev.metadata.namespace;
  // Events about namespaced objects live in that namespace; events about cluster-scoped ones in default (or empty).
  if (io.namespace && ns && io.namespace !== ns) errs.push(field.invalid('involvedObject.namespace', io.namespace, 'does not match event.namespace'));
  if (ev.type !== undefined && ev.type !== '' && ev.eventTime && !['Normal', 'Warning'].includes(ev.type))
    errs.push(field.notSupported('type', ev.type, ['Normal', 'Warning']));
  if (ev.eventTime) {
    if (!ev.reportingComponent) errs.push(field.required('reportingComponent'));
    if (!ev.reportingInstance) errs.push(field.required('reportingInstance'));
    if (!ev.action) errs.push(field.required('action'));
    if (!ev.reason) errs.push(field.required('reason'));
  }
  if (typeof ev.message === 'string' && ev.message.length > 4096) errs.push(field.tooLong('message', 4096));
  return errs;
}

function sourceText(ev: KObject): string {
  const component = ev.source?.component || ev.reportingComponent || '';
  const host = ev.source?.host || ev.reportingInstance || '';
  if (!component && !host) return '';
  return host ? `${component}, ${host}` : component;
}

export function eventRow(ev: KObject, now: number): unknown[] {
  const first = ev.firstTimestamp ? humanAge(ev.firstTimestamp, now) : humanAge(ev.eventTime ?? undefined, now);
  let last = ev.lastTimestamp ? humanAge(ev.lastTimestamp, now) : first;
  let count: number = ev.count ?? 0;
  if (ev.series) {
    last = humanAge(ev.series.lastObservedTime, now);
    count = ev.series.count ?? 0;
  } else if (!count) count = 1;
  const io = ev.involvedObject ?? {};
  const kind = String(io.kind ?? '').toLowerCase();
  const target = io.name ? `${kind}/${io.name}` : kind;
  return [last, ev.type ?? '', ev.reason ?? '', target, io.fieldPath ?? '', sourceText(ev), String(ev.message ?? '').trim(), first, count, ev.metadata.name];
}

export const events: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  model: 'CoreV1Event',
  strategy: {
    validate: validateEvent,
    validateUpdate: (obj) => validateEvent(obj),
  },
  table: {
    columns: [
      col('Last Seen', 'string', 0, 'Time when last event occurred'),
      col('Type', 'string', 0, 'Type of this event (Normal, Warning), new types could be added in the future.'),
      col('Reason', 'string', 0, 'This should be a short, machine understandable string that gives the reason for this event being generated.'),
      col('Object', 'string', 0, 'The object that this event is about.'),
      col('Subobject', 'string', 1, 'The subobject this event is about, if any.'),
      col('Source', 'string', 1, 'The component reporting this event.'),
      col('Message', 'string', 0, 'A human-readable description of the status of this operation.'),
      col('First Seen', 'string', 1, 'The time at which the event was first recorded.'),
      col('Count', 'string', 1, 'The number of times this event has occurred.'),
      { ...col('Name', 'string', 1, 'Name must be unique within a namespace.'), format: 'name' },
    ],
    row: eventRow,
  },
  fieldSelectors: {
    'involvedObject.kind': (o) => o.involvedObject?.kind ?? '',
    'involvedObject.namespace': (o) => o.involvedObject?.namespace ?? '',
    'involvedObject.name': (o) => o.involvedObject?.name ?? '',
    'involvedObject.uid': (o) => o.involvedObject?.uid ?? '',
    'involvedObject.apiVersion': (o) => o.involvedObject?.apiVersion ?? '',
    'involvedObject.resourceVersion': (o) => o.involvedObject?.resourceVersion ?? '',
    'involvedObject.fieldPath': (o) => o.involvedObject?.fieldPath ?? '',
    reason: (o) => o.reason ?? '',
    reportingComponent: (o) => o.reportingComponent ?? '',
    source: (o) => o.source?.component || o.reportingComponent || '',
    type: (o) => o.type ?? '',
  },
};
