// batch/v1 CronJob.

import { field, type FieldError } from '../../machinery/errors.ts';
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
import { defaultPodTemplateSpec } from '../core/pod-spec.ts';
import { humanAge, type KObject, type ResourceDef } from '../types.ts';
import { cronScheduleError, isKnownTimeZone } from './cron-schedule.ts';
import { validateJobSpec } from './job.ts';

export function defaultCronJob(obj: KObject): void {
  const spec = ensureSpec(obj);
  spec.concurrencyPolicy ||= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  // Only the pod template inside the job template is defaulted; Job defaults apply when a Job is made.
  spec.jobTemplate ??= {};
  spec.jobTemplate.spec ??= {};
  defaultPodTemplateSpec((spec.jobTemplate.spec.template ??= {}));
}

const tzPartRe = /^[A-Za-z._+\-0-9]+$/;

function validateTimeZone(tz: unknown): FieldError[] {
  if (tz === undefined || tz === null) return [];
  const p = 'spec.timeZone';
  if (typeof tz !== 'string' || tz.length === 0) return [field.invalid(p, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/'))
    if (part === '.' || part === '..' || part.startsWith('-') || !tzPartRe.test(part)) return [field.invalid(p, tz, `unknown time zone ${tz}`)];
  if (tz === 'Local' || !isKnownTimeZone(tz)) return [field.invalid(p, tz, `unknown time zone ${tz}`)];
  return [];
}

/** `allowTZ` is true only on updates of objects that already had TZ in their schedule. */
function validateSchedule(schedule: unknown, timeZone: unknown, allowTZ: boolean): FieldError[] {
  const p = 'spec.schedule';
  if (schedule === undefined || schedule === null || schedule === '') return [field.required(p)];
  if (typeof schedule !== 'string') return [field.invalid(p, schedule, 'must be a string')];
  const errs: FieldError[] = [];
  const err = cronScheduleError(schedule);
  if (err) errs.push(field.invalid(p, schedule, err));
  if (schedule.includes('TZ')) {
    if (!allowTZ) errs.push(field.invalid(p, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    if (timeZone !== undefined && timeZone !== null)
      errs.push(field.invalid(p, schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
  }
  return errs;
}

const concurrencyPolicies = ['Allow', 'Forbid', 'Replace'];

function validateCronJobSpec(obj: KObject, allowTZ: boolean): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  errs.push(...validateSchedule(spec.schedule, spec.timeZone, allowTZ));
  errs.push(...validateTimeZone(spec.timeZone));
  errs.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  const cp = spec.concurrencyPolicy ?? '';
  if (cp === '') errs.push(field.required('spec.concurrencyPolicy'));
  else if (!concurrencyPolicies.includes(cp)) errs.push(field.notSupported('spec.concurrencyPolicy', cp, concurrencyPolicies));
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  const jt = spec.jobTemplate?.spec;
  errs.push(...validateJobSpec(jt, 'spec.jobTemplate.spec', false));
  // The controller generates each Job's selector, so a template may not carry one.
  if (jt?.selector !== undefined && jt?.selector !== null)
    errs.push(field.invalid('spec.jobTemplate.spec.selector', jt.selector, '`selector` will be auto-generated'));
  if (jt?.manualSelector === true) errs.push(field.notSupported('spec.jobTemplate.spec.manualSelector', jt.manualSelector, ['nil', 'false']));
  return errs;
}

export function validateCronJob(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  // Job names are the CronJob name plus an 11-character suffix and must stay DNS labels.
  const name = obj.metadata.name;
  if (name && name.length > 52) errs.push(field.invalid('metadata.name', name, 'must be no more than 52 characters'));
  errs.push(...validateCronJobSpec(obj, false));
  return errs;
}

export function validateCronJobUpdate(obj: KObject, old: KObject): FieldError[] {
  const oldSchedule = old.spec?.schedule;
  const allowTZ = typeof oldSchedule === 'string' && oldSchedule.includes('TZ');
  return validateCronJobSpec(obj, allowTZ);
}

export const cronjobs: ResourceDef = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  model: 'V1CronJob',
  tracksGeneration: true,
  strategy: {
    defaults: defaultCronJob,
    prepareForCreate: resetStatus,
    validate: validateCronJob,
    validateUpdate: validateCronJobUpdate,
  },
  status: {},
  table: {
    columns: [
      nameColumn,
      { name: 'Schedule', type: 'string', description: 'Cron schedule.', priority: 0 },
      { name: 'Timezone', type: 'string', description: 'Time zone the schedule is read in.', priority: 0 },
      { name: 'Suspend', type: 'boolean', description: 'Whether new runs are suspended.', priority: 0 },
      { name: 'Active', type: 'integer', description: 'Number of running jobs.', priority: 0 },
      { name: 'Last Schedule', type: 'string', description: 'When a job was last scheduled.', priority: 0 },
      ageColumn,
      containersColumn,
      imagesColumn,
      selectorColumn,
    ],
    row(obj, now) {
      const jt = obj.spec?.jobTemplate?.spec;
      const [names, images] = containerCells(jt?.template);
      const suspend = obj.spec?.suspend;
      return [
        obj.metadata.name,
        obj.spec?.schedule ?? '',
        obj.spec?.timeZone ?? '<none>',
        typeof suspend === 'boolean' ? (suspend ? 'True' : 'False') : '<unset>',
        (obj.status?.active ?? []).length,
        obj.status?.lastScheduleTime ? humanAge(obj.status.lastScheduleTime, now) : '<none>',
        humanAge(obj.metadata.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(jt?.selector),
      ];
    },
  },
};
