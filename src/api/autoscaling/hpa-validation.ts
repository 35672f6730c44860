// HorizontalPodAutoscaler validation and defaults, in autoscaling/v2 terms (upstream validates the
// internal form, which is v2's; a v1 object is converted first, so its errors name v2 paths as
// upstream's do).

import { field, type FieldError } from '../../machinery/errors.ts';
import { validateLabelSelector } from '../../machinery/labels.ts';
import type { KObject } from '../types.ts';
import { quantityOf } from '../core/resources.ts';
import { pathSegmentErrors } from '../networking/common.ts';

const metricSourceTypes = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const targetTypes = ['AverageValue', 'Utilization', 'Value'];
const selectPolicies = ['Disabled', 'Max', 'Min'];
const policyTypes = ['Percent', 'Pods'];
const maxStabilizationWindowSeconds = 3600;
const maxPeriodSeconds = 1800;
export const defaultCPUUtilization = 80;

const scaleUpDefaults = () => ({
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
});
// No stabilization window: the controller's --horizontal-pod-autoscaler-downscale-stabilization applies.
const scaleDownDefaults = () => ({ selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });

function fillRules(rules: any, defaults: Record<string, unknown>): any {
  const out = rules && typeof rules === 'object' ? rules : {};
  for (const [k, v] of Object.entries(defaults)) if (out[k] === undefined || out[k] === null) out[k] = v;
  return out;
}

/** Upstream SetDefaults_HorizontalPodAutoscaler (autoscaling/v2). */
export function defaultHPAv2(obj: KObject): void {
  const spec = (obj.spec ??= {});
  spec.minReplicas ??= 1;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0)
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: defaultCPUUtilization } } }];
  if (spec.behavior && typeof spec.behavior === 'object') {
    spec.behavior.scaleUp = fillRules(spec.behavior.scaleUp, scaleUpDefaults());
    spec.behavior.scaleDown = fillRules(spec.behavior.scaleDown, scaleDownDefaults());
  }
}

function validateRef(ref: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!ref?.kind) errs.push(field.required(`${path}.kind`));
  else for (const m of pathSegmentErrors(ref.kind)) errs.push(field.invalid(`${path}.kind`, ref.kind, m));
  if (!ref?.name) errs.push(field.required(`${path}.name`));
  else for (const m of pathSegmentErrors(ref.name)) errs.push(field.invalid(`${path}.name`, ref.name, m));
  return errs;
}

function positive(v: unknown, path: string): FieldError[] {
  if (v === undefined || v === null) return [];
  const q = quantityOf(v);
  return q && q.nanos > 0n ? [] : [field.invalid(path, v, 'must be positive')];
}

function validateTarget(t: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!t?.type) errs.push(field.required(`${path}.type`, 'must specify a metric target type'));
  else if (!targetTypes.includes(t.type)) errs.push(field.invalid(`${path}.type`, t.type, 'must be either Utilization, Value, or AverageValue'));
  errs.push(...positive(t?.value, `${path}.value`));
  errs.push(...positive(t?.averageValue, `${path}.averageValue`));
  if (t?.averageUtilization !== undefined && t?.averageUtilization !== null && t.averageUtilization < 1)
    errs.push(field.invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  return errs;
}

function validateIdentifier(id: any, path: string): FieldError[] {
  if (!id?.name) return [field.required(`${path}.name`, 'must specify a metric name')];
  const errs = pathSegmentErrors(id.name).map((m) => field.invalid(`${path}.name`, id.name, m));
  if (id.selector) errs.push(...validateLabelSelector(id.selector, `${path}.selector`));
  return errs;
}

const set = (v: unknown): boolean => v !== undefined && v !== null;

function validateSource(type: string, src: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const t = src?.target ?? {};
  switch (type) {
    case 'Object':
      errs.push(...validateRef(src.describedObject, `${path}.describedObject`), ...validateIdentifier(src.metric, `${path}.metric`), ...validateTarget(t, `${path}.target`));
      if (!set(t.value) && !set(t.averageValue)) errs.push(field.required(`${path}.target.averageValue`, 'must set either a target value or averageValue'));
      break;
    case 'Pods':
      errs.push(...validateIdentifier(src.metric, `${path}.metric`), ...validateTarget(t, `${path}.target`));
      if (!set(t.averageValue)) errs.push(field.required(`${path}.target.averageValue`, 'must specify a positive target averageValue'));
      break;
    case 'External':
      errs.push(...validateIdentifier(src.metric, `${path}.metric`), ...validateTarget(t, `${path}.target`));
      if (!set(t.value) && !set(t.averageValue)) errs.push(field.required(`${path}.target.averageValue`, 'must set either a target value for metric or a per-pod target'));
      if (set(t.value) && set(t.averageValue)) errs.push(field.forbidden(`${path}.target.value`, 'may not set both a target value for metric and a per-pod target'));
      break;
    case 'Resource':
    case 'ContainerResource':
      if (!src.name) errs.push(field.required(`${path}.name`, 'must specify a resource name'));
      if (type === 'ContainerResource' && !src.container) errs.push(field.required(`${path}.container`, 'must specify a container'));
      errs.push(...validateTarget(t, `${path}.target`));
      if (!set(t.averageUtilization) && !set(t.averageValue)) errs.push(field.required(`${path}.target.averageUtilization`, 'must set either a target raw value or a target utilization'));
      if (set(t.averageUtilization) && set(t.averageValue)) errs.push(field.forbidden(`${path}.target.averageValue`, 'may not set both a target raw value and a target utilization'));
      break;
  }
  return errs;
}

const sourceField: Record<string, string> = { Object: 'object', Pods: 'pods', Resource: 'resource', ContainerResource: 'containerResource', External: 'external' };

function validateMetric(m: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!m?.type) errs.push(field.required(`${path}.type`, 'must specify a metric source type'));
  else if (!metricSourceTypes.includes(m.type)) errs.push(field.notSupported(`${path}.type`, m.type, metricSourceTypes));
  const present = Object.values(sourceField).filter((k) => m?.[k]);
  const expected = sourceField[m?.type];
  if (expected && !m[expected]) errs.push(field.required(`${path}.${expected}`, 'must populate information for the given metric source'));
  if (present.length === 1 && present[0] === expected) errs.push(...validateSource(m.type, m[expected], `${path}.${expected}`));
  if (present.length !== 1 || present[0] !== expected)
    for (const k of present) if (k !== expected) errs.push(field.forbidden(`${path}.${k}`, 'must populate the given metric source only'));
  return errs;
}

function validateRules(rules: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!rules) return errs;
  const w = rules.stabilizationWindowSeconds;
  if (set(w)) {
    if (w < 0) errs.push(field.invalid(`${path}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
    if (w > maxStabilizationWindowSeconds) errs.push(field.invalid(`${path}.stabilizationWindowSeconds`, w, `must be less than or equal to ${maxStabilizationWindowSeconds}`));
  }
  if (set(rules.selectPolicy) && !selectPolicies.includes(rules.selectPolicy)) errs.push(field.notSupported(`${path}.selectPolicy`, rules.selectPolicy, selectPolicies));
  const policies: any[] = Array.isArray(rules.policies) ? rules.policies : [];
  if (policies.length === 0) errs.push(field.required(`${path}.policies`, 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const pp = `${path}.policies[${i}]`;
    if (!policyTypes.includes(p?.type)) errs.push(field.notSupported(`${pp}.type`, p?.type ?? '', policyTypes));
    if (!(p?.value > 0)) errs.push(field.invalid(`${pp}.value`, p?.value ?? 0, 'must be greater than zero'));
    if (!(p?.periodSeconds > 0)) errs.push(field.invalid(`${pp}.periodSeconds`, p?.periodSeconds ?? 0, 'must be greater than zero'));
    else if (p.periodSeconds > maxPeriodSeconds) errs.push(field.invalid(`${pp}.periodSeconds`, p.periodSeconds, `must be less than or equal to ${maxPeriodSeconds}`));
  });
  return errs;
}

/** Upstream ValidateHorizontalPodAutoscaler's spec part, on the v2 form. */
export function validateHPAv2(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  const min = spec.minReplicas;
  if (set(min) && min < 1) errs.push(field.invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (!(spec.maxReplicas >= 1)) errs.push(field.invalid('spec.maxReplicas', spec.maxReplicas ?? 0, 'must be greater than 0'));
  if (set(min) && spec.maxReplicas < min) errs.push(field.invalid('spec.maxReplicas', spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateRef(spec.scaleTargetRef, 'spec.scaleTargetRef'));
  (Array.isArray(spec.metrics) ? spec.metrics : []).forEach((m: any, i: number) => errs.push(...validateMetric(m, `spec.metrics[${i}]`)));
  if (spec.behavior) {
    errs.push(...validateRules(spec.behavior.scaleUp, 'spec.behavior.scaleUp'));
    errs.push(...validateRules(spec.behavior.scaleDown, 'spec.behavior.scaleDown'));
  }
  return errs;
}

export function validateHPAStatus(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of ['currentReplicas', 'desiredReplicas']) {
    const v = obj.status?.[k];
    if (set(v) && v < 0) errs.push(field.invalid(`status.${k}`, v, 'must be greater than or equal to 0'));
  }
  return errs;
}
