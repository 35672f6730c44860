// batch/v1 Job: upstream defaults, selector generation, validation, immutability and table.

import { field, type FieldError } from '../../machinery/errors.ts';
import { labelSelectorFromObject, validateLabelSelector } from '../../machinery/labels.ts';
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
  selectorColumn,
} from '../apps/workload-common.ts';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from '../core/pod-spec.ts';
import { humanAge, humanDuration, type KObject, type ResourceDef } from '../types.ts';
import { deepEqual, validateImmutable } from '../validation.ts';

export const controllerUidLabel = 'batch.kubernetes.io/controller-uid';
export const jobNameLabel = 'batch.kubernetes.io/job-name';
const legacyControllerUidLabel = 'controller-uid';
const legacyJobNameLabel = 'job-name';

const maxInt32 = 2147483647;

export function defaultJob(obj: KObject): void {
  const spec = ensureSpec(obj);
  if ((spec.completions === undefined || spec.completions === null) && (spec.parallelism === undefined || spec.parallelism === null)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined && spec.backoffLimitPerIndex !== null ? maxInt32 : 6;
  spec.completionMode ||= 'NonIndexed';
  spec.suspend ??= false;
  spec.manualSelector ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  for (const rule of spec.podFailurePolicy?.rules ?? []) for (const c of rule?.onPodConditions ?? []) c.status ??= 'True';
  defaultPodTemplateSpec((spec.template ??= {}));
}

/** Upstream generateSelector: label the template and select on the job's uid unless manualSelector. */
export function generateJobSelector(obj: KObject): void {
  const spec = ensureSpec(obj);
  if (spec.manualSelector === true) return;
  const uid = obj.metadata.uid ?? '';
  const name = obj.metadata.name ?? '';
  const tmpl = (spec.template ??= {});
  tmpl.metadata ??= {};
  const labels = (tmpl.metadata.labels ??= {});
  labels[legacyControllerUidLabel] ??= uid;
  labels[legacyJobNameLabel] ??= name;
  labels[controllerUidLabel] ??= uid;
  labels[jobNameLabel] ??= name;
  spec.selector ??= {};
  spec.selector.matchLabels ??= {};
  spec.selector.matchLabels[controllerUidLabel] ??= uid;
}

const completionModes = ['NonIndexed', 'Indexed'];
const replacementPolicies = ['TerminatingOrFailed', 'Failed'];

/**
 * Spec checks shared by Job and CronJob's jobTemplate (upstream validateJobSpec). `base` is the
 * path of the job spec; the selector is only required for Jobs themselves.
 */
export function validateJobSpec(spec: any, base: string, requireSelector: boolean): FieldError[] {
  const errs: FieldError[] = [];
  spec ??= {};
  errs.push(...nonNegative(spec.parallelism, `${base}.parallelism`));
  errs.push(...nonNegative(spec.completions, `${base}.completions`));
  errs.push(...nonNegative(spec.activeDeadlineSeconds, `${base}.activeDeadlineSeconds`));
  errs.push(...nonNegative(spec.backoffLimit, `${base}.backoffLimit`));
  errs.push(...nonNegative(spec.ttlSecondsAfterFinished, `${base}.ttlSecondsAfterFinished`));
  errs.push(...nonNegative(spec.backoffLimitPerIndex, `${base}.backoffLimitPerIndex`));
  errs.push(...nonNegative(spec.maxFailedIndexes, `${base}.maxFailedIndexes`));
  if (spec.completionMode !== undefined && spec.completionMode !== null && !completionModes.includes(spec.completionMode))
    errs.push(field.notSupported(`${base}.completionMode`, spec.completionMode, completionModes));
  if (spec.completionMode === 'Indexed' && (spec.completions === undefined || spec.completions === null))
    errs.push(field.required(`${base}.completions`, 'when completion mode is Indexed'));
  if (spec.podReplacementPolicy !== undefined && spec.podReplacementPolicy !== null) {
    if (!replacementPolicies.includes(spec.podReplacementPolicy))
      errs.push(field.notSupported(`${base}.podReplacementPolicy`, spec.podReplacementPolicy, replacementPolicies));
    else if (spec.podFailurePolicy && spec.podReplacementPolicy !== 'Failed')
      errs.push(field.notSupported(`${base}.podReplacementPolicy`, spec.podReplacementPolicy, ['Failed']));
  }
  if (spec.selector === undefined || spec.selector === null) {
    if (requireSelector) errs.push(field.required(`${base}.selector`));
  } else {
    const selErrs = validateLabelSelector(spec.selector, `${base}.selector`);
    errs.push(...selErrs);
    const labels = spec.template?.metadata?.labels ?? {};
    if (selErrs.length === 0 && !labelSelectorFromObject(spec.selector).matches(labels))
      errs.push(field.invalid(`${base}.template.metadata.labels`, labels, '`selector` does not match template `labels`'));
  }
  if (!spec.template) errs.push(field.required(`${base}.template`));
  else {
    errs.push(...validatePodTemplateSpec(spec.template, `${base}.template`));
    const rp = spec.template.spec?.restartPolicy;
    if (rp !== 'OnFailure' && rp !== 'Never') errs.push(field.notSupported(`${base}.template.spec.restartPolicy`, rp ?? '', ['OnFailure', 'Never']));
  }
  return errs;
}

/** Upstream ValidateGeneratedSelector: without manualSelector, the selector must be the generated one. */
function validateGeneratedSelector(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  if (spec.manualSelector === true || !spec.selector) return [];
  const uid = obj.metadata.uid ?? '';
  const name = obj.metadata.name ?? '';
  const errs: FieldError[] = [];
  if (!uid) errs.push(field.required('metadata.uid'));
  const labels = spec.template?.metadata?.labels ?? {};
  const expect: [string, string][] = [
    [legacyControllerUidLabel, uid],
    [legacyJobNameLabel, name],
    [controllerUidLabel, uid],
    [jobNameLabel, name],
  ];
  for (const [key, want] of expect) {
    const p = `spec.template.metadata.labels[${key}]`;
    if (!(key in labels)) errs.push(field.required(p, `must be '${want}'`));
    if (labels[key] !== want) errs.push(field.invalid(p, labels, `must be '${want}'`));
  }
  if (!deepEqual(spec.selector, { matchLabels: { [controllerUidLabel]: uid } }))
    errs.push(field.invalid('spec.selector', spec.selector, '`selector` not auto-generated'));
  return errs;
}

export function validateJob(obj: KObject): FieldError[] {
  return [...validateGeneratedSelector(obj), ...validateJobSpec(obj.spec, 'spec', true)];
}

/** Template fields a suspended, never-started Job may still change (mutable scheduling directives). */
function schedulingOnlyChange(next: any, prev: any): boolean {
  const strip = (t: any) => {
    const c = structuredClone(t ?? {});
    if (c.metadata) {
      delete c.metadata.labels;
      delete c.metadata.annotations;
    }
    if (c.spec) for (const k of ['nodeSelector', 'tolerations', 'affinity', 'schedulingGates']) delete c.spec[k];
    return c;
  };
  return deepEqual(strip(next), strip(prev));
}

export function validateJobUpdate(obj: KObject, old: KObject): FieldError[] {
  const errs = validateJobSpec(obj.spec, 'spec', true);
  const spec = obj.spec ?? {};
  const prev = old.spec ?? {};
  errs.push(...validateImmutable(spec.selector, prev.selector, 'spec.selector'));
  const mutableScheduling = prev.suspend === true && !old.status?.startTime;
  if (!deepEqual(spec.template, prev.template) && !(mutableScheduling && schedulingOnlyChange(spec.template, prev.template)))
    errs.push(field.invalid('spec.template', spec.template, 'field is immutable'));
  // Elastic indexed jobs may scale completions together with parallelism.
  const elastic = spec.completionMode === 'Indexed' && spec.completions === spec.parallelism && prev.completions === prev.parallelism;
  if (!elastic) errs.push(...validateImmutable(spec.completions, prev.completions, 'spec.completions'));
  errs.push(...validateImmutable(spec.completionMode, prev.completionMode, 'spec.completionMode'));
  errs.push(...validateImmutable(spec.podFailurePolicy, prev.podFailurePolicy, 'spec.podFailurePolicy'));
  errs.push(...validateImmutable(spec.backoffLimitPerIndex, prev.backoffLimitPerIndex, 'spec.backoffLimitPerIndex'));
  return errs;
}

function hasCondition(obj: KObject, type: string): boolean {
  const c = (obj.status?.conditions ?? []).find((x: any) => x?.type === type);
  return c?.status === 'True';
}

/** The Status column of `kubectl get jobs`. */
export function jobStatusText(obj: KObject): string {
  if (hasCondition(obj, 'Complete')) return 'Complete';
  if (hasCondition(obj, 'Failed')) return 'Failed';
  if (obj.metadata.deletionTimestamp) return 'Terminating';
  if (hasCondition(obj, 'Suspended')) return 'Suspended';
  if (hasCondition(obj, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function completionsText(obj: KObject): string {
  const succeeded = obj.status?.succeeded ?? 0;
  const completions = obj.spec?.completions;
  if (completions !== undefined && completions !== null) return `${succeeded}/${completions}`;
  const parallelism = obj.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function durationText(obj: KObject, now: number): string {
  const start = obj.status?.startTime ? Date.parse(obj.status.startTime) : NaN;
  if (Number.isNaN(start)) return '';
  const end = obj.status?.completionTime ? Date.parse(obj.status.completionTime) : now;
  return humanDuration(Math.max(0, end - start));
}

export const jobs: ResourceDef = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  namespaced: true,
  categories: ['all'],
  model: 'V1Job',
  tracksGeneration: true,
  strategy: {
    defaults: defaultJob,
    prepareForCreate(obj) {
      resetStatus(obj);
      generateJobSelector(obj);
    },
    validate: validateJob,
    validateUpdate: validateJobUpdate,
  },
  status: {},
  fieldSelectors: {
    'status.successful': (obj) => String(obj.status?.succeeded ?? 0),
  },
  table: {
    columns: [
      nameColumn,
      { name: 'Status', type: 'string', description: 'Status of the job.', priority: 0 },
      { name: 'Completions', type: 'string', description: 'Succeeded pods out of the required completions.', priority: 0 },
      { name: 'Duration', type: 'string', description: 'How long the job ran.', priority: 0 },
      ageColumn,
      containersColumn,
      imagesColumn,
      selectorColumn,
    ],
    row(obj, now) {
      const [names, images] = containerCells(obj.spec?.template);
      return [
        obj.metadata.name,
        jobStatusText(obj),
        completionsText(obj),
        durationText(obj, now),
        humanAge(obj.metadata.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(obj.spec?.selector),
      ];
    },
  },
};
