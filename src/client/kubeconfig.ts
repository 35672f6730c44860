// Kubeconfig loading: resolve the current (or a chosen) context into the connection settings the
// ApiClient needs. Relative file paths are resolved against the kubeconfig's own directory, as
// kubectl does.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve, delimiter } from 'node:path';
import { parse } from 'yaml';

export interface ClientConfig {
  /** e.g. https://127.0.0.1:6443 */
  server: string;
  /** PEM CA bundle to trust. */
  ca?: string;
  /** PEM client certificate and key. */
  cert?: string;
  key?: string;
  token?: string;
  insecureSkipTLSVerify?: boolean;
  /** SNI / verification name override (cluster.tls-server-name). */
  tlsServerName?: string;
  /** The context's default namespace ('default' when unset). */
  namespace: string;
  /** Context, cluster and user names the config came from. */
  contextName?: string;
  clusterName?: string;
  userName?: string;
}

export interface KubeconfigOptions {
  /** Use this context instead of current-context. */
  context?: string;
  /** Directory relative paths are resolved against (default: process.cwd()). */
  baseDir?: string;
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

type Dict = Record<string, unknown>;

export class KubeconfigError extends Error {}

/** Parse kubeconfig YAML text into a ClientConfig for one context. */
export function parseKubeconfig(text: string, opts: KubeconfigOptions = {}): ClientConfig {
  const doc = (parse(text) ?? {}) as Dict;
  const baseDir = opts.baseDir ?? process.cwd();
  const contextName = opts.context || str(doc['current-context']);
  if (!contextName) throw new KubeconfigError('no context chosen and current-context is not set');
  const ctx = findNamed(doc.contexts, contextName, 'context');
  if (!ctx) throw new KubeconfigError(`context "${contextName}" does not exist`);
  const clusterName = str(ctx.cluster);
  const userName = str(ctx.user);
  const cluster = clusterName ? findNamed(doc.clusters, clusterName, 'cluster') : undefined;
  if (!cluster) throw new KubeconfigError(`cluster "${clusterName ?? ''}" of context "${contextName}" does not exist`);
  const user = (userName ? findNamed(doc.users, userName, 'user') : undefined) ?? {};

  const server = str(cluster.server);
  if (!server) throw new KubeconfigError(`cluster "${clusterName}" has no server`);
  const cfg: ClientConfig = {
    server: server.replace(/\/+$/, ''),
    namespace: str(ctx.namespace) || 'default',
    contextName,
    clusterName,
    userName,
  };
  const ca = dataOrFile(cluster['certificate-authority-data'], cluster['certificate-authority'], baseDir);
  if (ca) cfg.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) cfg.insecureSkipTLSVerify = true;
  const sni = str(cluster['tls-server-name']);
  if (sni) cfg.tlsServerName = sni;

  const cert = dataOrFile(user['client-certificate-data'], user['client-certificate'], baseDir);
  const key = dataOrFile(user['client-key-data'], user['client-key'], baseDir);
  if (cert) cfg.cert = cert;
  if (key) cfg.key = key;
  let token = str(user.token);
  const tokenFile = str(user.tokenFile) ?? str(user['token-file']);
  if (!token && tokenFile) token = readFileSync(resolvePath(tokenFile, baseDir), 'utf8').trim();
  if (token) cfg.token = token;
  return cfg;
}

/**
 * Load a kubeconfig file. Without a path: the first entry of $KUBECONFIG, else ~/.kube/config.
 * (kubectl merges every $KUBECONFIG entry; we only read the first, which is enough for our components.)
 */
export function loadKubeconfig(path?: string, opts: Omit<KubeconfigOptions, 'baseDir'> = {}): ClientConfig {
  const file = path ?? defaultKubeconfigPath();
  const text = readFileSync(file, 'utf8');
  return parseKubeconfig(text, { ...opts, baseDir: dirname(resolve(file)) });
}

export function defaultKubeconfigPath(): string {
  const env = process.env.KUBECONFIG;
  if (env) {
    const first = env.split(delimiter).find((p) => p.length > 0);
    if (first) return first;
  }
  return join(homedir(), '.kube', 'config');
}

function findNamed(list: unknown, name: string, field: 'cluster' | 'user' | 'context'): Dict | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const entry of list as Named<Dict>[]) {
    if (entry && entry.name === name) return (entry[field] as Dict | undefined) ?? {};
  }
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Inline base64 data wins over a file path, as in client-go. */
function dataOrFile(data: unknown, file: unknown, baseDir: string): string | undefined {
  const d = str(data);
  if (d) return Buffer.from(d, 'base64').toString('utf8');
  const f = str(file);
  if (f) return readFileSync(resolvePath(f, baseDir), 'utf8');
  return undefined;
}

function resolvePath(p: string, baseDir: string): string {
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return isAbsolute(p) ? p : join(baseDir, p);
}
