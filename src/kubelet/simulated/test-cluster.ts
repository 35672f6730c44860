// Test helper: a real in-process API server on a free port, its admin kubeconfig and a client.

import type { RunningApiServer } from '../../apiserver/server.ts';
import { ApiClient } from '../../client/api-client.ts';
import { startTestApiServer } from '../../testing/api-server.ts';
import { loadKubeconfig } from '../../client/kubeconfig.ts';
import { poll } from '../../testing/poll.ts';

export interface TestCluster {
  api: RunningApiServer;
  kubeconfig: string;
  client: ApiClient;
  close(): Promise<void>;
}

export async function startTestCluster(): Promise<TestCluster> {
  const t = await startTestApiServer({ name: 'sim' });
  const client = new ApiClient({ ...loadKubeconfig(t.kubeconfig), maxSockets: 16 });
  return {
    api: t.server,
    kubeconfig: t.kubeconfig,
    client,
    async close() {
      client.close();
      await t.close();
    },
  };
}

/** Poll until check returns a value other than undefined (see src/testing/poll.ts). */
export function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  return poll(check, { what, timeoutMs, done: (v) => v !== undefined }) as Promise<T>;
}
