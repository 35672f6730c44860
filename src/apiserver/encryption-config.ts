// --encryption-provider-config: upstream's EncryptionConfiguration (apiserver.config.k8s.io/v1).
// Each entry names resources (`secrets`, `deployments.apps`, `*.apps`, `*.*`) and their
// providers in order; the first entry that names a resource decides for it. Keys are base64.
// The result maps a storage key to its provider chain, through the registry's key prefixes.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ResourceDef } from '../api/types.ts';
import { keyPrefix } from '../api/registry.ts';
import { aescbc, aesgcm, identity, ProviderChain, secretbox, type Provider } from '../storage/encryption/providers.ts';

export class EncryptionConfigError extends Error {}

function providerOf(p: any, at: string): Provider[] {
  const kinds = Object.keys(p ?? {});
  if (kinds.length !== 1) throw new EncryptionConfigError(`${at}: exactly one provider type must be set, got ${JSON.stringify(kinds)}`);
  const kind = kinds[0];
  if (kind === 'identity') return [identity];
  const make = kind === 'aescbc' ? aescbc : kind === 'aesgcm' ? aesgcm : kind === 'secretbox' ? secretbox : undefined;
  if (!make) throw new EncryptionConfigError(`${at}: provider type ${JSON.stringify(kind)} is not supported (aescbc, aesgcm, secretbox, identity)`);
  const keys = p[kind]?.keys;
  if (!Array.isArray(keys) || !keys.length) throw new EncryptionConfigError(`${at}.${kind}.keys: at least one key is required`);
  return keys.map((k: any, i: number) => {
    if (!k?.name || typeof k.secret !== 'string') throw new EncryptionConfigError(`${at}.${kind}.keys[${i}]: name and secret are required`);
    const bytes = Buffer.from(k.secret, 'base64');
    try {
      return make(String(k.name), bytes);
    } catch (e) {
      throw new EncryptionConfigError(`${at}.${kind}.keys[${i}]: ${(e as Error).message}`);
    }
  });
}

export interface EncryptionConfig {
  /** Storage key prefix → providers (longest prefix first). */
  prefixes: { prefix: string; chain: ProviderChain }[];
  chainFor(key: string): ProviderChain | undefined;
}

export function parseEncryptionConfig(text: string, defs: readonly ResourceDef[]): EncryptionConfig {
  let doc: any;
  try {
    doc = parse(text);
  } catch (e) {
    throw new EncryptionConfigError(`invalid YAML: ${(e as Error).message}`);
  }
  if (doc?.kind !== 'EncryptionConfiguration') throw new EncryptionConfigError(`kind must be EncryptionConfiguration, got ${JSON.stringify(doc?.kind)}`);
  const entries: { names: string[]; chain: ProviderChain }[] = [];
  (doc.resources ?? []).forEach((r: any, i: number) => {
    const at = `resources[${i}]`;
    if (!Array.isArray(r?.resources) || !r.resources.length) throw new EncryptionConfigError(`${at}.resources: at least one resource is required`);
    if (!Array.isArray(r?.providers) || !r.providers.length) throw new EncryptionConfigError(`${at}.providers: at least one provider is required`);
    const providers = r.providers.flatMap((p: any, j: number) => providerOf(p, `${at}.providers[${j}]`));
    entries.push({ names: r.resources.map(String), chain: new ProviderChain(providers) });
  });
  const nameMatches = (n: string, def: ResourceDef) => {
    const full = def.group ? `${def.plural}.${def.group}` : def.plural;
    if (n === full || n === '*.*') return true;
    if (n.startsWith('*.')) return n.slice(2) === def.group;
    return n === '*.' && def.group === '';
  };
  const prefixes: { prefix: string; chain: ProviderChain }[] = [];
  const seen = new Set<string>();
  for (const def of defs) {
    if (def.virtual || def.storedAs) continue;
    const prefix = keyPrefix(def);
    if (seen.has(prefix)) continue;
    const e = entries.find((x) => x.names.some((n) => nameMatches(n, def)));
    if (!e) continue;
    seen.add(prefix);
    prefixes.push({ prefix, chain: e.chain });
  }
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  return {
    prefixes,
    chainFor(key) {
      for (const p of prefixes) if (key.startsWith(p.prefix)) return p.chain;
      return undefined;
    },
  };
}

export function loadEncryptionConfig(file: string, defs: readonly ResourceDef[]): EncryptionConfig {
  return parseEncryptionConfig(readFileSync(file, 'utf8'), defs);
}
