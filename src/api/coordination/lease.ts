// coordination.k8s.io/v1 Lease.

import { field, type FieldError } from '../../machinery/errors.ts';
import { ageColumn, nameColumn } from '../apps/workload-common.ts';
import { humanAge, type KObject, type ResourceDef } from '../types.ts';

const strategies = ['OldestEmulationVersion'];

export function validateLease(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  const d = spec.leaseDurationSeconds;
  if (d !== undefined && d !== null && !(typeof d === 'number' && d > 0)) errs.push(field.invalid('spec.leaseDurationSeconds', d, 'must be greater than 0'));
  const t = spec.leaseTransitions;
  if (t !== undefined && t !== null && !(typeof t === 'number' && t >= 0))
    errs.push(field.invalid('spec.leaseTransitions', t, 'must be greater than or equal to 0'));
  if (spec.strategy !== undefined && spec.strategy !== null && !strategies.includes(spec.strategy))
    errs.push(field.notSupported('spec.strategy', spec.strategy, strategies));
  if (spec.preferredHolder && !spec.strategy) errs.push(field.forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
  return errs;
}

export const leases: ResourceDef = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
  model: 'V1Lease',
  strategy: { validate: validateLease, validateUpdate: (obj) => validateLease(obj) },
  table: {
    columns: [nameColumn, { name: 'Holder', type: 'string', description: 'Current holder of the lease.', priority: 0 }, ageColumn],
    row: (obj, now) => [obj.metadata.name, obj.spec?.holderIdentity ?? '', humanAge(obj.metadata.creationTimestamp, now)],
  },
};
