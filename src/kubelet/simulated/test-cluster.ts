// Test helper: a real in-process API server on a free port, its admin kubeconfig and a client.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type RunningApiServer } from '../../apiserver/server.ts';
import { ensurePki } from '../../apiserver/pki.ts';
import { writeKubeconfig } from '../../apiserver/kubeconfig.ts';
import { ApiClient } from '../../client/api-client.ts';
import { loadKubeconfig } from '../../client/kubeconfig.ts';
import { poll } from '../../testing/poll.ts';

export interface TestCluster {
  api: RunningApiServer;
  kubeconfig: string;
  client: ApiClient;
  close(): Promise<void>;
}

export async function startTestCluster(): Promise<TestCluster> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mizzen-sim-'));
  const pki = await ensurePki(dataDir);
  const api = await startApiServer({
    dataDir,
    port: 0,
    bindAddress: '127.0.0.1',
    tls: { cert: pki.serverCertPem, key: pki.serverKeyPem, clientCA: pki.caCertPem },
  });
  const kubeconfig = join(dataDir, 'kubeconfig');
  await writeKubeconfig(kubeconfig, { server: api.url, caPem: pki.caCertPem, clientCertPem: pki.adminCertPem, clientKeyPem: pki.adminKeyPem });
  const client = new ApiClient({ ...loadKubeconfig(kubeconfig), maxSockets: 16 });
  return {
    api,
    kubeconfig,
    client,
    async close() {
      client.close();
      await api.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Poll until check returns a value other than undefined (see src/testing/poll.ts). */
export function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  return poll(check, { what, timeoutMs, done: (v) => v !== undefined }) as Promise<T>;
}
