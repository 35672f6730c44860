// LimitRanges and ResourceQuotas.

import { rfc3339 } from '../../machinery/time.ts';
import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { age, ageColumn, clone, col, nameColumn } from './common.ts';
import { compareQuantities } from '../../machinery/quantity.ts';
import { quantityOf, validateResourceMap } from './resources.ts';

// ---------------------------------------------------------------------------------------------
// LimitRanges

const limitTypes = ['Container', 'Pod', 'PersistentVolumeClaim'];

/** Upstream SetDefaults_LimitRangeItem: container defaults fall back to max, requests to default then min. */
function defaultLimitRange(lr: KObject): void {
  for (const item of lr.spec?.limits ?? []) {
    if (item?.type !== 'Container') continue;
    const def: Record<string, unknown> = { ...(item.default ?? {}) };
    const defReq: Record<string, unknown> = { ...(item.defaultRequest ?? {}) };
    for (const [k, v] of Object.entries(item.max ?? {})) if (!(k in def)) def[k] = v;
    for (const [k, v] of Object.entries(def)) if (!(k in defReq)) defReq[k] = v;
    for (const [k, v] of Object.entries(item.min ?? {})) if (!(k in defReq)) defReq[k] = v;
    if (Object.keys(def).length) item.default = def;
    if (Object.keys(defReq).length) item.defaultRequest = defReq;
  }
}

function validateLimitRange(lr: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const limits: any[] = lr.spec?.limits ?? [];
  const seen = new Set<string>();
  limits.forEach((item: any, i: number) => {
    const p = `spec.limits[${i}]`;
    if (!limitTypes.includes(item?.type)) errs.push(field.notSupported(`${p}.type`, item?.type ?? '', limitTypes));
    else if (seen.has(item.type)) errs.push(field.duplicate(`${p}.type`, item.type));
    seen.add(item?.type);
    for (const k of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'])
      errs.push(...validateResourceMap(item?.[k], `${p}.${k}`, false));
    if (item?.type === 'Pod') {
      if (item.default) errs.push(field.forbidden(`${p}.default`, 'may not be specified when `type` is \'Pod\''));
      if (item.defaultRequest) errs.push(field.forbidden(`${p}.defaultRequest`, 'may not be specified when `type` is \'Pod\''));
    }
    const cmp = (a: unknown, b: unknown) => {
      const x = quantityOf(a);
      const y = quantityOf(b);
      return x && y ? compareQuantities(x, y) : 0;
    };
    for (const [k, min] of Object.entries(item?.min ?? {})) {
      const max = item?.max?.[k];
      if (max !== undefined && cmp(min, max) > 0) errs.push(field.invalid(`${p}.min[${k}]`, min, `min value ${min} is greater than max value ${max}`));
    }
    for (const [k, d] of Object.entries(item?.default ?? {})) {
      if (item?.max?.[k] !== undefined && cmp(d, item.max[k]) > 0) errs.push(field.invalid(`${p}.default[${k}]`, d, `max value ${item.max[k]} is less than default limit value ${d}`));
      if (item?.min?.[k] !== undefined && cmp(item.min[k], d) > 0) errs.push(field.invalid(`${p}.default[${k}]`, d, `min value ${item.min[k]} is greater than default limit value ${d}`));
    }
    for (const [k, d] of Object.entries(item?.defaultRequest ?? {})) {
      if (item?.default?.[k] !== undefined && cmp(d, item.default[k]) > 0)
        errs.push(field.invalid(`${p}.defaultRequest[${k}]`, d, `default request value ${d} is greater than default limit value ${item.default[k]}`));
    }
  });
  return errs;
}

export const limitRanges: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  plural: 'limitranges',
  singular: 'limitrange',
  namespaced: true,
  shortNames: ['limits'],
  model: 'V1LimitRange',
  strategy: {
    defaults: defaultLimitRange,
    validate: validateLimitRange,
    validateUpdate: (obj) => validateLimitRange(obj),
  },
  table: {
    columns: [nameColumn, col('Created At', 'date', 0, 'CreationTimestamp is a timestamp representing the server time when this object was created.')],
    row: (lr) => [lr.metadata.name, lr.metadata.creationTimestamp ? rfc3339(new Date(lr.metadata.creationTimestamp)) : ''],
  },
};

// ---------------------------------------------------------------------------------------------
// ResourceQuotas

const quotaScopes = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity', 'VolumeAttributesClass'];

function validateQuota(q: KObject): FieldError[] {
  const errs = validateResourceMap(q.spec?.hard, 'spec.hard', false);
  (q.spec?.scopes ?? []).forEach((s: unknown, i: number) => {
    if (!quotaScopes.includes(String(s))) errs.push(field.notSupported(`spec.scopes[${i}]`, s, quotaScopes));
  });
  return errs;
}

function quotaCells(q: KObject): [string, string] {
  const hard: Record<string, unknown> = q.spec?.hard ?? {};
  const used: Record<string, unknown> = q.status?.used ?? {};
  const requests: string[] = [];
  const limits: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    const u = quantityOf(used[name])?.toString() ?? '0';
    const h = quantityOf(hard[name])?.toString() ?? String(hard[name]);
    (name.split('.').length > 1 && name.split('.')[0] === 'limits' ? limits : requests).push(`${name}: ${u}/${h}`);
  }
  return [requests.join(', '), limits.join(', ')];
}

export const resourceQuotas: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  singular: 'resourcequota',
  namespaced: true,
  shortNames: ['quota'],
  model: 'V1ResourceQuota',
  strategy: {
    prepareForCreate(obj) {
      delete obj.status;
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
      if (obj.status === undefined) delete obj.status;
    },
    validate: validateQuota,
    validateUpdate: (obj) => validateQuota(obj),
  },
  status: {
    validateUpdate: (obj) => [
      ...validateResourceMap(obj.status?.hard, 'status.hard', false),
      ...validateResourceMap(obj.status?.used, 'status.used', false),
    ],
  },
  table: {
    columns: [
      nameColumn,
      ageColumn,
      col('Request', 'string', 0, 'Request represents a minimum amount of cpu/memory that a container may consume.'),
      col('Limit', 'string', 0, 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
    ],
    row: (q, now) => [q.metadata.name, age(q, now), ...quotaCells(q)],
  },
};
