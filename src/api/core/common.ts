// Small helpers shared by the core kinds' strategies and tables.

import { field, type FieldError } from '../../machinery/errors.ts';
import { humanAge, type KObject, type TableColumn } from '../types.ts';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain } from '../validation.ts';

export const nameColumn: TableColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  priority: 0,
  description: 'Name must be unique within a namespace.',
};

export const ageColumn: TableColumn = {
  name: 'Age',
  type: 'string',
  priority: 0,
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
};

export function col(name: string, type: TableColumn['type'] = 'string', priority = 0, description?: string): TableColumn {
  return description ? { name, type, priority, description } : { name, type, priority };
}

export function age(obj: KObject, now: number): string {
  return humanAge(obj.metadata.creationTimestamp, now);
}

/** Labels as `k=v,k2=v2` with sorted keys (upstream labels.FormatLabels); `<none>` when empty. */
export function formatLabels(labels: Record<string, string> | undefined | null): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels![k]}`).join(',');
}

export function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/**
 * The server validates every name as a DNS subdomain; kinds with a stricter rule add only the
 * messages that rule adds, so a name is never reported twice.
 */
export function stricterNameErrors(name: string | undefined, rule: 'label' | 'dns1035'): FieldError[] {
  if (!name || isDNS1123Subdomain(name).length > 0) return [];
  const msgs = rule === 'label' ? isDNS1123Label(name) : isDNS1035Label(name);
  return msgs.map((m) => field.invalid('metadata.name', name, m));
}

/** Decode check for base64 values of `data` maps (upstream rejects them while decoding). */
export function isBase64(s: unknown): boolean {
  return typeof s === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0;
}

const configKeyRe = /^[-._a-zA-Z0-9]+$/;

/** Upstream IsConfigMapKey messages. */
export function isConfigMapKey(key: string): string[] {
  const out: string[] = [];
  if (key.length > 253) out.push('must be no more than 253 characters');
  if (!configKeyRe.test(key))
    out.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
  if (key === '.') out.push("must not be '.'");
  else if (key === '..') out.push("must not be '..'");
  else if (key.startsWith('..')) out.push("must not start with '..'");
  return out;
}

/** A string-typed access modes cell: RWO,ROX,RWX,RWOP in that order (upstream GetAccessModesAsString). */
export function accessModesString(modes: unknown): string {
  const list: string[] = Array.isArray(modes) ? modes : [];
  const out: string[] = [];
  if (list.includes('ReadWriteOnce')) out.push('RWO');
  if (list.includes('ReadOnlyMany')) out.push('ROX');
  if (list.includes('ReadWriteMany')) out.push('RWX');
  if (list.includes('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

export function isIPv4(s: unknown): boolean {
  return typeof s === 'string' && /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s);
}

export function isIP(s: unknown): boolean {
  if (isIPv4(s)) return true;
  return typeof s === 'string' && s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s) && s.split('::').length <= 2;
}
