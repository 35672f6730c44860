// PersistentVolumes and PersistentVolumeClaims.

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { deepEqual, isDNS1123Subdomain } from '../validation.ts';
import { accessModesString, age, ageColumn, clone, col, nameColumn } from './common.ts';
import { quantityOf, validateResourceMap } from './resources.ts';

const accessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const reclaimPolicies = ['Delete', 'Recycle', 'Retain'];
const volumeModes = ['Block', 'Filesystem'];
const pvSources = [
  'gcePersistentDisk', 'awsElasticBlockStore', 'hostPath', 'glusterfs', 'nfs', 'rbd', 'iscsi', 'cinder', 'cephfs', 'fc',
  'flocker', 'flexVolume', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume',
  'scaleIO', 'local', 'storageos', 'csi',
];

function validateAccessModes(modes: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(modes) || modes.length === 0) return [field.required(path, 'at least 1 access mode is required')];
  modes.forEach((m) => {
    if (!accessModes.includes(m)) errs.push(field.notSupported(path, m, accessModes));
  });
  if (modes.includes('ReadWriteOncePod') && modes.length > 1) errs.push(field.forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

function storageClass(obj: KObject): string {
  return obj.spec?.storageClassName ?? obj.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
}

// ---------------------------------------------------------------------------------------------
// PersistentVolumes

function defaultPV(pv: KObject): void {
  const spec = (pv.spec ??= {});
  spec.persistentVolumeReclaimPolicy ??= 'Retain';
  spec.volumeMode ??= 'Filesystem';
  if (spec.hostPath && typeof spec.hostPath === 'object') spec.hostPath.type ??= '';
}

function validatePV(pv: KObject): FieldError[] {
  const spec = pv.spec ?? {};
  const errs = validateAccessModes(spec.accessModes, 'spec.accessModes');
  if (!spec.capacity || quantityOf(spec.capacity.storage) === undefined) {
    if (!spec.capacity?.storage) errs.push(field.required('spec.capacity'));
  }
  errs.push(...validateResourceMap(spec.capacity, 'spec.capacity', false));
  for (const k of Object.keys(spec.capacity ?? {}))
    if (k !== 'storage') errs.push(field.notSupported(`spec.capacity`, k, ['storage']));
  const present = pvSources.filter((k) => spec[k]);
  if (present.length === 0) errs.push(field.required('spec', 'must specify a volume type'));
  for (const k of present.slice(1)) errs.push(field.forbidden(`spec.${k}`, 'may not specify more than 1 volume type'));
  if (spec.hostPath && !spec.hostPath.path) errs.push(field.required('spec.hostPath.path'));
  if (spec.local && !spec.local.path) errs.push(field.required('spec.local.path'));
  if (spec.local && !spec.nodeAffinity) errs.push(field.required('spec.nodeAffinity', 'Local volume requires node affinity'));
  if (spec.nfs) {
    if (!spec.nfs.server) errs.push(field.required('spec.nfs.server'));
    if (!spec.nfs.path) errs.push(field.required('spec.nfs.path'));
  }
  if (spec.csi) {
    if (!spec.csi.driver) errs.push(field.required('spec.csi.driver'));
    if (!spec.csi.volumeHandle) errs.push(field.required('spec.csi.volumeHandle'));
  }
  if (spec.persistentVolumeReclaimPolicy && !reclaimPolicies.includes(spec.persistentVolumeReclaimPolicy))
    errs.push(field.notSupported('spec.persistentVolumeReclaimPolicy', spec.persistentVolumeReclaimPolicy, reclaimPolicies));
  if (spec.volumeMode && !volumeModes.includes(spec.volumeMode)) errs.push(field.notSupported('spec.volumeMode', spec.volumeMode, volumeModes));
  if (spec.storageClassName) for (const m of isDNS1123Subdomain(spec.storageClassName)) errs.push(field.invalid('spec.storageClassName', spec.storageClassName, m));
  return errs;
}

function validatePVUpdate(pv: KObject, old: KObject): FieldError[] {
  const errs = validatePV(pv);
  const n = pv.spec ?? {};
  const o = old.spec ?? {};
  const src = pvSources.find((k) => o[k]);
  if (src && !deepEqual(n[src], o[src])) errs.push(field.forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  if (o.volumeMode !== n.volumeMode) errs.push(field.invalid('spec.volumeMode', n.volumeMode, 'field is immutable'));
  if (o.nodeAffinity && !deepEqual(o.nodeAffinity, n.nodeAffinity)) errs.push(field.invalid('spec.nodeAffinity', n.nodeAffinity, 'field is immutable'));
  return errs;
}

function pvRow(pv: KObject, now: number): unknown[] {
  const spec = pv.spec ?? {};
  const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
  const phase = pv.metadata.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? '');
  const cap = quantityOf(spec.capacity?.storage)?.toString() ?? '0';
  return [
    pv.metadata.name,
    cap,
    accessModesString(spec.accessModes),
    spec.persistentVolumeReclaimPolicy ?? '',
    phase,
    claim,
    storageClass(pv),
    spec.volumeAttributesClassName || '<unset>',
    pv.status?.reason ?? '',
    age(pv, now),
    spec.volumeMode || '<unset>',
  ];
}

export const persistentVolumes: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  singular: 'persistentvolume',
  namespaced: false,
  shortNames: ['pv'],
  model: 'V1PersistentVolume',
  strategy: {
    defaults: defaultPV,
    prepareForCreate(obj) {
      obj.status = { phase: 'Pending' };
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    validate: validatePV,
    validateUpdate: validatePVUpdate,
  },
  status: {
    validateUpdate(obj) {
      const phases = ['Pending', 'Available', 'Bound', 'Released', 'Failed'];
      const ph = obj.status?.phase;
      return ph && !phases.includes(ph) ? [field.notSupported('status.phase', ph, phases)] : [];
    },
  },
  table: {
    columns: [
      nameColumn,
      col('Capacity', 'string', 0, 'capacity is the description of the persistent volume\'s resources and capacity.'),
      col('Access Modes', 'string', 0, 'accessModes contains all ways the volume can be mounted.'),
      col('Reclaim Policy', 'string', 0, 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
      col('Status', 'string', 0, 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
      col('Claim', 'string', 0, 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
      col('StorageClass', 'string', 0, 'StorageClass of the pv'),
      col('VolumeAttributesClass', 'string', 0, 'VolumeAttributesClass of the pv'),
      col('Reason', 'string', 0, 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
      ageColumn,
      col('VolumeMode', 'string', 1, 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.'),
    ],
    row: pvRow,
  },
};

// ---------------------------------------------------------------------------------------------
// PersistentVolumeClaims

function defaultPVC(pvc: KObject): void {
  const spec = (pvc.spec ??= {});
  spec.volumeMode ??= 'Filesystem';
}

function validatePVC(pvc: KObject): FieldError[] {
  const spec = pvc.spec ?? {};
  const errs = validateAccessModes(spec.accessModes, 'spec.accessModes');
  const req = spec.resources?.requests;
  if (!req || req.storage === undefined) errs.push(field.required('spec.resources[storage]'));
  else {
    errs.push(...validateResourceMap(req, 'spec.resources.requests', false));
    const q = quantityOf(req.storage);
    if (q && q.nanos <= 0n) errs.push(field.invalid('spec.resources.requests[storage]', q.toString(), 'must be greater than zero'));
  }
  errs.push(...validateResourceMap(spec.resources?.limits, 'spec.resources.limits', false));
  if (spec.volumeMode && !volumeModes.includes(spec.volumeMode)) errs.push(field.notSupported('spec.volumeMode', spec.volumeMode, volumeModes));
  if (spec.storageClassName) for (const m of isDNS1123Subdomain(spec.storageClassName)) errs.push(field.invalid('spec.storageClassName', spec.storageClassName, m));
  return errs;
}

function validatePVCUpdate(pvc: KObject, old: KObject): FieldError[] {
  const errs = validatePVC(pvc);
  const n = clone(pvc.spec ?? {});
  const o = clone(old.spec ?? {});
  // Binding may set volumeName once; requests may change on bound claims (expansion).
  if (!o.volumeName) o.volumeName = n.volumeName;
  // A claim created without a class may get one later (upstream's retroactive default StorageClass).
  const unset = (v: unknown) => v === undefined || v === null;
  if (unset(o.storageClassName) && !unset(n.storageClassName) && n.storageClassName !== '' && old.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] === undefined)
    o.storageClassName = n.storageClassName;
  if (old.status?.phase === 'Bound') {
    if (n.resources) n.resources.requests = o.resources?.requests;
    n.volumeAttributesClassName = o.volumeAttributesClassName;
  }
  for (const s of [n, o]) for (const k of Object.keys(s)) if (s[k] === undefined) delete s[k];
  if (!deepEqual(n, o)) errs.push(field.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  return errs;
}

function pvcRow(pvc: KObject, now: number): unknown[] {
  const spec = pvc.spec ?? {};
  const phase = pvc.metadata.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? '');
  let capacity = '';
  let modes = '';
  if (spec.volumeName) {
    modes = accessModesString(pvc.status?.accessModes);
    capacity = quantityOf(pvc.status?.capacity?.storage)?.toString() ?? '0';
  }
  return [pvc.metadata.name, phase, spec.volumeName ?? '', capacity, modes, storageClass(pvc), spec.volumeAttributesClassName || '<unset>', age(pvc, now), spec.volumeMode || '<unset>'];
}

export const persistentVolumeClaims: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  namespaced: true,
  shortNames: ['pvc'],
  model: 'V1PersistentVolumeClaim',
  strategy: {
    defaults: defaultPVC,
    prepareForCreate(obj) {
      obj.status = { phase: 'Pending' };
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    validate: validatePVC,
    validateUpdate: validatePVCUpdate,
  },
  status: {
    validateUpdate(obj) {
      const phases = ['Pending', 'Bound', 'Lost'];
      const ph = obj.status?.phase;
      return ph && !phases.includes(ph) ? [field.notSupported('status.phase', ph, phases)] : [];
    },
  },
  table: {
    columns: [
      nameColumn,
      col('Status', 'string', 0, 'phase represents the current phase of PersistentVolumeClaim.'),
      col('Volume', 'string', 0, 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
      col('Capacity', 'string', 0, 'capacity represents the actual resources of the underlying volume.'),
      col('Access Modes', 'string', 0, 'accessModes contains the desired access modes the volume should have.'),
      col('StorageClass', 'string', 0, 'StorageClass of the pvc'),
      col('VolumeAttributesClass', 'string', 0, 'VolumeAttributesClass of the pvc'),
      ageColumn,
      col('VolumeMode', 'string', 1, 'volumeMode defines what type of volume is required by the claim.'),
    ],
    row: pvcRow,
  },
};
