// apiextensions.k8s.io/v1 CustomResourceDefinition: defaults, validation and the deletion
// finalizer as upstream's CRD registry strategy. Serving the resources a CRD defines is
// src/apiextensions/ (the serving controller reacts to the CRDs stored here).

import type { KObject, ResourceDef } from '../types.ts';
import { validateCRD, validateCRDStatus, validateCRDUpdate } from '../../apiextensions/crd-validation.ts';
import { cleanupFinalizer, crdVersionsOf } from '../../apiextensions/crd-model.ts';
import { nowRFC3339 } from '../../machinery/time.ts';

function setDefaults(crd: KObject): void {
  const spec = (crd.spec ??= {});
  if (spec && typeof spec === 'object') {
    if (!spec.conversion) spec.conversion = { strategy: 'None' };
    const svc = spec.conversion?.webhook?.clientConfig?.service;
    if (svc && typeof svc === 'object' && svc.port === undefined) svc.port = 443;
    const names = spec.names;
    if (names && typeof names === 'object') {
      if (!names.singular && typeof names.kind === 'string') names.singular = names.kind.toLowerCase();
      if (!names.listKind && typeof names.kind === 'string' && names.kind) names.listKind = `${names.kind}List`;
    }
  }
}

/** Adds the storage version to status.storedVersions (it is never removed by the server). */
function recordStorageVersion(crd: KObject): void {
  const status = (crd.status ??= {});
  const stored: string[] = Array.isArray(status.storedVersions) ? status.storedVersions : [];
  for (const v of crdVersionsOf(crd)) if (v.storage && !stored.includes(v.name)) stored.push(v.name);
  status.storedVersions = stored;
}

function setCondition(crd: KObject, type: string, status: string, reason: string, message: string): void {
  const conds: any[] = (crd.status ??= {}).conditions ??= [];
  const c = { type, status, lastTransitionTime: nowRFC3339(), reason, message };
  const i = conds.findIndex((x) => x?.type === type);
  if (i < 0) conds.push(c);
  else if (conds[i].status === status) conds[i] = { ...c, lastTransitionTime: conds[i].lastTransitionTime };
  else conds[i] = c;
}

export const customResourceDefinitions: ResourceDef = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  namespaced: false,
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  model: 'V1CustomResourceDefinition',
  tracksGeneration: true,
  strategy: {
    defaults: setDefaults,
    prepareForCreate(crd) {
      crd.status = {};
      recordStorageVersion(crd);
    },
    prepareForUpdate(crd) {
      recordStorageVersion(crd);
    },
    validate: validateCRD,
    validateUpdate: validateCRDUpdate,
    prepareForDelete(crd) {
      // As upstream's CRD REST: the first delete marks the CRD terminating and adds the cleanup
      // finalizer, so its custom resources are deleted before it goes.
      const fins: string[] = (crd.metadata.finalizers ??= []);
      if (!fins.includes(cleanupFinalizer)) fins.push(cleanupFinalizer);
      setCondition(crd, 'Terminating', 'True', 'InstanceDeletionPending', 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon');
    },
  },
  status: {
    validateUpdate: (crd) => validateCRDStatus(crd),
  },
  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
      { name: 'Created At', type: 'date', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 },
    ],
    row: (crd) => [crd.metadata.name, crd.metadata.creationTimestamp],
  },
};
