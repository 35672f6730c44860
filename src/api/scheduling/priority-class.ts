// scheduling.k8s.io/v1 PriorityClass, plus the two built-in system classes.

import { field, type FieldError } from '../../machinery/errors.ts';
import { ageColumn, nameColumn } from '../apps/workload-common.ts';
import { humanAge, type KObject, type ResourceDef } from '../types.ts';
import { validateImmutable } from '../validation.ts';

/** User-defined classes may not exceed this; larger values are reserved for the system classes. */
export const highestUserDefinablePriority = 1000000000;
export const systemCriticalPriority = 2 * highestUserDefinablePriority;
const systemPrefix = 'system-';

const systemClassValues: Record<string, number> = {
  'system-cluster-critical': systemCriticalPriority,
  'system-node-critical': systemCriticalPriority + 1000,
};

const preemptionPolicies = ['PreemptLowerPriority', 'Never'];

export function defaultPriorityClass(obj: KObject): void {
  // value is a plain int32 upstream, so an omitted value reads back as 0.
  obj.value ??= 0;
  obj.preemptionPolicy ??= 'PreemptLowerPriority';
}

/** Why a `system-` name is not an exact built-in class, or undefined if it is one. */
function systemClassMismatch(name: string, value: unknown, globalDefault: unknown): string | undefined {
  const want = systemClassValues[name];
  if (want === undefined) return `${name} is not a known system priority class`;
  if (value !== want) return `value of ${name} PriorityClass must be ${want}`;
  if ((globalDefault ?? false) !== false) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

export function validatePriorityClass(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const name = obj.metadata.name ?? '';
  if (name.startsWith(systemPrefix)) {
    const why = systemClassMismatch(name, obj.value, obj.globalDefault);
    if (why) errs.push(field.forbidden('metadata.name', `priority class names with '${systemPrefix}' prefix are reserved for system use only. error: ${why}`));
  } else if (typeof obj.value === 'number' && obj.value > highestUserDefinablePriority) {
    errs.push(field.forbidden('value', `maximum allowed value of a user defined priority is ${highestUserDefinablePriority}`));
  }
  if (obj.preemptionPolicy !== undefined && obj.preemptionPolicy !== null && !preemptionPolicies.includes(obj.preemptionPolicy))
    errs.push(field.notSupported('preemptionPolicy', obj.preemptionPolicy, preemptionPolicies));
  return errs;
}

export function validatePriorityClassUpdate(obj: KObject, old: KObject): FieldError[] {
  const errs = validatePriorityClass(obj);
  if (obj.value !== old.value) errs.push(field.forbidden('value', 'may not be changed in an update.'));
  errs.push(...validateImmutable(obj.preemptionPolicy, old.preemptionPolicy, 'preemptionPolicy'));
  return errs;
}

function systemClass(name: string, description: string): KObject {
  return {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name },
    value: systemClassValues[name],
    globalDefault: false,
    description,
    preemptionPolicy: 'PreemptLowerPriority',
  };
}

/** Created by the server at startup. */
export const systemPriorityClasses: KObject[] = [
  systemClass('system-cluster-critical', 'For pods the cluster cannot work without; they may still be moved to another node.'),
  systemClass('system-node-critical', 'For pods a node cannot work without; they are never moved off their node.'),
];

export const priorityclasses: ResourceDef = {
  group: 'scheduling.k8s.io',
  version: 'v1',
  kind: 'PriorityClass',
  plural: 'priorityclasses',
  singular: 'priorityclass',
  namespaced: false,
  shortNames: ['pc'],
  model: 'V1PriorityClass',
  strategy: {
    defaults: defaultPriorityClass,
    validate: validatePriorityClass,
    validateUpdate: validatePriorityClassUpdate,
  },
  table: {
    columns: [
      nameColumn,
      { name: 'Value', type: 'integer', description: 'Priority value.', priority: 0 },
      { name: 'Global-Default', type: 'boolean', description: 'Whether this class is the default for pods without one.', priority: 0 },
      ageColumn,
      { name: 'PreemptionPolicy', type: 'string', description: 'Whether pods of this class preempt lower-priority pods.', priority: 0 },
    ],
    row: (obj, now) => [
      obj.metadata.name,
      obj.value ?? 0,
      obj.globalDefault ?? false,
      humanAge(obj.metadata.creationTimestamp, now),
      obj.preemptionPolicy ?? '',
    ],
  },
};
