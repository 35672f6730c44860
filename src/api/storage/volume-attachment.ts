// storage.k8s.io/v1 VolumeAttachment: a request to attach a volume to a node, written by the
// attach/detach controller for CSI volumes and acknowledged by the driver's attacher in its status.

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { deepEqual, isDNS1123Subdomain } from '../validation.ts';
import { age, ageColumn, col, nameColumn } from '../core/common.ts';
import { validateCSIDriverName } from './csi.ts';

const maxErrorMessage = 1024;
const maxMetadataBytes = 256 * 1024;

function validateSpec(spec: any): FieldError[] {
  const errs = validateCSIDriverName(spec?.attacher, 'spec.attacher');
  const src = spec?.source ?? {};
  const hasPV = src.persistentVolumeName !== undefined && src.persistentVolumeName !== null;
  const hasInline = !!src.inlineVolumeSpec;
  if (!hasPV && !hasInline) errs.push(field.required('spec.source', 'must specify exactly one of inlineVolumeSpec and persistentVolumeName'));
  else if (hasPV && hasInline) errs.push(field.forbidden('spec.source', 'must specify exactly one of inlineVolumeSpec and persistentVolumeName'));
  else if (hasPV && !src.persistentVolumeName) errs.push(field.required('spec.source.persistentVolumeName', 'must specify non empty persistentVolumeName'));
  else if (hasInline && !src.inlineVolumeSpec.csi) errs.push(field.required('spec.source.inlineVolumeSpec.csi', 'must specify a CSI persistent volume source'));
  const node = spec?.nodeName;
  if (!node) errs.push(field.required('spec.nodeName'));
  else for (const m of isDNS1123Subdomain(node)) errs.push(field.invalid('spec.nodeName', node, m));
  return errs;
}

function validateStatus(status: any): FieldError[] {
  const errs: FieldError[] = [];
  if (!status) return errs;
  let size = 0;
  for (const [k, v] of Object.entries(status.attachmentMetadata ?? {})) size += k.length + String(v).length;
  if (size > maxMetadataBytes) errs.push(field.tooLong('status.attachmentMetadata', maxMetadataBytes));
  for (const k of ['attachError', 'detachError'])
    if (typeof status[k]?.message === 'string' && status[k].message.length > maxErrorMessage) errs.push(field.tooLong(`status.${k}.message`, maxErrorMessage));
  return errs;
}

export const volumeAttachments: ResourceDef = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'VolumeAttachment',
  plural: 'volumeattachments',
  singular: 'volumeattachment',
  namespaced: false,
  model: 'V1VolumeAttachment',
  strategy: {
    validate: (obj: KObject) => validateSpec(obj.spec),
    validateUpdate: (obj, old) => {
      const errs = validateSpec(obj.spec);
      if (!deepEqual(obj.spec, old.spec)) errs.push(field.invalid('spec', obj.spec, 'field is immutable'));
      return errs;
    },
  },
  status: { validateUpdate: (obj) => validateStatus(obj.status) },
  table: {
    columns: [
      nameColumn,
      { ...col('Attacher', 'string', 0, 'attacher indicates the name of the volume driver that MUST handle this request.'), format: 'name' },
      col('PV', 'string', 0, 'persistentVolumeName represents the name of the persistent volume to attach.'),
      col('Node', 'string', 0, 'nodeName represents the node that the volume should be attached to.'),
      col('Attached', 'boolean', 0, 'attached indicates the volume is successfully attached.'),
      ageColumn,
    ],
    row: (obj, now) => [obj.metadata.name, obj.spec?.attacher ?? '', obj.spec?.source?.persistentVolumeName ?? '', obj.spec?.nodeName ?? '', obj.status?.attached === true, age(obj, now)],
  },
};
