// Registry mirrors and credentials from a k3s-style registries.yaml:
//
//   mirrors:
//     docker.io:
//       endpoint: ["http://127.0.0.1:5000", "https://mirror.example.com"]
//   configs:
//     "127.0.0.1:5000":
//       auth: { username: u, password: p }        # or auth: <base64 u:p>, or identity_token
//       tls: { ca_file: …, cert_file: …, key_file: …, insecure_skip_verify: true }
//
// How it reaches containerd 1.6: mirrors and TLS go into one hosts.toml per registry under
// `config_path` (the hosts-directory format, which containerd reads on every pull, so edits need no
// restart), and credentials go into the CRI plugin's `registry.configs."<host>".auth` tables.
// That split is forced: containerd 1.6 refuses `registry.mirrors` and `registry.configs.*.tls`
// beside `config_path`, and hosts.toml has no place for credentials; `configs.*.auth` is still
// honoured with `config_path` (deprecated upstream but kept, and what k3s writes too). The older
// all-in-config.toml form would need a containerd restart for every change and is going away.
//
// Not supported by containerd 1.6, so warned about and skipped: the "*" mirror (a default for
// every registry; 1.7 reads `_default/hosts.toml`) and k3s's `rewrite` rules.

import { parse as parseYaml } from 'yaml';
import { tomlString } from './toml.ts';

export interface RegistryAuth {
  username?: string;
  password?: string;
  auth?: string;
  identityToken?: string;
}

export interface RegistryTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecureSkipVerify?: boolean;
}

export interface RegistriesConfig {
  /** registry host → mirror endpoint URLs, tried in order before the registry itself */
  mirrors: Record<string, { endpoints: string[] }>;
  /** registry or mirror host ('host[:port]') → credentials and TLS */
  configs: Record<string, { auth?: RegistryAuth; tls?: RegistryTls }>;
}

export class RegistriesError extends Error {}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and checks registries.yaml; warnings name what is ignored. Throws RegistriesError with the field. */
export function parseRegistries(text: string, source = 'registries.yaml'): { config: RegistriesConfig; warnings: string[] } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new RegistriesError(`${source}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const config: RegistriesConfig = { mirrors: {}, configs: {} };
  const warnings: string[] = [];
  if (doc === null || doc === undefined) return { config, warnings };
  if (!isObj(doc)) throw new RegistriesError(`${source}: expected a mapping with "mirrors" and "configs"`);
  for (const key of Object.keys(doc)) {
    if (key !== 'mirrors' && key !== 'configs') warnings.push(`${source}: unknown field "${key}" ignored`);
  }
  const field = (path: string, v: unknown, want: 'string' | 'boolean'): string | boolean | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== want) throw new RegistriesError(`${source}: ${path} must be a ${want}`);
    return v as string | boolean;
  };

  if (doc.mirrors !== undefined && doc.mirrors !== null) {
    if (!isObj(doc.mirrors)) throw new RegistriesError(`${source}: mirrors must be a mapping of registry names`);
    for (const [registry, m] of Object.entries(doc.mirrors)) {
      const at = `mirrors."${registry}"`;
      if (!isObj(m)) throw new RegistriesError(`${source}: ${at} must be a mapping with "endpoint"`);
      if (m.rewrite !== undefined) warnings.push(`${source}: ${at}.rewrite is not supported by containerd 1.6 and is ignored`);
      const raw = m.endpoint ?? [];
      if (!Array.isArray(raw) || !raw.every((e) => typeof e === 'string')) throw new RegistriesError(`${source}: ${at}.endpoint must be a list of URLs`);
      const endpoints = (raw as string[]).map((e, i) => checkEndpoint(e, `${source}: ${at}.endpoint[${i}]`));
      if (registry === '*') {
        warnings.push(`${source}: the "*" mirror (all registries) is not supported by containerd 1.6; name each registry instead`);
        continue;
      }
      checkHost(registry, `${source}: ${at}`);
      config.mirrors[registry] = { endpoints };
    }
  }

  if (doc.configs !== undefined && doc.configs !== null) {
    if (!isObj(doc.configs)) throw new RegistriesError(`${source}: configs must be a mapping of registry hosts`);
    for (const [host, c] of Object.entries(doc.configs)) {
      const at = `configs."${host}"`;
      if (!isObj(c)) throw new RegistriesError(`${source}: ${at} must be a mapping with "auth" and/or "tls"`);
      const key = host.replace(/^https?:\/\//, '').replace(/\/+$/, '');
      checkHost(key, `${source}: ${at}`);
      const entry: { auth?: RegistryAuth; tls?: RegistryTls } = {};
      if (c.auth !== undefined && c.auth !== null) {
        if (!isObj(c.auth)) throw new RegistriesError(`${source}: ${at}.auth must be a mapping`);
        const a = c.auth;
        entry.auth = {
          username: field(`${at}.auth.username`, a.username, 'string') as string | undefined,
          password: field(`${at}.auth.password`, a.password, 'string') as string | undefined,
          auth: field(`${at}.auth.auth`, a.auth, 'string') as string | undefined,
          identityToken: field(`${at}.auth.identity_token`, a.identity_token, 'string') as string | undefined,
        };
      }
      if (c.tls !== undefined && c.tls !== null) {
        if (!isObj(c.tls)) throw new RegistriesError(`${source}: ${at}.tls must be a mapping`);
        const t = c.tls;
        entry.tls = {
          caFile: field(`${at}.tls.ca_file`, t.ca_file, 'string') as string | undefined,
          certFile: field(`${at}.tls.cert_file`, t.cert_file, 'string') as string | undefined,
          keyFile: field(`${at}.tls.key_file`, t.key_file, 'string') as string | undefined,
          insecureSkipVerify: field(`${at}.tls.insecure_skip_verify`, t.insecure_skip_verify, 'boolean') as boolean | undefined,
        };
        if (!!entry.tls.certFile !== !!entry.tls.keyFile) throw new RegistriesError(`${source}: ${at}.tls needs both cert_file and key_file`);
      }
      config.configs[key] = entry;
    }
  }
  return { config, warnings };
}

function checkEndpoint(e: string, at: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(e) ? e : `https://${e}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new RegistriesError(`${at}: "${e}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RegistriesError(`${at}: "${e}" must be http:// or https://`);
  return withScheme.replace(/\/+$/, '');
}

function checkHost(host: string, at: string): void {
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host) && !/^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(host)) {
    throw new RegistriesError(`${at}: "${host}" is not a registry host (host or host:port)`);
  }
}

/** The upstream server containerd falls back to after the mirrors. */
function defaultServer(registry: string): string {
  return registry === 'docker.io' ? 'https://registry-1.docker.io' : `https://${registry}`;
}

function tlsLines(tls: RegistryTls | undefined, indent: string): string[] {
  if (!tls) return [];
  const lines: string[] = [];
  if (tls.caFile) lines.push(`${indent}ca = ${tomlString(tls.caFile)}`);
  if (tls.certFile && tls.keyFile) lines.push(`${indent}client = [[${tomlString(tls.certFile)}, ${tomlString(tls.keyFile)}]]`);
  if (tls.insecureSkipVerify) lines.push(`${indent}skip_verify = true`);
  return lines;
}

/**
 * One hosts.toml per registry that has mirrors or a TLS config, keyed by directory name
 * (the registry host, as containerd looks it up under config_path).
 */
export function renderHostsFiles(config: RegistriesConfig): Map<string, string> {
  const files = new Map<string, string>();
  const registries = new Set([...Object.keys(config.mirrors), ...Object.keys(config.configs).filter((h) => config.configs[h]!.tls)]);
  for (const registry of [...registries].sort()) {
    const lines = [`server = ${tomlString(defaultServer(registry))}`, ...tlsLines(config.configs[registry]?.tls, '')];
    for (const endpoint of config.mirrors[registry]?.endpoints ?? []) {
      const u = new URL(endpoint);
      lines.push('', `[host.${tomlString(endpoint)}]`, '  capabilities = ["pull", "resolve"]');
      // A path other than the root names the API prefix itself (k3s semantics); otherwise containerd adds /v2.
      if (u.pathname !== '/' && u.pathname !== '') lines.push('  override_path = true');
      lines.push(...tlsLines(config.configs[u.host]?.tls, '  '));
    }
    files.set(registry, `${lines.join('\n')}\n`);
  }
  return files;
}

/** The CRI plugin's `registry.configs."<host>".auth` tables (TOML), empty when no credentials. */
export function renderAuthTables(config: RegistriesConfig): string {
  const out: string[] = [];
  for (const [host, c] of Object.entries(config.configs).sort(([a], [b]) => a.localeCompare(b))) {
    const a = c.auth;
    if (!a || !(a.username || a.password || a.auth || a.identityToken)) continue;
    out.push(`[plugins."io.containerd.grpc.v1.cri".registry.configs.${tomlString(host)}.auth]`);
    if (a.username) out.push(`  username = ${tomlString(a.username)}`);
    if (a.password) out.push(`  password = ${tomlString(a.password)}`);
    if (a.auth) out.push(`  auth = ${tomlString(a.auth)}`);
    if (a.identityToken) out.push(`  identitytoken = ${tomlString(a.identityToken)}`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
