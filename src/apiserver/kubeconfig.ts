// Writes a self-contained kubeconfig (credentials embedded as base64) for the cluster admin.

import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

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

/** Write the kubeconfig with mode 0600 (it holds a private key), replacing any previous file atomically. */
export async function writeKubeconfig(file: string, opts: KubeconfigOptions): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, stringify(buildKubeconfig(opts)), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}
