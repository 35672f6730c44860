// policy/v1 PodDisruptionBudget.

import { field, type FieldError } from '../../machinery/errors.ts';
import { validateLabelSelector } from '../../machinery/labels.ts';
import { ageColumn, intOrPercent, intOrStringText, nameColumn, notMoreThan100Percent, resetStatus } from '../apps/workload-common.ts';
import { humanAge, type KObject, type ResourceDef } from '../types.ts';

const evictionPolicies = ['IfHealthyBudget', 'AlwaysAllow'];

const isSet = (v: unknown) => v !== undefined && v !== null;

export function validatePodDisruptionBudget(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  if (isSet(spec.minAvailable) && isSet(spec.maxUnavailable)) errs.push(field.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  for (const k of ['minAvailable', 'maxUnavailable'] as const) {
    if (!isSet(spec[k])) continue;
    errs.push(...intOrPercent(spec[k], `spec.${k}`));
    errs.push(...notMoreThan100Percent(spec[k], `spec.${k}`));
  }
  if (isSet(spec.selector)) errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  if (isSet(spec.unhealthyPodEvictionPolicy) && !evictionPolicies.includes(spec.unhealthyPodEvictionPolicy))
    errs.push(field.notSupported('spec.unhealthyPodEvictionPolicy', spec.unhealthyPodEvictionPolicy, evictionPolicies));
  return errs;
}

export const poddisruptionbudgets: ResourceDef = {
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  namespaced: true,
  shortNames: ['pdb'],
  model: 'V1PodDisruptionBudget',
  tracksGeneration: true,
  strategy: {
    prepareForCreate: resetStatus,
    validate: validatePodDisruptionBudget,
    validateUpdate: (obj) => validatePodDisruptionBudget(obj),
  },
  status: {},
  table: {
    columns: [
      nameColumn,
      { name: 'Min Available', type: 'string', description: 'Pods that must stay available.', priority: 0 },
      { name: 'Max Unavailable', type: 'string', description: 'Pods that may be unavailable.', priority: 0 },
      { name: 'Allowed Disruptions', type: 'integer', description: 'Pod disruptions currently allowed.', priority: 0 },
      ageColumn,
    ],
    row: (obj, now) => [
      obj.metadata.name,
      isSet(obj.spec?.minAvailable) ? intOrStringText(obj.spec.minAvailable) : 'N/A',
      isSet(obj.spec?.maxUnavailable) ? intOrStringText(obj.spec.maxUnavailable) : 'N/A',
      obj.status?.disruptionsAllowed ?? 0,
      humanAge(obj.metadata.creationTimestamp, now),
    ],
  },
};
