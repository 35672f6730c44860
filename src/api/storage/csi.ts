// storage.k8s.io/v1 CSIDriver and CSINode: what CSI drivers say about themselves and which are
// installed on each node. Mizzen runs no CSI drivers itself; the objects are served for charts and
// drivers that register them.

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { isDNS1123Subdomain, isQualifiedName, validateImmutable } from '../validation.ts';
import { age, ageColumn, col, nameColumn } from '../core/common.ts';

const lifecycleModes = ['Ephemeral', 'Persistent'];
const fsGroupPolicies = ['File', 'None', 'ReadWriteOnceWithFSType'];
const maxNodeIDLength = 192;

/** Upstream ValidateCSIDriverName. */
export function validateCSIDriverName(name: unknown, path: string): FieldError[] {
  if (typeof name !== 'string' || name.length === 0) return [field.required(path)];
  const errs: FieldError[] = [];
  if (name.length > 63) errs.push(field.tooLong(path, 63));
  for (const m of isDNS1123Subdomain(name.toLowerCase())) errs.push(field.invalid(path, name, m));
  return errs;
}

function defaultCSIDriver(obj: KObject): void {
  const spec = (obj.spec ??= {});
  spec.attachRequired ??= true;
  spec.podInfoOnMount ??= false;
  spec.storageCapacity ??= false;
  spec.fsGroupPolicy ??= 'ReadWriteOnceWithFSType';
  spec.requiresRepublish ??= false;
  spec.seLinuxMount ??= false;
  if (!Array.isArray(spec.volumeLifecycleModes) || spec.volumeLifecycleModes.length === 0) spec.volumeLifecycleModes = ['Persistent'];
}

function validateCSIDriver(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = validateCSIDriverName(obj.metadata.name, 'name');
  for (const k of ['attachRequired', 'podInfoOnMount', 'storageCapacity', 'requiresRepublish'])
    if (typeof spec[k] !== 'boolean') errs.push(field.required(`spec.${k}`));
  if (!fsGroupPolicies.includes(spec.fsGroupPolicy)) errs.push(field.notSupported('spec.fsGroupPolicy', spec.fsGroupPolicy, fsGroupPolicies));
  (Array.isArray(spec.volumeLifecycleModes) ? spec.volumeLifecycleModes : []).forEach((m: unknown, i: number) => {
    if (!lifecycleModes.includes(m as string)) errs.push(field.notSupported(`spec.volumeLifecycleModes[${i}]`, m, lifecycleModes));
  });
  const audiences = new Set<string>();
  (Array.isArray(spec.tokenRequests) ? spec.tokenRequests : []).forEach((t: any, i: number) => {
    const p = `spec.tokenRequests[${i}]`;
    const aud = t?.audience ?? '';
    if (audiences.has(aud)) errs.push(field.duplicate(`${p}.audience`, aud));
    audiences.add(aud);
    const exp = t?.expirationSeconds;
    if (exp !== undefined && exp !== null) {
      if (exp < 600) errs.push(field.invalid(`${p}.expirationSeconds`, exp, 'may not specify a duration less than 10 minutes'));
      if (exp > 2 ** 32) errs.push(field.invalid(`${p}.expirationSeconds`, exp, 'may not specify a duration larger than 2^32 seconds'));
    }
  });
  return errs;
}

export const csiDrivers: ResourceDef = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'CSIDriver',
  plural: 'csidrivers',
  singular: 'csidriver',
  namespaced: false,
  model: 'V1CSIDriver',
  strategy: {
    defaults: defaultCSIDriver,
    validate: validateCSIDriver,
    validateUpdate: (obj, old) => [
      ...validateCSIDriver(obj),
      ...validateImmutable(obj.spec?.attachRequired, old.spec?.attachRequired, 'spec.attachRequired'),
      ...validateImmutable(obj.spec?.fsGroupPolicy, old.spec?.fsGroupPolicy, 'spec.fsGroupPolicy'),
      ...validateImmutable(obj.spec?.volumeLifecycleModes, old.spec?.volumeLifecycleModes, 'spec.volumeLifecycleModes'),
    ],
  },
  table: {
    columns: [
      nameColumn,
      col('AttachRequired', 'boolean', 0, 'attachRequired indicates this CSI volume driver requires an attach operation.'),
      col('PodInfoOnMount', 'boolean', 0, 'podInfoOnMount indicates this CSI volume driver requires additional pod information during mount operations.'),
      col('StorageCapacity', 'boolean', 0, 'storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity that the driver deployment will report.'),
      col('TokenRequests', 'string', 0, 'tokenRequests indicates the CSI driver needs pods\' service account tokens it is mounting volume for to do necessary authentication.'),
      col('RequiresRepublish', 'boolean', 0, 'requiresRepublish indicates the CSI driver wants `NodePublishVolume` being periodically called to reflect any possible change in the mounted volume.'),
      col('Modes', 'string', 0, 'volumeLifecycleModes defines what kind of volumes this CSI volume driver supports.'),
      ageColumn,
    ],
    row(obj, now) {
      const s = obj.spec ?? {};
      const modes = (s.volumeLifecycleModes ?? []).join(',') || '<none>';
      const tokens = Array.isArray(s.tokenRequests) ? s.tokenRequests.map((t: any) => t.audience ?? '').join(',') : '<unset>';
      return [obj.metadata.name, s.attachRequired ?? true, s.podInfoOnMount ?? false, s.storageCapacity ?? false, tokens, s.requiresRepublish ?? false, modes, age(obj, now)];
    },
  },
};

function validateCSINode(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (Array.isArray(obj.spec?.drivers) ? obj.spec.drivers : []).forEach((d: any, i: number) => {
    const p = `spec.drivers[${i}]`;
    errs.push(...validateCSIDriverName(d?.name, `${p}.name`));
    if (!d?.nodeID) errs.push(field.required(`${p}.nodeID`, 'nodeID must not be empty'));
    else if (String(d.nodeID).length > maxNodeIDLength) errs.push(field.invalid(`${p}.nodeID`, d.nodeID, `must be ${maxNodeIDLength} characters or less`));
    const count = d?.allocatable?.count;
    if (count !== undefined && count !== null && count < 0) errs.push(field.invalid(`${p}.allocatable.count`, count, 'must be greater than or equal to 0'));
    const keys = new Set<string>();
    (Array.isArray(d?.topologyKeys) ? d.topologyKeys : []).forEach((k: string, j: number) => {
      const kp = `${p}.topologyKeys[${j}]`;
      if (!k) errs.push(field.required(kp));
      else for (const m of isQualifiedName(k)) errs.push(field.invalid(kp, k, m));
      if (keys.has(k)) errs.push(field.duplicate(kp, k));
      keys.add(k);
    });
    if (names.has(d?.name)) errs.push(field.duplicate(`${p}.name`, d.name));
    names.add(d?.name);
  });
  return errs;
}

function validateCSINodeUpdate(obj: KObject, old: KObject): FieldError[] {
  const errs = validateCSINode(obj);
  const before = new Map<string, any>((old.spec?.drivers ?? []).map((d: any) => [d.name, d]));
  (obj.spec?.drivers ?? []).forEach((d: any, i: number) => {
    const o = before.get(d.name);
    if (!o) return;
    errs.push(...validateImmutable(d.nodeID, o.nodeID, `spec.drivers[${i}].nodeID`));
    errs.push(...validateImmutable(d.topologyKeys ?? [], o.topologyKeys ?? [], `spec.drivers[${i}].topologyKeys`));
  });
  return errs;
}

export const csiNodes: ResourceDef = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'CSINode',
  plural: 'csinodes',
  singular: 'csinode',
  namespaced: false,
  model: 'V1CSINode',
  strategy: {
    defaults(obj) {
      obj.spec ??= {};
      obj.spec.drivers ??= [];
    },
    validate: validateCSINode,
    validateUpdate: validateCSINodeUpdate,
  },
  table: {
    columns: [nameColumn, col('Drivers', 'integer', 0, 'Drivers indicates the number of CSI drivers registered on the node'), ageColumn],
    row: (obj, now) => [obj.metadata.name, (obj.spec?.drivers ?? []).length, age(obj, now)],
  },
};
