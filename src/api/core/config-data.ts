// ConfigMaps and Secrets: key validation, immutability, secret types.

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { deepEqual } from '../validation.ts';
import { age, ageColumn, col, isBase64, isConfigMapKey, nameColumn } from './common.ts';

const maxDataSize = 1024 * 1024;

function validateKeys(map: unknown, path: string, base64: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (map === undefined || map === null) return errs;
  if (typeof map !== 'object' || Array.isArray(map)) return [field.invalid(path, map, 'must be a map of string keys to string values')];
  for (const [k, v] of Object.entries(map as Record<string, unknown>)) {
    for (const m of isConfigMapKey(k)) errs.push(field.invalid(`${path}[${k}]`, k, m));
    if (base64 && !isBase64(v)) errs.push(field.invalid(`${path}[${k}]`, '<value omitted>', 'must be base64-encoded data'));
    else if (!base64 && typeof v !== 'string') errs.push(field.invalid(`${path}[${k}]`, v, 'must be a string'));
  }
  return errs;
}

function byteSize(map: Record<string, unknown> | undefined, base64: boolean): number {
  let n = 0;
  for (const [k, v] of Object.entries(map ?? {})) {
    void k;
    const s = String(v ?? '');
    n += base64 ? Math.floor((s.length * 3) / 4) - (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0) : Buffer.byteLength(s);
  }
  return n;
}

function validateImmutableData(obj: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  if (old.immutable !== true) return errs;
  if (obj.immutable !== true) errs.push(field.forbidden('immutable', 'field is immutable when `immutable` is set'));
  if (!deepEqual(obj.data ?? {}, old.data ?? {})) errs.push(field.forbidden('data', 'field is immutable when `immutable` is set'));
  if (!deepEqual(obj.binaryData ?? {}, old.binaryData ?? {})) errs.push(field.forbidden('binaryData', 'field is immutable when `immutable` is set'));
  return errs;
}

// ---------------------------------------------------------------------------------------------
// ConfigMaps

export function validateConfigMap(cm: KObject): FieldError[] {
  const errs = [...validateKeys(cm.data, 'data', false), ...validateKeys(cm.binaryData, 'binaryData', true)];
  for (const k of Object.keys(cm.binaryData ?? {}))
    if (cm.data && k in cm.data) errs.push(field.invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
  if (byteSize(cm.data, false) + byteSize(cm.binaryData, true) > maxDataSize) errs.push(field.tooLong('', maxDataSize));
  return errs;
}

export const configMaps: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  namespaced: true,
  shortNames: ['cm'],
  model: 'V1ConfigMap',
  strategy: {
    validate: validateConfigMap,
    validateUpdate: (obj, old) => [...validateConfigMap(obj), ...validateImmutableData(obj, old)],
  },
  table: {
    columns: [nameColumn, col('Data', 'string', 0, 'Data contains the configuration data.'), ageColumn],
    row: (cm, now) => [cm.metadata.name, Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, age(cm, now)],
  },
};

// ---------------------------------------------------------------------------------------------
// Secrets

const serviceAccountNameKey = 'kubernetes.io/service-account.name';

function defaultSecret(s: KObject): void {
  s.type ||= 'Opaque';
  // stringData is write-only: upstream folds it into data (base64) and never stores it.
  if (s.stringData && typeof s.stringData === 'object') {
    s.data ??= {};
    for (const [k, v] of Object.entries(s.stringData as Record<string, unknown>)) s.data[k] = Buffer.from(String(v ?? '')).toString('base64');
    delete s.stringData;
  }
}

function requireKey(s: KObject, key: string): FieldError[] {
  return s.data && typeof s.data === 'object' && key in s.data ? [] : [field.required(`data[${key}]`)];
}

export function validateSecret(s: KObject): FieldError[] {
  const errs = validateKeys(s.data, 'data', true);
  if (byteSize(s.data, true) > maxDataSize) errs.push(field.tooLong('data', maxDataSize));
  switch (s.type) {
    case 'kubernetes.io/service-account-token':
      if (!s.metadata.annotations?.[serviceAccountNameKey]) errs.push(field.required(`metadata.annotations[${serviceAccountNameKey}]`));
      break;
    case 'kubernetes.io/dockercfg':
      errs.push(...requireKey(s, '.dockercfg'));
      break;
    case 'kubernetes.io/dockerconfigjson':
      errs.push(...requireKey(s, '.dockerconfigjson'));
      break;
    case 'kubernetes.io/basic-auth':
      if (!s.data?.username && !s.data?.password) errs.push(field.required('data[username]'), field.required('data[password]'));
      break;
    case 'kubernetes.io/ssh-auth':
      errs.push(...requireKey(s, 'ssh-privatekey'));
      break;
    case 'kubernetes.io/tls':
      errs.push(...requireKey(s, 'tls.crt'), ...requireKey(s, 'tls.key'));
      break;
    default:
      break;
  }
  return errs;
}

export const secrets: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,
  model: 'V1Secret',
  strategy: {
    defaults: defaultSecret,
    validate: validateSecret,
    validateUpdate(obj, old) {
      const errs = validateSecret(obj);
      if (obj.type !== old.type) errs.push(field.invalid('type', obj.type, 'field is immutable'));
      errs.push(...validateImmutableData(obj, old));
      return errs;
    },
  },
  table: {
    columns: [nameColumn, col('Type', 'string', 0, 'The type of the secret'), col('Data', 'string', 0, 'The number of entries in the secret'), ageColumn],
    row: (s, now) => [s.metadata.name, s.type ?? '', Object.keys(s.data ?? {}).length, age(s, now)],
  },
  fieldSelectors: {
    type: (o) => o.type ?? '',
  },
};

// ---------------------------------------------------------------------------------------------
// ServiceAccounts

export const serviceAccounts: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  namespaced: true,
  shortNames: ['sa'],
  model: 'V1ServiceAccount',
  strategy: {
    validate(sa) {
      const errs: FieldError[] = [];
      (sa.secrets ?? []).forEach((r: any, i: number) => {
        if (!r?.name) errs.push(field.required(`secrets[${i}].name`));
      });
      (sa.imagePullSecrets ?? []).forEach((r: any, i: number) => {
        if (!r?.name) errs.push(field.required(`imagePullSecrets[${i}].name`));
      });
      return errs;
    },
  },
  table: {
    columns: [nameColumn, col('Secrets', 'string', 0, 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), ageColumn],
    row: (sa, now) => [sa.metadata.name, Array.isArray(sa.secrets) ? sa.secrets.length : 0, age(sa, now)],
  },
};
