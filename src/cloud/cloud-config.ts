// The --cloud-config file: YAML (so JSON too), one mapping whose fields each provider documents
// (README "Cloud controller manager"). Reading it and checking its fields give CloudConfigErrors
// that name the field, so a bad file is a clear start-up error.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CloudConfigError } from './errors.ts';
import { parseIPv4 } from '../machinery/ipv4.ts';

export type CloudConfig = Record<string, unknown>;

/** Read and parse the file; undefined path means "no cloud-config" (an empty mapping). */
export function readCloudConfig(provider: string, path: string | undefined): CloudConfig {
  if (path === undefined) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CloudConfigError(provider, '', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseCloudConfig(provider, text, path);
}

export function parseCloudConfig(provider: string, text: string, source = 'cloud-config'): CloudConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new CloudConfigError(provider, '', `${source} is not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new CloudConfigError(provider, '', `${source} must be a mapping of fields`);
  return doc as CloudConfig;
}

/**
 * Typed access to a config mapping with field paths in errors. Unknown fields are an error too
 * (a misspelt `resourceGroup` should not silently fall back to a default).
 */
export class ConfigReader {
  private readonly seen = new Set<string>();

  constructor(
    readonly provider: string,
    private readonly obj: CloudConfig,
    private readonly prefix = '',
  ) {}

  private path(field: string): string {
    return this.prefix ? `${this.prefix}.${field}` : field;
  }

  fail(field: string, problem: string): never {
    throw new CloudConfigError(this.provider, this.path(field), problem);
  }

  private raw(field: string): unknown {
    this.seen.add(field);
    return this.obj[field];
  }

  string(field: string, opts: { required: true; default?: string }): string;
  string(field: string, opts?: { required?: false; default?: string }): string | undefined;
  string(field: string, opts: { required?: boolean; default?: string } = {}): string | undefined {
    const v = this.raw(field);
    if (v === undefined || v === null || v === '') {
      if (opts.required) this.fail(field, 'is required');
      return opts.default;
    }
    if (typeof v !== 'string') this.fail(field, `must be a string, not ${JSON.stringify(v)}`);
    return v;
  }

  /** A list of non-empty strings; a single string is taken as a list of one. */
  strings(field: string, opts: { required?: boolean } = {}): string[] {
    const v = this.raw(field);
    if (v === undefined || v === null) {
      if (opts.required) this.fail(field, 'is required');
      return [];
    }
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || x === '')) this.fail(field, 'must be a list of non-empty strings');
    if (opts.required && list.length === 0) this.fail(field, 'must not be empty');
    return list as string[];
  }

  integer(field: string, opts: { default: number; min?: number; max?: number }): number {
    const v = this.raw(field);
    if (v === undefined || v === null) return opts.default;
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(field, `must be an integer, not ${JSON.stringify(v)}`);
    if (opts.min !== undefined && v < opts.min) this.fail(field, `must be at least ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) this.fail(field, `must be at most ${opts.max}`);
    return v;
  }

  boolean(field: string, def: boolean): boolean {
    const v = this.raw(field);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') this.fail(field, `must be true or false, not ${JSON.stringify(v)}`);
    return v;
  }

  oneOf<T extends string>(field: string, values: readonly T[], def: T): T {
    const v = this.string(field) ?? def;
    if (!values.includes(v as T)) this.fail(field, `must be one of ${values.join(', ')}, not "${v}"`);
    return v as T;
  }

  /** An http(s) URL (endpoint overrides). */
  url(field: string): string | undefined {
    const v = this.string(field);
    if (v === undefined) return undefined;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      this.fail(field, `must be a URL such as https://host:port, not "${v}"`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') this.fail(field, `must be an http or https URL, not "${v}"`);
    return v.replace(/\/+$/, '');
  }

  ipv4(field: string): string | undefined {
    const v = this.string(field);
    if (v !== undefined && parseIPv4(v) === undefined) this.fail(field, `must be an IPv4 address, not "${v}"`);
    return v;
  }

  /** An IPv4 CIDR such as 127.0.100.0/24. */
  cidr(field: string, def?: string): string | undefined {
    const v = this.string(field) ?? def;
    if (v === undefined) return undefined;
    const m = /^([^/]+)\/(\d{1,2})$/.exec(v);
    if (!m || parseIPv4(m[1]!) === undefined || Number(m[2]) > 32) this.fail(field, `must be an IPv4 CIDR such as 127.0.100.0/24, not "${v}"`);
    return v;
  }

  /** A nested mapping (absent: an empty one). */
  section(field: string): ConfigReader {
    const v = this.raw(field);
    if (v === undefined || v === null) return new ConfigReader(this.provider, {}, this.path(field));
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(field, 'must be a mapping');
    return new ConfigReader(this.provider, v as CloudConfig, this.path(field));
  }

  /** Call after reading every field: anything not read is unknown. */
  done(): void {
    for (const k of Object.keys(this.obj)) if (!this.seen.has(k)) this.fail(k, 'is not a known field');
  }
}
