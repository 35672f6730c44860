// apps/v1 StatefulSet.

import { field, type FieldError } from '../../machinery/errors.ts';
import { defaultPodTemplateSpec } from '../core/pod-spec.ts';
import { humanAge, type KObject, type ResourceDef } from '../types.ts';
import { deepEqual, validateImmutable } from '../validation.ts';
import {
  ageColumn,
  containerCells,
  containersColumn,
  ensureSpec,
  imagesColumn,
  intOrPercent,
  nameColumn,
  nonNegative,
  resetStatus,
  scaleSelector,
  validateWorkloadSelectorAndTemplate,
} from './workload-common.ts';

function defaultClaimTemplate(pvc: any): void {
  if (!pvc || typeof pvc !== 'object') return;
  // Embedded claims are served with their type meta and a Pending phase, as upstream shows them.
  pvc.apiVersion ??= 'v1';
  pvc.kind ??= 'PersistentVolumeClaim';
  pvc.metadata ??= {};
  pvc.spec ??= {};
  pvc.spec.volumeMode ??= 'Filesystem';
  pvc.status ??= {};
  pvc.status.phase ??= 'Pending';
}

export function defaultStatefulSet(obj: KObject): void {
  const spec = ensureSpec(obj);
  spec.podManagementPolicy ||= 'OrderedReady';
  spec.updateStrategy ??= {};
  spec.updateStrategy.type ||= 'RollingUpdate';
  if (spec.updateStrategy.type === 'RollingUpdate') {
    spec.updateStrategy.rollingUpdate ??= {};
    spec.updateStrategy.rollingUpdate.partition ??= 0;
  }
  spec.persistentVolumeClaimRetentionPolicy ??= {};
  spec.persistentVolumeClaimRetentionPolicy.whenDeleted ||= 'Retain';
  spec.persistentVolumeClaimRetentionPolicy.whenScaled ||= 'Retain';
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  defaultPodTemplateSpec((spec.template ??= {}));
  if (Array.isArray(spec.volumeClaimTemplates)) spec.volumeClaimTemplates.forEach(defaultClaimTemplate);
}

const retentionValues = ['Retain', 'Delete'];

function validateUpdateStrategy(us: any): FieldError[] {
  const errs: FieldError[] = [];
  const type = us?.type ?? '';
  if (type === 'RollingUpdate') {
    const ru = us.rollingUpdate;
    if (ru) {
      errs.push(...nonNegative(ru.partition, 'spec.updateStrategy.rollingUpdate.partition'));
      if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) {
        const p = 'spec.updateStrategy.rollingUpdate.maxUnavailable';
        errs.push(...intOrPercent(ru.maxUnavailable, p));
        if (ru.maxUnavailable === 0 || ru.maxUnavailable === '0%') errs.push(field.invalid(p, ru.maxUnavailable, 'must be greater than 0'));
      }
    }
  } else if (type === 'OnDelete') {
    if (us.rollingUpdate) errs.push(field.invalid('spec.updateStrategy.rollingUpdate', us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
  } else if (type === '') {
    errs.push(field.required('spec.updateStrategy'));
  } else {
    errs.push(field.invalid('spec.updateStrategy', us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  return errs;
}

function validateClaimTemplates(list: unknown): FieldError[] {
  if (!Array.isArray(list)) return [];
  const errs: FieldError[] = [];
  list.forEach((pvc: any, i: number) => {
    const p = `spec.volumeClaimTemplates[${i}]`;
    if (!pvc?.metadata?.name) errs.push(field.required(`${p}.metadata.name`, 'name or generateName is required'));
    const accessModes = pvc?.spec?.accessModes;
    if (!Array.isArray(accessModes) || accessModes.length === 0)
      errs.push(field.required(`${p}.spec.accessModes`, 'at least 1 access mode is required'));
    if (pvc?.spec?.resources?.requests?.storage === undefined) errs.push(field.required(`${p}.spec.resources[storage]`));
  });
  return errs;
}

/**
 * The spec with each volumeClaimTemplates entry added to the template's volumes, as the pods will
 * have them (the controller mounts claim `<template>-<set>-<ordinal>` under the template's name):
 * a container may mount a claim template by name. (Upstream does not validate the pod spec of a
 * StatefulSet's template at all; Mizzen validates it with the claims in place.)
 */
function withClaimVolumes(spec: any): any {
  const claims = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : [];
  const t = spec.template;
  if (!claims.length || !t || typeof t !== 'object' || !t.spec || typeof t.spec !== 'object') return spec;
  const volumes: any[] = Array.isArray(t.spec.volumes) ? [...t.spec.volumes] : [];
  const have = new Set(volumes.map((v) => v?.name));
  for (const c of claims) {
    const name = c?.metadata?.name;
    if (typeof name === 'string' && name !== '' && !have.has(name)) volumes.push({ name, persistentVolumeClaim: { claimName: name } });
  }
  return { ...spec, template: { ...t, spec: { ...t.spec, volumes } } };
}

export function validateStatefulSet(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  const pmp = spec.podManagementPolicy ?? '';
  if (pmp === '') errs.push(field.required('spec.podManagementPolicy'));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') errs.push(field.invalid('spec.podManagementPolicy', pmp, "must be 'OrderedReady' or 'Parallel'"));
  errs.push(...validateUpdateStrategy(spec.updateStrategy));
  const rp = spec.persistentVolumeClaimRetentionPolicy;
  if (rp) {
    for (const k of ['whenDeleted', 'whenScaled'] as const)
      if (!retentionValues.includes(rp[k])) errs.push(field.notSupported(`spec.persistentVolumeClaimRetentionPolicy.${k}`, rp[k] ?? '', retentionValues));
  }
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  if (spec.ordinals) errs.push(...nonNegative(spec.ordinals.start, 'spec.ordinals.start'));
  errs.push(...validateWorkloadSelectorAndTemplate(withClaimVolumes(spec), 'empty selector is invalid for statefulset', 'StatefulSet'));
  errs.push(...validateClaimTemplates(spec.volumeClaimTemplates));
  return errs;
}

/** Spec fields a StatefulSet update may change; everything else is fixed at creation. */
const mutableSpecFields = ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

export function validateStatefulSetUpdate(obj: KObject, old: KObject): FieldError[] {
  const errs = validateStatefulSet(obj);
  const strip = (spec: any) => {
    const copy = { ...(spec ?? {}) };
    for (const k of mutableSpecFields) delete copy[k];
    return copy;
  };
  if (!deepEqual(strip(obj.spec), strip(old.spec)))
    errs.push(
      field.forbidden(
        'spec',
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  // Selector changes are already covered by the rule above; keep upstream's explicit check too.
  else errs.push(...validateImmutable(obj.spec?.selector, old.spec?.selector, 'spec.selector'));
  return errs;
}

export const statefulsets: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  model: 'V1StatefulSet',
  tracksGeneration: true,
  strategy: {
    defaults: defaultStatefulSet,
    prepareForCreate: resetStatus,
    validate: validateStatefulSet,
    validateUpdate: validateStatefulSetUpdate,
  },
  status: {},
  scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', selector: scaleSelector },
  table: {
    columns: [
      nameColumn,
      { name: 'Ready', type: 'string', description: 'Ready replicas out of desired.', priority: 0 },
      ageColumn,
      containersColumn,
      imagesColumn,
    ],
    row(obj, now) {
      const [names, images] = containerCells(obj.spec?.template);
      return [
        obj.metadata.name,
        `${obj.status?.readyReplicas ?? 0}/${obj.spec?.replicas ?? 0}`,
        humanAge(obj.metadata.creationTimestamp, now),
        names,
        images,
      ];
    },
  },
};
