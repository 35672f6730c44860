// Namespaces: the kubernetes finalizer, the metadata.name label, phase Active.

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { age, ageColumn, clone, col, nameColumn, stricterNameErrors } from './common.ts';

export const namespaceNameLabel = 'kubernetes.io/metadata.name';

function defaultNamespace(ns: KObject): void {
  // Upstream keeps this label equal to the name on every write.
  if (ns.metadata.name) ns.metadata.labels = { ...(ns.metadata.labels ?? {}), [namespaceNameLabel]: ns.metadata.name };
  ns.status ??= {};
  ns.status.phase ||= 'Active';
}

function validateFinalizers(ns: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const fins = ns.spec?.finalizers;
  if (fins !== undefined && !Array.isArray(fins)) return [field.invalid('spec.finalizers', fins, 'must be a list')];
  (fins ?? []).forEach((f: unknown, i: number) => {
    if (typeof f !== 'string' || !f) errs.push(field.required(`spec.finalizers[${i}]`));
    else if (!f.includes('/') && f !== 'kubernetes')
      errs.push(field.invalid(`spec.finalizers[${i}]`, f, 'name is neither a standard finalizer name nor is it fully qualified'));
  });
  return errs;
}

export const namespaces: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  namespaced: false,
  shortNames: ['ns'],
  model: 'V1Namespace',
  strategy: {
    defaults: defaultNamespace,
    prepareForCreate(obj) {
      obj.spec = { ...(obj.spec ?? {}), finalizers: ['kubernetes'] };
      obj.status = { phase: 'Active' };
    },
    prepareForUpdate(obj, old) {
      // Finalizers change only through the finalize subresource; status only through /status.
      obj.spec = { ...(obj.spec ?? {}), finalizers: clone(old.spec?.finalizers) };
      if (obj.spec.finalizers === undefined) delete obj.spec.finalizers;
      obj.status = clone(old.status);
    },
    validate(obj) {
      return [...stricterNameErrors(obj.metadata.name, 'label'), ...validateFinalizers(obj)];
    },
    validateUpdate(obj) {
      return validateFinalizers(obj);
    },
  },
  status: {
    validateUpdate(obj, old) {
      const errs: FieldError[] = [];
      const phase = obj.status?.phase;
      if (phase && !['Active', 'Terminating'].includes(phase)) errs.push(field.notSupported('status.phase', phase, ['Active', 'Terminating']));
      if (old.metadata.deletionTimestamp && phase !== 'Terminating') errs.push(field.invalid('status.phase', phase, 'A namespace may not be set to active once it has been marked for deletion'));
      return errs;
    },
  },
  table: {
    columns: [nameColumn, col('Status', 'string', 0, 'The status of the namespace'), ageColumn],
    row: (ns, now) => [ns.metadata.name, ns.status?.phase ?? '', age(ns, now)],
  },
  fieldSelectors: {
    'status.phase': (o) => o.status?.phase ?? '',
  },
};
