// Tests' real API server: a temporary data dir with its PKI, the server on a free port (and, when
// asked, its private Unix socket), and an admin kubeconfig for kubectl and the clients.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type RunningApiServer } from '../apiserver/server.ts';
import { ensurePki, type Pki } from '../apiserver/pki.ts';
import { writeKubeconfig } from '../apiserver/kubeconfig.ts';
import type { ApiServerAuthOptions } from '../apiserver/server.ts';
import type { DatastoreOptions } from '../storage/open.ts';

export interface TestApiServer {
  dir: string;
  pki: Pki;
  server: RunningApiServer;
  /** The private socket's path (served only with `unixSocket: true`). */
  socketPath: string;
  /** Admin kubeconfig for the HTTPS port. */
  kubeconfig: string;
  /** Stop the server and remove the data dir. */
  close(): Promise<void>;
}

export async function startTestApiServer(
  opts: {
    /** Names the temporary directory (mizzen-NAME-…). */
    name?: string;
    unixSocket?: boolean;
    /** Runs once the paths exist, before the server starts (e.g. to leave a stale socket there). */
    beforeStart?: (paths: { dir: string; socketPath: string }) => void | Promise<void>;
    /**
     * Authentication and authorization settings. By default the ServiceAccount admission plugin is
     * off, as in upstream's integration tests: no controller manager runs to make default
     * ServiceAccounts, so pods could not be created. `serviceAccountAdmission: true` turns it on.
     */
    auth?: ApiServerAuthOptions;
    serviceAccountAdmission?: boolean;
    /** How long the API server waits for a kubelet to answer (default 30 s). */
    kubeletTimeoutMs?: number;
    /** etcd instead of SQLite (several test servers may share one). */
    datastore?: DatastoreOptions;
    /** Reuse another test server's certificates (servers of one cluster share the CA). */
    pki?: Pki;
    /** `--service-node-port-range`. */
    nodePortRange?: [number, number];
    /** Events each watch cache keeps (default 10,000): small, so a test can outrun it. */
    watchCacheWindow?: number;
  } = {},
): Promise<TestApiServer> {
  const dir = await mkdtemp(join(tmpdir(), `mizzen-${opts.name ?? 'test'}-`));
  const pki = opts.pki ?? (await ensurePki(join(dir, 'pki')));
  const socketPath = join(dir, 'apiserver.sock');
  await opts.beforeStart?.({ dir, socketPath });
  const server = await startApiServer({
    dataDir: dir,
    port: 0,
    bindAddress: '127.0.0.1',
    tls: { cert: pki.serverCertPem, key: pki.serverKeyPem, clientCA: pki.caCertPem },
    unixSocket: opts.unixSocket ? socketPath : undefined,
    auth: { disableAdmissionPlugins: opts.serviceAccountAdmission ? [] : ['ServiceAccount'], ...opts.auth },
    kubeletClient: { cert: pki.kubeletClientCertPem, key: pki.kubeletClientKeyPem, ca: pki.caCertPem, timeoutMs: opts.kubeletTimeoutMs },
    datastore: opts.datastore,
    nodePortRange: opts.nodePortRange,
    watchCacheWindow: opts.watchCacheWindow,
  });
  const kubeconfig = join(dir, 'kubeconfig');
  await writeKubeconfig(kubeconfig, { server: server.url, caPem: pki.caCertPem, clientCertPem: pki.adminCertPem, clientKeyPem: pki.adminKeyPem });
  const t: TestApiServer = {
    dir,
    pki,
    server,
    socketPath,
    kubeconfig,
    async close() {
      // The server in use now: a test may have restarted it on the same data dir and put the new
      // one here (closing the first is then a no-op), and it must not outlive the test.
      await t.server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return t;
}
