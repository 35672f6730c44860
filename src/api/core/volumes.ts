// Pod volumes: defaults (emptyDir when no source, file modes) and validation (upstream
// ValidateVolumes and the per-source checks that matter in practice).

import { field, type FieldError } from '../../machinery/errors.ts';
import { isDNS1123Label, isDNS1123Subdomain } from '../validation.ts';

/** Every volume source field of a v1 Volume. */
export const volumeSourceKeys = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc',
  'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected',
  'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
];

const defaultMode = 0o644;

export function defaultVolumes(volumes: any[]): void {
  for (const v of volumes) {
    if (!v || typeof v !== 'object') continue;
    if (!volumeSourceKeys.some((k) => v[k] !== undefined && v[k] !== null)) v.emptyDir = {};
    if (v.secret && typeof v.secret === 'object') v.secret.defaultMode ??= defaultMode;
    if (v.configMap && typeof v.configMap === 'object') v.configMap.defaultMode ??= defaultMode;
    if (v.downwardAPI && typeof v.downwardAPI === 'object') {
      v.downwardAPI.defaultMode ??= defaultMode;
      for (const it of v.downwardAPI.items ?? []) if (it?.fieldRef) it.fieldRef.apiVersion ??= 'v1';
    }
    if (v.projected && typeof v.projected === 'object') {
      v.projected.defaultMode ??= defaultMode;
      for (const src of v.projected.sources ?? []) {
        if (src?.serviceAccountToken) src.serviceAccountToken.expirationSeconds ??= 3600;
        for (const it of src?.downwardAPI?.items ?? []) if (it?.fieldRef) it.fieldRef.apiVersion ??= 'v1';
      }
    }
    if (v.hostPath && typeof v.hostPath === 'object') v.hostPath.type ??= '';
    if (v.iscsi && typeof v.iscsi === 'object') v.iscsi.iscsiInterface ??= 'default';
    if (v.rbd && typeof v.rbd === 'object') {
      v.rbd.pool ??= 'rbd';
      v.rbd.user ??= 'admin';
      v.rbd.keyring ??= '/etc/ceph/keyring';
    }
    if (v.azureDisk && typeof v.azureDisk === 'object') {
      v.azureDisk.cachingMode ??= 'ReadWrite';
      v.azureDisk.fsType ??= 'ext4';
      v.azureDisk.readOnly ??= false;
      v.azureDisk.kind ??= 'Shared';
    }
    if (v.image && typeof v.image === 'object' && v.image.pullPolicy === undefined) {
      const ref: string = v.image.reference ?? '';
      const last = ref.slice(ref.lastIndexOf('/') + 1);
      v.image.pullPolicy = ref.includes('@') ? 'IfNotPresent' : !last.includes(':') || last.endsWith(':latest') ? 'Always' : 'IfNotPresent';
    }
  }
}

const hostPathTypes = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];

function validateMode(mode: unknown, path: string): FieldError[] {
  if (mode === undefined || mode === null) return [];
  if (typeof mode !== 'number' || mode < 0 || mode > 0o777) return [field.invalid(path, mode, 'must be a number between 0 and 0777 (octal), both inclusive')];
  return [];
}

function validateKeyToPaths(items: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(items)) return errs;
  items.forEach((it: any, i: number) => {
    const p = `${path}[${i}]`;
    if (!it?.key) errs.push(field.required(`${p}.key`));
    errs.push(...validateLocalPath(it?.path, `${p}.path`));
    errs.push(...validateMode(it?.mode, `${p}.mode`));
  });
  return errs;
}

function validateLocalPath(p: unknown, path: string): FieldError[] {
  if (!p) return [field.required(path)];
  const s = String(p);
  if (s.startsWith('/')) return [field.invalid(path, s, 'must be a relative path')];
  if (s.split('/').includes('..')) return [field.invalid(path, s, "must not contain '..'")];
  return [];
}

// A projected volume's source kinds (every pod's service-account volume has three sources).
const projectedKinds = ['secret', 'configMap', 'downwardAPI', 'serviceAccountToken', 'clusterTrustBundle', 'podCertificate'];

function validateSource(v: any, key: string, path: string): FieldError[] {
  const s = v[key];
  const p = `${path}.${key}`;
  const errs: FieldError[] = [];
  switch (key) {
    case 'hostPath':
      if (!s.path) errs.push(field.required(`${p}.path`));
      if (s.type !== undefined && !hostPathTypes.includes(s.type)) errs.push(field.notSupported(`${p}.type`, s.type, hostPathTypes));
      break;
    case 'emptyDir':
      if (s.medium !== undefined && !['', 'Memory', 'HugePages'].includes(s.medium) && !String(s.medium).startsWith('HugePages-'))
        errs.push(field.notSupported(`${p}.medium`, s.medium, ['', 'Memory', 'HugePages']));
      break;
    case 'secret':
      if (!s.secretName) errs.push(field.required(`${p}.secretName`));
      else for (const m of isDNS1123Subdomain(s.secretName)) errs.push(field.invalid(`${p}.secretName`, s.secretName, m));
      errs.push(...validateMode(s.defaultMode, `${p}.defaultMode`));
      errs.push(...validateKeyToPaths(s.items, `${p}.items`));
      break;
    case 'configMap':
      if (!s.name) errs.push(field.required(`${p}.name`));
      else for (const m of isDNS1123Subdomain(s.name)) errs.push(field.invalid(`${p}.name`, s.name, m));
      errs.push(...validateMode(s.defaultMode, `${p}.defaultMode`));
      errs.push(...validateKeyToPaths(s.items, `${p}.items`));
      break;
    case 'persistentVolumeClaim':
      if (!s.claimName) errs.push(field.required(`${p}.claimName`));
      break;
    case 'nfs':
      if (!s.server) errs.push(field.required(`${p}.server`));
      if (!s.path) errs.push(field.required(`${p}.path`));
      else if (!String(s.path).startsWith('/')) errs.push(field.invalid(`${p}.path`, s.path, 'must be an absolute path'));
      break;
    case 'downwardAPI':
      errs.push(...validateMode(s.defaultMode, `${p}.defaultMode`));
      (s.items ?? []).forEach((it: any, i: number) => {
        errs.push(...validateLocalPath(it?.path, `${p}.items[${i}].path`));
        if (!it?.fieldRef && !it?.resourceFieldRef) errs.push(field.required(`${p}.items[${i}]`, 'one of fieldRef and resourceFieldRef is required'));
      });
      break;
    case 'projected':
      errs.push(...validateMode(s.defaultMode, `${p}.defaultMode`));
      (s.sources ?? []).forEach((src: any, i: number) => {
        const sp = `${p}.sources[${i}]`;
        if (!projectedKinds.some((k) => src?.[k])) errs.push(field.required(sp, 'must specify exactly 1 of: secret, configMap, downwardAPI, serviceAccountToken, clusterTrustBundle, podCertificate'));
        if (src?.serviceAccountToken) {
          const t = src.serviceAccountToken;
          if (!t.path) errs.push(field.required(`${sp}.serviceAccountToken.path`));
          if (typeof t.expirationSeconds === 'number' && t.expirationSeconds < 600)
            errs.push(field.invalid(`${sp}.serviceAccountToken.expirationSeconds`, t.expirationSeconds, 'may not specify a duration less than 10 minutes'));
        }
        if (src?.secret) errs.push(...validateKeyToPaths(src.secret.items, `${sp}.secret.items`));
        if (src?.configMap) errs.push(...validateKeyToPaths(src.configMap.items, `${sp}.configMap.items`));
      });
      break;
    case 'csi':
      if (!s.driver) errs.push(field.required(`${p}.driver`));
      break;
    case 'image':
      if (!s.reference) errs.push(field.required(`${p}.reference`));
      break;
    case 'ephemeral':
      if (!s.volumeClaimTemplate) errs.push(field.required(`${p}.volumeClaimTemplate`));
      break;
  }
  return errs;
}

/** Validates spec.volumes; returns the errors and the volumes by name (for volumeMounts). */
export function validateVolumes(volumes: unknown, path: string): { errs: FieldError[]; volumes: Map<string, any> } {
  const errs: FieldError[] = [];
  const byName = new Map<string, any>();
  if (volumes === undefined || volumes === null) return { errs, volumes: byName };
  if (!Array.isArray(volumes)) return { errs: [field.invalid(path, volumes, 'must be a list')], volumes: byName };
  volumes.forEach((v: any, i: number) => {
    const p = `${path}[${i}]`;
    if (!v || typeof v !== 'object') return errs.push(field.invalid(p, v, 'must be an object'));
    if (!v.name) errs.push(field.required(`${p}.name`));
    else {
      for (const m of isDNS1123Label(v.name)) errs.push(field.invalid(`${p}.name`, v.name, m));
      if (byName.has(v.name)) errs.push(field.duplicate(`${p}.name`, v.name));
      else byName.set(v.name, v);
    }
    const present = volumeSourceKeys.filter((k) => v[k] !== undefined && v[k] !== null);
    if (present.length === 0) errs.push(field.required(p, 'must specify a volume type'));
    else {
      for (const k of present.slice(1)) errs.push(field.forbidden(`${p}.${k}`, 'may not specify more than 1 volume type'));
      errs.push(...validateSource(v, present[0], p));
    }
  });
  return { errs, volumes: byName };
}
