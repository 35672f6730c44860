// Pieces shared by the workload kinds (apps/v1, batch/v1): int-or-percent fields, selector vs
// template checks, container cells for wide tables, and the generic create/update helpers.

import { field, type FieldError } from '../../machinery/errors.ts';
import { labelSelectorFromObject, selectorToString, validateLabelSelector } from '../../machinery/labels.ts';
import type { KObject, TableColumn } from '../types.ts';
import { validatePodTemplateSpec } from '../core/pod-spec.ts';

export const negativeMsg = 'must be greater than or equal to 0';

/** Upstream ValidateNonnegativeField for an optional number. */
export function nonNegative(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isInteger(value)) return [field.invalid(path, value, 'must be an integer')];
  return value < 0 ? [field.invalid(path, value, negativeMsg)] : [];
}

const percentRe = /^[0-9]+%$/;
const percentMsg =
  "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

/** Upstream ValidatePositiveIntOrPercent: a non-negative integer or an `N%` string. */
export function intOrPercent(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return percentRe.test(value) ? [] : [field.invalid(path, value, percentMsg)];
  return nonNegative(value, path);
}

/** The number an int-or-percent holds (percent strings give their percentage); -1 when unparsable. */
export function intOrPercentValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && percentRe.test(value)) return parseInt(value, 10);
  return -1;
}

export function notMoreThan100Percent(value: unknown, path: string): FieldError[] {
  if (typeof value !== 'string' || !percentRe.test(value)) return [];
  return parseInt(value, 10) > 100 ? [field.invalid(path, value, 'must not be greater than 100%')] : [];
}

/** IntOrString.String(): ints print as numbers, strings as-is. */
export function intOrStringText(value: unknown): string {
  return typeof value === 'number' ? String(value) : String(value ?? '');
}

function isEmptySelector(sel: any): boolean {
  return Object.keys(sel?.matchLabels ?? {}).length + (sel?.matchExpressions?.length ?? 0) === 0;
}

/**
 * Selector rules shared by Deployment/ReplicaSet/StatefulSet/DaemonSet: required, well formed,
 * non-empty (`emptyMsg` names the kind as upstream does) and matching the template labels.
 */
function validateSelectorAndTemplateLabels(spec: any, emptyMsg: string | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const sel = spec?.selector;
  if (sel === undefined || sel === null) {
    errs.push(field.required('spec.selector'));
    return errs;
  }
  const selErrs = validateLabelSelector(sel, 'spec.selector');
  errs.push(...selErrs);
  if (emptyMsg && isEmptySelector(sel)) errs.push(field.invalid('spec.selector', sel, emptyMsg));
  if (selErrs.length === 0 && !isEmptySelector(sel) && spec.template) {
    const labels = spec.template.metadata?.labels ?? {};
    if (!labelSelectorFromObject(sel).matches(labels))
      errs.push(field.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  return errs;
}

/**
 * Selector and pod template of Deployment/ReplicaSet/StatefulSet/DaemonSet: the selector rules
 * above, then a required template that is a valid pod template whose pods run forever.
 */
export function validateWorkloadSelectorAndTemplate(spec: any, emptyMsg: string, kindWord: string): FieldError[] {
  const errs = validateSelectorAndTemplateLabels(spec, emptyMsg);
  if (!spec.template) errs.push(field.required('spec.template'));
  else {
    errs.push(...validatePodTemplateSpec(spec.template, 'spec.template'));
    errs.push(...validateAlwaysRestartTemplate(spec.template, kindWord));
  }
  return errs;
}

/** Template checks for controllers whose pods must run forever (restartPolicy Always, no deadline). */
function validateAlwaysRestartTemplate(template: any, kindWord: string): FieldError[] {
  const errs: FieldError[] = [];
  const policy = template?.spec?.restartPolicy;
  if (policy !== 'Always') errs.push(field.notSupported('spec.template.spec.restartPolicy', policy ?? '', ['Always']));
  if (template?.spec?.activeDeadlineSeconds !== undefined && template?.spec?.activeDeadlineSeconds !== null)
    errs.push(field.forbidden('spec.template.spec.activeDeadlineSeconds', `activeDeadlineSeconds in ${kindWord} is not Supported`));
  return errs;
}

/** Comma-joined container names and images of a pod template (upstream layoutContainerCells). */
export function containerCells(template: any): [string, string] {
  const containers: any[] = template?.spec?.containers ?? [];
  return [containers.map((c) => c?.name ?? '').join(','), containers.map((c) => c?.image ?? '').join(',')];
}

/** metav1.FormatLabelSelector: the selector string, `<none>` when it selects everything. */
export function formatLabelSelector(sel: any): string {
  if (sel === undefined || sel === null) return '<none>';
  const s = selectorToString(sel);
  return s === '' ? '<none>' : s;
}

/** Label selector string for the scale subresource's status.selector. */
export function scaleSelector(obj: KObject): string {
  const sel = obj.spec?.selector;
  return sel ? selectorToString(sel) : '';
}

export const nameColumn: TableColumn = { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 };
export const ageColumn: TableColumn = { name: 'Age', type: 'string', description: 'Time since the object was created.', priority: 0 };
export const containersColumn: TableColumn = { name: 'Containers', type: 'string', description: 'Container names in the pod template.', priority: 1 };
export const imagesColumn: TableColumn = { name: 'Images', type: 'string', description: 'Container images in the pod template.', priority: 1 };
export const selectorColumn: TableColumn = { name: 'Selector', type: 'string', description: 'Label selector for the managed pods.', priority: 1 };

/** Kinds with a status subresource start with an empty status; whatever the client sent is dropped. */
export function resetStatus(obj: KObject): void {
  obj.status = {};
}

export function ensureSpec(obj: KObject): any {
  if (!obj.spec || typeof obj.spec !== 'object') obj.spec = {};
  return obj.spec;
}
