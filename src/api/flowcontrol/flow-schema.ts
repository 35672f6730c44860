// flowcontrol.apiserver.k8s.io/v1 FlowSchema and PriorityLevelConfiguration: API Priority and
// Fairness configuration. Mizzen serves and validates them, creates upstream's bootstrap objects
// (bootstrap.ts) and names the matching schema and level in X-Kubernetes-PF-* response headers
// (src/apiserver/flowcontrol-headers.ts); it does not queue or limit requests by them.

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { isDNS1123Label } from '../validation.ts';
import { age, ageColumn, col, nameColumn } from '../core/common.ts';
import { pathSegmentErrors } from '../networking/common.ts';

const distinguisherTypes = ['ByNamespace', 'ByUser'];
const subjectKinds = ['Group', 'ServiceAccount', 'User'];
const levelTypes = ['Exempt', 'Limited'];
const limitResponseTypes = ['Queue', 'Reject'];
const maxPrecedence = 10000;
const maxQueues = 512;
const maxHashBits = 60;

function validateList(list: unknown, path: string, what: string): FieldError[] {
  if (!Array.isArray(list) || list.length === 0) return [field.required(path, `${what} must contain at least one value`)];
  if (list.length > 1 && list.includes('*')) return [field.invalid(path, list, `if '*' is present, must not specify other ${what}`)];
  return [];
}

function validateSubject(s: any, path: string): FieldError[] {
  const kind = s?.kind;
  if (!subjectKinds.includes(kind)) return [field.notSupported(`${path}.kind`, kind ?? '', subjectKinds)];
  const errs: FieldError[] = [];
  const key = kind === 'User' ? 'user' : kind === 'Group' ? 'group' : 'serviceAccount';
  for (const other of ['user', 'group', 'serviceAccount']) if (other !== key && s[other]) errs.push(field.forbidden(`${path}.${other}`, `${other} is forbidden when subject kind is '${kind}'`));
  const v = s[key];
  if (!v) return [...errs, field.required(`${path}.${key}`, `${key} is required when subject kind is '${kind}'`)];
  if (!v.name) errs.push(field.required(`${path}.${key}.name`, `username or '*' is required`.replace('username', kind === 'User' ? 'username' : 'name')));
  if (kind === 'ServiceAccount') {
    if (!v.namespace) errs.push(field.required(`${path}.serviceAccount.namespace`, 'must specify namespace for service account'));
    else for (const m of isDNS1123Label(v.namespace)) errs.push(field.invalid(`${path}.serviceAccount.namespace`, v.namespace, m));
  }
  return errs;
}

function validateResourceRule(r: any, path: string): FieldError[] {
  const errs = [...validateList(r?.verbs, `${path}.verbs`, 'verbs'), ...validateList(r?.apiGroups, `${path}.apiGroups`, 'resource rules'), ...validateList(r?.resources, `${path}.resources`, 'resource rules')];
  const ns: unknown[] = Array.isArray(r?.namespaces) ? r.namespaces : [];
  if (ns.length === 0 && !r?.clusterScope) errs.push(field.required(`${path}.namespaces`, 'resource rules that are not cluster scoped must supply at least one namespace'));
  else if (ns.length > 1 && ns.includes('*')) errs.push(field.invalid(`${path}.namespaces`, ns, "if '*' is present, must not specify other namespaces"));
  ns.forEach((n, i) => {
    if (n !== '*') for (const m of isDNS1123Label(String(n))) errs.push(field.invalid(`${path}.namespaces[${i}]`, n, m));
  });
  return errs;
}

function validateNonResourceRule(r: any, path: string): FieldError[] {
  const errs = [...validateList(r?.verbs, `${path}.verbs`, 'verbs'), ...validateList(r?.nonResourceURLs, `${path}.nonResourceURLs`, 'nonResourceURLs')];
  (Array.isArray(r?.nonResourceURLs) ? r.nonResourceURLs : []).forEach((u: string, i: number) => {
    if (u !== '*' && !String(u).startsWith('/')) errs.push(field.invalid(`${path}.nonResourceURLs[${i}]`, u, "must start with slash"));
  });
  return errs;
}

export function validateFlowSchema(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  const prec = spec.matchingPrecedence;
  if (!(prec > 0)) errs.push(field.invalid('spec.matchingPrecedence', prec ?? 0, 'must be a positive value'));
  else if (prec > maxPrecedence) errs.push(field.invalid('spec.matchingPrecedence', prec, `must not be greater than ${maxPrecedence}`));
  const dm = spec.distinguisherMethod;
  if (dm && !distinguisherTypes.includes(dm.type)) errs.push(field.notSupported('spec.distinguisherMethod.type', dm.type ?? '', distinguisherTypes));
  if (!spec.priorityLevelConfiguration?.name) errs.push(field.required('spec.priorityLevelConfiguration.name', 'must reference a priority level'));
  else for (const m of pathSegmentErrors(spec.priorityLevelConfiguration.name)) errs.push(field.invalid('spec.priorityLevelConfiguration.name', spec.priorityLevelConfiguration.name, m));
  (Array.isArray(spec.rules) ? spec.rules : []).forEach((rule: any, i: number) => {
    const p = `spec.rules[${i}]`;
    const subjects: any[] = Array.isArray(rule?.subjects) ? rule.subjects : [];
    if (subjects.length === 0) errs.push(field.required(`${p}.subjects`, 'subjects must contain at least one value'));
    subjects.forEach((s, j) => errs.push(...validateSubject(s, `${p}.subjects[${j}]`)));
    const rr: any[] = Array.isArray(rule?.resourceRules) ? rule.resourceRules : [];
    const nr: any[] = Array.isArray(rule?.nonResourceRules) ? rule.nonResourceRules : [];
    if (rr.length === 0 && nr.length === 0) errs.push(field.required(p, 'at least one of resourceRules and nonResourceRules has to be non-empty'));
    rr.forEach((r, j) => errs.push(...validateResourceRule(r, `${p}.resourceRules[${j}]`)));
    nr.forEach((r, j) => errs.push(...validateNonResourceRule(r, `${p}.nonResourceRules[${j}]`)));
  });
  return errs;
}

function defaultPriorityLevel(obj: KObject): void {
  const spec = (obj.spec ??= {});
  if (spec.limited && typeof spec.limited === 'object') {
    spec.limited.nominalConcurrencyShares ??= 30;
    spec.limited.lendablePercent ??= 0;
    const lr = spec.limited.limitResponse;
    if (lr?.type === 'Queue' && lr.queuing && typeof lr.queuing === 'object') {
      lr.queuing.queues ??= 64;
      lr.queuing.handSize ??= 8;
      lr.queuing.queueLengthLimit ??= 50;
    }
  }
  if (spec.exempt && typeof spec.exempt === 'object') {
    spec.exempt.nominalConcurrencyShares ??= 0;
    spec.exempt.lendablePercent ??= 0;
  } else if (spec.type === 'Exempt') spec.exempt = { nominalConcurrencyShares: 0, lendablePercent: 0 };
}

function validatePercent(v: unknown, path: string): FieldError[] {
  if (v === undefined || v === null) return [];
  return typeof v === 'number' && v >= 0 && v <= 100 ? [] : [field.invalid(path, v, 'must be between 0 and 100, inclusive')];
}

export function validatePriorityLevel(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  if (!levelTypes.includes(spec.type)) {
    errs.push(field.notSupported('spec.type', spec.type ?? '', levelTypes));
    return errs;
  }
  if ((obj.metadata.name === 'exempt') !== (spec.type === 'Exempt')) errs.push(field.invalid('spec.type', spec.type, "type must be 'Exempt' if and only if name is 'exempt'"));
  if (spec.type === 'Exempt') {
    if (spec.limited) errs.push(field.forbidden('spec.limited', 'must be nil if the type is not Limited'));
    const ncs = spec.exempt?.nominalConcurrencyShares;
    if (ncs !== undefined && ncs !== null && ncs < 0) errs.push(field.invalid('spec.exempt.nominalConcurrencyShares', ncs, 'must be a non-negative integer'));
    errs.push(...validatePercent(spec.exempt?.lendablePercent, 'spec.exempt.lendablePercent'));
    return errs;
  }
  if (spec.exempt) errs.push(field.forbidden('spec.exempt', 'must be nil if the type is Limited'));
  const lim = spec.limited;
  if (!lim) return [...errs, field.required('spec.limited', 'must not be empty when type is Limited')];
  if (lim.nominalConcurrencyShares < 0) errs.push(field.invalid('spec.limited.nominalConcurrencyShares', lim.nominalConcurrencyShares, 'must be a non-negative integer'));
  errs.push(...validatePercent(lim.lendablePercent, 'spec.limited.lendablePercent'));
  if (lim.borrowingLimitPercent !== undefined && lim.borrowingLimitPercent !== null && lim.borrowingLimitPercent < 0)
    errs.push(field.invalid('spec.limited.borrowingLimitPercent', lim.borrowingLimitPercent, 'if specified, must be a non-negative integer'));
  const lr = lim.limitResponse ?? {};
  if (!limitResponseTypes.includes(lr.type)) errs.push(field.notSupported('spec.limited.limitResponse.type', lr.type ?? '', limitResponseTypes));
  else if (lr.type === 'Reject' && lr.queuing) errs.push(field.forbidden('spec.limited.limitResponse.queuing', "must be nil if limited.limitResponse.type is not Limited"));
  else if (lr.type === 'Queue') {
    const q = lr.queuing;
    if (!q) errs.push(field.required('spec.limited.limitResponse.queuing', "must not be empty if limited.limitResponse.type is 'Queue'"));
    else {
      const p = 'spec.limited.limitResponse.queuing';
      if (!(q.queueLengthLimit > 0)) errs.push(field.invalid(`${p}.queueLengthLimit`, q.queueLengthLimit, 'must be positive'));
      if (!(q.queues > 0)) errs.push(field.invalid(`${p}.queues`, q.queues, 'must be positive'));
      else if (q.queues > maxQueues) errs.push(field.invalid(`${p}.queues`, q.queues, `must not be greater than ${maxQueues}`));
      if (!(q.handSize > 0)) errs.push(field.invalid(`${p}.handSize`, q.handSize, 'must be positive'));
      else if (q.handSize > q.queues) errs.push(field.invalid(`${p}.handSize`, q.handSize, `should not be greater than queues (${q.queues})`));
      else if (q.queues > 0 && q.handSize * Math.log2(q.queues) > maxHashBits)
        errs.push(field.invalid(`${p}.handSize`, q.handSize, `required entropy bits of deckSize ${q.queues} and handSize ${q.handSize} should not be greater than ${maxHashBits}`));
    }
  }
  return errs;
}

/** The column upstream names MissingPL: the Dangling condition's status, "?" until computed. */
function danglingCell(obj: KObject): string {
  const c = (obj.status?.conditions ?? []).find((x: any) => x?.type === 'Dangling');
  return c ? String(c.status) : '?';
}

const nameRule = (name: string) => pathSegmentErrors(name);

export const flowSchemas: ResourceDef = {
  group: 'flowcontrol.apiserver.k8s.io',
  version: 'v1',
  kind: 'FlowSchema',
  plural: 'flowschemas',
  singular: 'flowschema',
  namespaced: false,
  model: 'V1FlowSchema',
  tracksGeneration: true,
  nameValidator: nameRule,
  strategy: {
    defaults(obj) {
      obj.spec ??= {};
      obj.spec.matchingPrecedence ??= 1000;
    },
    validate: validateFlowSchema,
  },
  status: {},
  table: {
    columns: [
      nameColumn,
      col('PriorityLevel', 'string', 0, '`name` is the name of the priority level configuration being referenced Required.'),
      col('MatchingPrecedence', 'string', 0, '`matchingPrecedence` is used to choose among the FlowSchemas that match a given request.'),
      col('DistinguisherMethod', 'string', 0, '`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema.'),
      ageColumn,
      col('MissingPL', 'string', 0, 'references a broken or non-existent PriorityLevelConfiguration'),
    ],
    row: (obj, now) => [
      obj.metadata.name,
      obj.spec?.priorityLevelConfiguration?.name ?? '',
      obj.spec?.matchingPrecedence ?? 0,
      obj.spec?.distinguisherMethod?.type ?? '<none>',
      age(obj, now),
      danglingCell(obj),
    ],
  },
};

export const priorityLevelConfigurations: ResourceDef = {
  group: 'flowcontrol.apiserver.k8s.io',
  version: 'v1',
  kind: 'PriorityLevelConfiguration',
  plural: 'prioritylevelconfigurations',
  singular: 'prioritylevelconfiguration',
  namespaced: false,
  model: 'V1PriorityLevelConfiguration',
  tracksGeneration: true,
  nameValidator: nameRule,
  strategy: { defaults: defaultPriorityLevel, validate: validatePriorityLevel },
  status: {},
  table: {
    columns: [
      nameColumn,
      col('Type', 'string', 0, '`type` indicates whether this priority level is subject to limitation on request execution.'),
      col('NominalConcurrencyShares', 'string', 0, '`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level.'),
      col('Queues', 'string', 0, '`queues` is the number of queues for this priority level.'),
      col('HandSize', 'string', 0, '`handSize` is a small positive number that configures the shuffle sharding of requests into queues.'),
      col('QueueLengthLimit', 'string', 0, '`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time.'),
      ageColumn,
    ],
    row(obj, now) {
      const lim = obj.spec?.limited;
      const q = lim?.limitResponse?.queuing;
      const cell = (v: unknown) => (v === undefined || v === null ? '<none>' : v);
      return [obj.metadata.name, obj.spec?.type ?? '', lim ? cell(lim.nominalConcurrencyShares) : '<none>', q ? cell(q.queues) : '<none>', q ? cell(q.handSize) : '<none>', q ? cell(q.queueLengthLimit) : '<none>', age(obj, now)];
    },
  },
};

