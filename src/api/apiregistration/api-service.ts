// apiregistration.k8s.io/v1 APIService: names a group/version and who serves it, either this API
// server itself ("Local", no spec.service) or a Service the API server proxies to (aggregation;
// src/apiserver/aggregator/). Validation as kube-aggregator's.

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { isDNS1035Label, isDNS1123Subdomain } from '../validation.ts';
import { age, ageColumn, col, nameColumn } from '../core/common.ts';
import { pathSegmentErrors } from '../networking/common.ts';

const conditionStatuses = ['False', 'True', 'Unknown'];

function defaultAPIService(obj: KObject): void {
  const svc = obj.spec?.service;
  if (svc && typeof svc === 'object') svc.port ??= 443;
}

/** The name an APIService must have: `<version>.<group>`. */
export function apiServiceName(group: string, version: string): string {
  return `${version}.${group}`;
}

function nameValidator(obj: KObject): (name: string) => string[] {
  return (name) => {
    const seg = pathSegmentErrors(name);
    if (seg.length) return seg;
    const required = apiServiceName(obj.spec?.group ?? '', obj.spec?.version ?? '');
    return name === required ? [] : [`must be \`spec.version+"."+spec.group\`: ${JSON.stringify(required)}`];
  };
}

export function validateAPIService(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  if (obj.metadata.name) for (const m of nameValidator(obj)(obj.metadata.name)) errs.push(field.invalid('metadata.name', obj.metadata.name, m));
  const group: string = spec.group ?? '';
  const version: string = spec.version ?? '';
  if (!group && version !== 'v1') errs.push(field.required('spec.group', 'only v1 may have an empty group and it better be legacy kube'));
  if (group) for (const m of isDNS1123Subdomain(group)) errs.push(field.invalid('spec.group', group, m));
  for (const m of isDNS1035Label(version)) errs.push(field.invalid('spec.version', version, m));
  const gpm = spec.groupPriorityMinimum ?? 0;
  if (gpm <= 0 || gpm > 20000) errs.push(field.invalid('spec.groupPriorityMinimum', gpm, 'must be positive and less than 20000'));
  const vp = spec.versionPriority ?? 0;
  if (vp <= 0 || vp > 1000) errs.push(field.invalid('spec.versionPriority', vp, 'must be positive and less than 1000'));
  const caBundle: string = spec.caBundle ?? '';
  if (!spec.service) {
    if (caBundle) errs.push(field.invalid('spec.caBundle', `${Buffer.from(caBundle, 'base64').length} bytes`, 'local APIServices may not have a caBundle'));
    if (spec.insecureSkipTLSVerify) errs.push(field.invalid('spec.insecureSkipTLSVerify', true, 'local APIServices may not have insecureSkipTLSVerify'));
    return errs;
  }
  if (!spec.service.namespace) errs.push(field.required('spec.service.namespace'));
  if (!spec.service.name) errs.push(field.required('spec.service.name'));
  const port = spec.service.port;
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) errs.push(field.invalid('spec.service.port', port, 'port is not valid: must be between 1 and 65535, inclusive'));
  if (spec.insecureSkipTLSVerify && caBundle) errs.push(field.invalid('spec.insecureSkipTLSVerify', true, 'may not be true if caBundle is present'));
  return errs;
}

function validateStatus(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  (obj.status?.conditions ?? []).forEach((c: any, i: number) => {
    if (!conditionStatuses.includes(c?.status)) errs.push(field.notSupported(`status.conditions[${i}].status`, c?.status, conditionStatuses));
  });
  return errs;
}

/** "True", or "False (Reason)" as upstream prints the Available condition. */
export function availableCell(obj: KObject): string {
  const c = (obj.status?.conditions ?? []).find((x: any) => x?.type === 'Available');
  if (!c) return 'Unknown';
  if (c.status === 'True' || !c.reason) return String(c.status);
  return `${c.status} (${c.reason})`;
}

export const apiServices: ResourceDef = {
  group: 'apiregistration.k8s.io',
  version: 'v1',
  kind: 'APIService',
  plural: 'apiservices',
  singular: 'apiservice',
  namespaced: false,
  categories: ['api-extensions'],
  model: 'V1APIService',
  // The name rule needs the spec, so metadata.name is checked in validate.
  nameValidator: () => [],
  strategy: { defaults: defaultAPIService, validate: validateAPIService },
  status: { validateUpdate: validateStatus },
  table: {
    columns: [
      nameColumn,
      col('Service', 'string', 0, 'The reference to the service that hosts this API endpoint.'),
      col('Available', 'string', 0, 'Whether this service is available.'),
      ageColumn,
    ],
    row(obj, now) {
      const s = obj.spec?.service;
      return [obj.metadata.name, s ? `${s.namespace}/${s.name}` : 'Local', availableCell(obj), age(obj, now)];
    },
  },
};
