// Writes a self-contained kubeconfig (credentials embedded as base64) for the cluster admin, into
// the user's own kubeconfig when one is already there.

import { mkdir, readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { dirname } from 'node:path';
import { parse, stringify } from 'yaml';
import { writeFileAtomic } from '../machinery/files.ts';

export interface KubeconfigOptions {
  /** API server URL, e.g. https://127.0.0.1:6443 */
  server: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  user?: string;
  cluster?: string;
  context?: string;
}

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

/** Build the kubeconfig document (exported for callers that want it in memory). */
export function buildKubeconfig(opts: KubeconfigOptions): Record<string, unknown> {
  const user = opts.user ?? 'admin';
  const cluster = opts.cluster ?? 'mizzen';
  const context = opts.context ?? 'mizzen';
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: opts.server, 'certificate-authority-data': b64(opts.caPem) } }],
    users: [
      {
        name: user,
        user: { 'client-certificate-data': b64(opts.clientCertPem), 'client-key-data': b64(opts.clientKeyPem) },
      },
    ],
    contexts: [{ name: context, context: { cluster, user } }],
    'current-context': context,
    preferences: {},
  };
}

/**
 * Write the kubeconfig with mode 0600 (it holds a private key), replacing any previous file
 * atomically. A kubeconfig already there is the user's too (`kubectl config set-context --current
 * --namespace=…`, other clusters, users and contexts, current-context, preferences): Mizzen's own
 * cluster, user and context entries are updated in it and everything else is kept, and the file
 * is not touched at all when Mizzen's entries already say what they should.
 */
export async function writeKubeconfig(file: string, opts: KubeconfigOptions): Promise<void> {
  const ours = buildKubeconfig(opts);
  let existing: Record<string, unknown> | undefined;
  try {
    const doc = parse(await readFile(file, 'utf8'));
    if (doc && typeof doc === 'object' && !Array.isArray(doc)) existing = doc as Record<string, unknown>;
  } catch {
    // Missing or not YAML: written afresh.
  }
  let next = ours;
  if (existing) {
    next = mergeKubeconfig(existing, ours);
    if (isDeepStrictEqual(next, existing)) return;
  }
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, stringify(next), 0o600);
}

type Named = { name?: unknown; [k: string]: unknown };

/**
 * `existing` with Mizzen's entries from `ours` put in: each of our named cluster/user/context
 * entries replaces the fields we set and keeps the others (a context's namespace, a cluster's
 * proxy-url...); other entries, current-context and preferences stay the user's.
 */
export function mergeKubeconfig(existing: Record<string, unknown>, ours: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(existing);
  out.apiVersion ??= ours.apiVersion;
  out.kind ??= ours.kind;
  for (const [list, inner] of [
    ['clusters', 'cluster'],
    ['users', 'user'],
    ['contexts', 'context'],
  ] as const) {
    const entries: Named[] = Array.isArray(out[list]) ? (out[list] as Named[]) : [];
    for (const mine of ours[list] as Named[]) {
      const at = entries.findIndex((e) => e && typeof e === 'object' && e.name === mine.name);
      if (at < 0) {
        entries.push(structuredClone(mine));
        continue;
      }
      const cur = entries[at];
      const body = cur[inner] && typeof cur[inner] === 'object' && !Array.isArray(cur[inner]) ? (cur[inner] as Record<string, unknown>) : {};
      const want = mine[inner] as Record<string, unknown>;
      // Credentials and CA given as files would override the embedded data we write.
      if (inner === 'cluster') delete body['certificate-authority'];
      if (inner === 'user') {
        delete body['client-certificate'];
        delete body['client-key'];
      }
      cur[inner] = { ...body, ...want };
    }
    out[list] = entries;
  }
  if (typeof out['current-context'] !== 'string' || out['current-context'] === '') out['current-context'] = ours['current-context'];
  if (out.preferences === undefined) out.preferences = {};
  return out;
}
