// PodTemplates and ReplicationControllers.

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { validateLabels } from '../validation.ts';
import { age, ageColumn, clone, col, formatLabels, nameColumn } from './common.ts';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from './pod-spec.ts';

function containerCells(spec: any): [string, string] {
  const cs: any[] = spec?.containers ?? [];
  return [cs.map((c) => c?.name ?? '').join(','), cs.map((c) => c?.image ?? '').join(',')];
}

// ---------------------------------------------------------------------------------------------
// PodTemplates

export const podTemplates: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'PodTemplate',
  plural: 'podtemplates',
  singular: 'podtemplate',
  namespaced: true,
  model: 'V1PodTemplate',
  strategy: {
    defaults(obj) {
      obj.template ??= {};
      defaultPodTemplateSpec(obj.template);
    },
    validate: (obj) => validatePodTemplateSpec(obj.template, 'template'),
    validateUpdate: (obj) => validatePodTemplateSpec(obj.template, 'template'),
  },
  table: {
    columns: [
      { ...col('Template', 'string', 0, 'Name must be unique within a namespace.'), format: 'name' },
      col('Containers', 'string', 0, 'Names of each container in the template.'),
      col('Images', 'string', 0, 'Images referenced by each container in the template.'),
      col('Pod Labels', 'string', 0, 'The labels for the pod template.'),
    ],
    row: (pt) => [pt.metadata.name, ...containerCells(pt.template?.spec), formatLabels(pt.template?.metadata?.labels)],
  },
};

// ---------------------------------------------------------------------------------------------
// ReplicationControllers

function defaultRC(rc: KObject): void {
  const spec = (rc.spec ??= {});
  const tlabels = spec.template?.metadata?.labels;
  // Upstream: an empty selector or empty object labels default to the template's labels.
  if (tlabels && Object.keys(tlabels).length) {
    if (!spec.selector || Object.keys(spec.selector).length === 0) spec.selector = { ...tlabels };
    if (!rc.metadata.labels || Object.keys(rc.metadata.labels).length === 0) rc.metadata.labels = { ...tlabels };
  }
  spec.replicas ??= 1;
  if (spec.template) defaultPodTemplateSpec(spec.template);
}

function validateRC(rc: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = rc.spec ?? {};
  if (typeof spec.replicas !== 'number' || spec.replicas < 0) errs.push(field.invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  if (typeof spec.minReadySeconds === 'number' && spec.minReadySeconds < 0) errs.push(field.invalid('spec.minReadySeconds', spec.minReadySeconds, 'must be greater than or equal to 0'));
  const selector = spec.selector ?? {};
  if (Object.keys(selector).length === 0) errs.push(field.required('spec.selector'));
  else errs.push(...validateLabels(selector, 'spec.selector'));
  if (!spec.template) {
    errs.push(field.required('spec.template'));
    return errs;
  }
  const labels = spec.template.metadata?.labels ?? {};
  if (Object.keys(selector).length && !Object.entries(selector).every(([k, v]) => labels[k] === v))
    errs.push(field.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  errs.push(...validatePodTemplateSpec(spec.template, 'spec.template'));
  const rp = spec.template.spec?.restartPolicy;
  if (rp && rp !== 'Always') errs.push(field.notSupported('spec.template.spec.restartPolicy', rp, ['Always']));
  if (spec.template.spec?.activeDeadlineSeconds !== undefined)
    errs.push(field.forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicationController is not Supported'));
  return errs;
}

export const replicationControllers: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  singular: 'replicationcontroller',
  namespaced: true,
  shortNames: ['rc'],
  categories: ['all'],
  model: 'V1ReplicationController',
  tracksGeneration: true,
  strategy: {
    defaults: defaultRC,
    prepareForCreate(obj) {
      obj.status = { replicas: 0 };
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    validate: validateRC,
    validateUpdate: (obj) => validateRC(obj),
  },
  status: {
    validateUpdate(obj) {
      const errs: FieldError[] = [];
      for (const k of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']) {
        const v = obj.status?.[k];
        if (v !== undefined && (typeof v !== 'number' || v < 0)) errs.push(field.invalid(`status.${k}`, v, 'must be greater than or equal to 0'));
      }
      return errs;
    },
  },
  scale: {
    specReplicasPath: 'spec.replicas',
    statusReplicasPath: 'status.replicas',
    selector: (obj) => formatLabels(obj.spec?.selector).replace(/^<none>$/, ''),
  },
  table: {
    columns: [
      nameColumn,
      col('Desired', 'integer', 0, 'Replicas is the number of desired replicas.'),
      col('Current', 'integer', 0, 'Replicas is the most recently observed number of replicas.'),
      col('Ready', 'integer', 0, 'The number of ready replicas for this replication controller.'),
      ageColumn,
      col('Containers', 'string', 1, 'Names of each container in the template.'),
      col('Images', 'string', 1, 'Images referenced by each container in the template.'),
      col('Selector', 'string', 1, 'Selector is a label query over pods that should match the Replicas count.'),
    ],
    row: (rc, now) => [
      rc.metadata.name,
      rc.spec?.replicas ?? 0,
      rc.status?.replicas ?? 0,
      rc.status?.readyReplicas ?? 0,
      age(rc, now),
      ...containerCells(rc.spec?.template?.spec),
      formatLabels(rc.spec?.selector),
    ],
  },
  fieldSelectors: {
    'status.replicas': (o) => String(o.status?.replicas ?? 0),
  },
};

