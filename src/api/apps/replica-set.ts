// apps/v1 ReplicaSet.

import type { FieldError } from '../../machinery/errors.ts';
import { defaultPodTemplateSpec } from '../core/pod-spec.ts';
import { humanAge, type KObject, type ResourceDef } from '../types.ts';
import { validateImmutable } from '../validation.ts';
import {
  ageColumn,
  containerCells,
  containersColumn,
  ensureSpec,
  formatLabelSelector,
  imagesColumn,
  nameColumn,
  nonNegative,
  resetStatus,
  scaleSelector,
  selectorColumn,
  validateWorkloadSelectorAndTemplate,
} from './workload-common.ts';

export function defaultReplicaSet(obj: KObject): void {
  const spec = ensureSpec(obj);
  spec.replicas ??= 1;
  defaultPodTemplateSpec((spec.template ??= {}));
}

export function validateReplicaSet(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  // Upstream reuses the Deployment wording here.
  errs.push(...validateWorkloadSelectorAndTemplate(spec, 'empty selector is invalid for deployment', 'ReplicaSet'));
  return errs;
}

export function validateReplicaSetUpdate(obj: KObject, old: KObject): FieldError[] {
  return [...validateReplicaSet(obj), ...validateImmutable(obj.spec?.selector, old.spec?.selector, 'spec.selector')];
}

export const replicasets: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  namespaced: true,
  shortNames: ['rs'],
  categories: ['all'],
  model: 'V1ReplicaSet',
  tracksGeneration: true,
  strategy: {
    defaults: defaultReplicaSet,
    prepareForCreate: resetStatus,
    validate: validateReplicaSet,
    validateUpdate: validateReplicaSetUpdate,
  },
  status: {},
  scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', selector: scaleSelector },
  fieldSelectors: {
    'status.replicas': (obj) => String(obj.status?.replicas ?? 0),
  },
  table: {
    columns: [
      nameColumn,
      { name: 'Desired', type: 'integer', description: 'Desired number of replicas.', priority: 0 },
      { name: 'Current', type: 'integer', description: 'Observed number of replicas.', priority: 0 },
      { name: 'Ready', type: 'integer', description: 'Replicas that are ready.', priority: 0 },
      ageColumn,
      containersColumn,
      imagesColumn,
      selectorColumn,
    ],
    row(obj, now) {
      const st = obj.status ?? {};
      const [names, images] = containerCells(obj.spec?.template);
      return [
        obj.metadata.name,
        obj.spec?.replicas ?? 0,
        st.replicas ?? 0,
        st.readyReplicas ?? 0,
        humanAge(obj.metadata.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(obj.spec?.selector),
      ];
    },
  },
};
