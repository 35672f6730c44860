// storage.k8s.io/v1 StorageClass (upstream pkg/apis/storage/validation, v1 defaults, printer).
// The `storageclass.kubernetes.io/is-default-class: "true"` annotation marks the class that claims
// without spec.storageClassName get (default-class admission) and prints as "NAME (default)".

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { deepEqual, isQualifiedName, isValidLabelValue, validateImmutable } from '../validation.ts';
import { age, ageColumn, col, nameColumn } from '../core/common.ts';

export const defaultStorageClassAnnotation = 'storageclass.kubernetes.io/is-default-class';
/** The beta spelling upstream still honours. */
export const betaDefaultStorageClassAnnotation = 'storageclass.beta.kubernetes.io/is-default-class';

const reclaimPolicies = ['Delete', 'Retain'];
const bindingModes = ['Immediate', 'WaitForFirstConsumer'];
const maxParameters = 512;
const maxParameterBytes = 256 * 1024;

export function isDefaultStorageClass(sc: KObject): boolean {
  const a = sc.metadata.annotations ?? {};
  return a[defaultStorageClassAnnotation] === 'true' || a[betaDefaultStorageClassAnnotation] === 'true';
}

function defaultStorageClass(sc: KObject): void {
  sc.reclaimPolicy ??= 'Delete';
  sc.volumeBindingMode ??= 'Immediate';
}

function validateParameters(params: unknown): FieldError[] {
  if (params === undefined || params === null) return [];
  const entries = Object.entries(params as Record<string, unknown>);
  if (entries.length > maxParameters) return [field.tooLong('parameters', maxParameters)];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of entries) {
    if (k.length < 1) errs.push(field.invalid('parameters', k, 'field can not be empty.'));
    size += k.length + String(v).length;
  }
  if (size > maxParameterBytes) errs.push(field.tooLong('parameters', maxParameterBytes));
  return errs;
}

function validateAllowedTopologies(terms: unknown): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(terms)) return errs;
  terms.forEach((term: any, i: number) => {
    const exprs: any[] = Array.isArray(term?.matchLabelExpressions) ? term.matchLabelExpressions : [];
    if (exprs.length === 0) errs.push(field.required(`allowedTopologies[${i}].matchLabelExpressions`, 'must have at least one label expression'));
    const keys = new Set<string>();
    exprs.forEach((e, j) => {
      const p = `allowedTopologies[${i}].matchLabelExpressions[${j}]`;
      const key = typeof e?.key === 'string' ? e.key : '';
      for (const m of isQualifiedName(key)) errs.push(field.invalid(`${p}.key`, key, m));
      if (keys.has(key)) errs.push(field.duplicate(`${p}.key`, key));
      keys.add(key);
      const values: unknown[] = Array.isArray(e?.values) ? e.values : [];
      if (values.length === 0) errs.push(field.required(`${p}.values`, ''));
      const seen = new Set<unknown>();
      values.forEach((v, k) => {
        for (const m of isValidLabelValue(String(v))) errs.push(field.invalid(`${p}.values[${k}]`, v, m));
        if (seen.has(v)) errs.push(field.duplicate(`${p}.values[${k}]`, v));
        seen.add(v);
      });
    });
  });
  return errs;
}

export function validateStorageClass(sc: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const prov: string = typeof sc.provisioner === 'string' ? sc.provisioner : '';
  if (!prov) errs.push(field.required('provisioner'));
  else for (const m of isQualifiedName(prov.toLowerCase())) errs.push(field.invalid('provisioner', prov, m));
  errs.push(...validateParameters(sc.parameters));
  if (sc.reclaimPolicy && !reclaimPolicies.includes(sc.reclaimPolicy)) errs.push(field.notSupported('reclaimPolicy', sc.reclaimPolicy, reclaimPolicies));
  if (!sc.volumeBindingMode) errs.push(field.required('volumeBindingMode'));
  else if (!bindingModes.includes(sc.volumeBindingMode)) errs.push(field.notSupported('volumeBindingMode', sc.volumeBindingMode, bindingModes));
  errs.push(...validateAllowedTopologies(sc.allowedTopologies));
  return errs;
}

function validateStorageClassUpdate(sc: KObject, old: KObject): FieldError[] {
  const errs = validateStorageClass(sc);
  if (!deepEqual(sc.parameters ?? {}, old.parameters ?? {})) errs.push(field.forbidden('parameters', 'updates to parameters are forbidden.'));
  if (sc.provisioner !== old.provisioner) errs.push(field.forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (sc.reclaimPolicy !== old.reclaimPolicy) errs.push(field.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  errs.push(...validateImmutable(sc.volumeBindingMode, old.volumeBindingMode, 'volumeBindingMode'));
  return errs;
}

export const storageClasses: ResourceDef = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  singular: 'storageclass',
  namespaced: false,
  shortNames: ['sc'],
  model: 'V1StorageClass',
  strategy: { defaults: defaultStorageClass, validate: validateStorageClass, validateUpdate: validateStorageClassUpdate },
  table: {
    columns: [
      nameColumn,
      col('Provisioner', 'string', 0, 'provisioner indicates the type of the provisioner.'),
      col('ReclaimPolicy', 'string', 0, 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.'),
      col('VolumeBindingMode', 'string', 0, 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.'),
      col('AllowVolumeExpansion', 'string', 0, 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
      ageColumn,
    ],
    row: (sc, now) => [
      isDefaultStorageClass(sc) ? `${sc.metadata.name} (default)` : sc.metadata.name,
      sc.provisioner ?? '',
      sc.reclaimPolicy ?? 'Delete',
      sc.volumeBindingMode ?? 'Immediate',
      sc.allowVolumeExpansion === true,
      age(sc, now),
    ],
  },
};
