// apps/v1 Deployment: defaults, validation and table as upstream's apps strategy and printers.

import { field, type FieldError } from '../../machinery/errors.ts';
import { selectorToString } from '../../machinery/labels.ts';
import { defaultPodTemplateSpec } from '../core/pod-spec.ts';
import { humanAge, type KObject, type ResourceDef } from '../types.ts';
import { validateImmutable } from '../validation.ts';
import {
  ageColumn,
  containerCells,
  containersColumn,
  ensureSpec,
  imagesColumn,
  intOrPercent,
  intOrPercentValue,
  nameColumn,
  nonNegative,
  notMoreThan100Percent,
  resetStatus,
  scaleSelector,
  selectorColumn,
  validateWorkloadSelectorAndTemplate,
} from './workload-common.ts';

export function defaultDeployment(obj: KObject): void {
  const spec = ensureSpec(obj);
  spec.replicas ??= 1;
  spec.strategy ??= {};
  spec.strategy.type ||= 'RollingUpdate';
  if (spec.strategy.type === 'RollingUpdate') {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
    spec.strategy.rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  defaultPodTemplateSpec((spec.template ??= {}));
}

function validateStrategy(strategy: any): FieldError[] {
  const errs: FieldError[] = [];
  const p = 'spec.strategy';
  const type = strategy?.type ?? '';
  if (type === 'Recreate') {
    if (strategy.rollingUpdate) errs.push(field.forbidden(`${p}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'"));
  } else if (type === 'RollingUpdate') {
    const ru = strategy.rollingUpdate;
    if (ru) {
      const rp = `${p}.rollingUpdate`;
      errs.push(...intOrPercent(ru.maxUnavailable, `${rp}.maxUnavailable`));
      errs.push(...intOrPercent(ru.maxSurge, `${rp}.maxSurge`));
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0)
        errs.push(field.invalid(`${rp}.maxUnavailable`, ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${rp}.maxUnavailable`));
    }
  } else if (type === '') {
    errs.push(field.required(`${p}.type`));
  } else {
    errs.push(field.notSupported(`${p}.type`, type, ['Recreate', 'RollingUpdate']));
  }
  return errs;
}

export function validateDeployment(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateWorkloadSelectorAndTemplate(spec, 'empty selector is invalid for deployment', 'ReplicaSet'));
  errs.push(...validateStrategy(spec.strategy));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  if (spec.progressDeadlineSeconds !== undefined && spec.progressDeadlineSeconds !== null) {
    const before = errs.length;
    errs.push(...nonNegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (errs.length === before && spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0))
      errs.push(field.invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
  return errs;
}

export function validateDeploymentUpdate(obj: KObject, old: KObject): FieldError[] {
  return [...validateDeployment(obj), ...validateImmutable(obj.spec?.selector, old.spec?.selector, 'spec.selector')];
}

export const deployments: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  model: 'V1Deployment',
  tracksGeneration: true,
  strategy: {
    defaults: defaultDeployment,
    prepareForCreate: resetStatus,
    validate: validateDeployment,
    validateUpdate: validateDeploymentUpdate,
  },
  status: {
    // Upstream's deployment status strategy resets the labels too.
    prepareForUpdate(obj, old) {
      if (old.metadata.labels === undefined) delete obj.metadata.labels;
      else obj.metadata.labels = { ...old.metadata.labels };
    },
  },
  scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', selector: scaleSelector },
  table: {
    columns: [
      nameColumn,
      { name: 'Ready', type: 'string', description: 'Ready replicas out of desired.', priority: 0 },
      { name: 'Up-to-date', type: 'string', description: 'Replicas running the latest template.', priority: 0 },
      { name: 'Available', type: 'string', description: 'Replicas available to serve.', priority: 0 },
      ageColumn,
      containersColumn,
      imagesColumn,
      selectorColumn,
    ],
    row(obj, now) {
      const st = obj.status ?? {};
      const [names, images] = containerCells(obj.spec?.template);
      // Unlike the other workloads, the Deployment printer shows an empty selector as ''.
      const sel = obj.spec?.selector ? selectorToString(obj.spec.selector) : '';
      return [
        obj.metadata.name,
        `${st.readyReplicas ?? 0}/${obj.spec?.replicas ?? 0}`,
        st.updatedReplicas ?? 0,
        st.availableReplicas ?? 0,
        humanAge(obj.metadata.creationTimestamp, now),
        names,
        images,
        sel,
      ];
    },
  },
};
