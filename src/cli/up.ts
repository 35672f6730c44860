// `mizzen up`: the whole control plane in the foreground.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePki } from '../apiserver/pki.ts';
import { ensureToken, parseToken, tokenPath, TokenError } from '../join/token.ts';
import { JoinError } from '../join/bootstrap-client.ts';
import { bootstrapRoutes } from '../join/bootstrap-routes.ts';
import { writeKubeconfig } from '../apiserver/kubeconfig.ts';
import { readFile } from 'node:fs/promises';
import { ensureComponentKubeconfigs } from '../apiserver/component-credentials.ts';
import { ApiClient } from '../client/api-client.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { grantNodeImpersonation } from '../kubelet/simulated/impersonation-grant.ts';
import { serviceAccountKeyPath } from '../apiserver/authn/service-account-keys.ts';
import { controlPlaneComponents, type ControlPlaneComponent } from './components.ts';
import type { CliIO } from './io.ts';
import { Lifecycle, listenForStop, type StopSignal } from './lifecycle.ts';
import type { UpOptions } from './options.ts';
import { startUpNode, waitForUpNode } from './up-node.ts';
import { startAfterBurstGC } from './after-burst-gc.ts';
import {
  apiSocketPath,
  clientURL,
  isLockedError,
  loadStartApiServer,
  lockedMessage,
  servingHostsFor,
  type StartApiServer,
  type StartApiServerWithSocket,
} from './serving.ts';

/** Seams for tests: a fake API server, fake components, a stop signal that is not a real signal. */
export interface UpDeps {
  startApiServer?: StartApiServer;
  components?: ControlPlaneComponent[];
  stopSignal?: StopSignal;
  /** The local node (default: a real kubelet, see up-node.ts); tests that want none pass noKubelet. */
  startNode?: typeof startUpNode;
}

export { apiSocketPath };

export function kubeconfigPath(dataDir: string): string {
  return join(dataDir, 'kubeconfig');
}

function readyLine(seconds: number, url: string, kubeconfig: string): string {
  return `mizzen is ready in ${seconds.toFixed(2)}s: ${url} — export KUBECONFIG=${kubeconfig}; kubectl get nodes`;
}

export async function runUp(opts: UpOptions, io: CliIO, deps: UpDeps = {}): Promise<number> {
  const started = performance.now();
  const log = (msg: string) => io.out(`mizzen: ${msg}`);
  const life = new Lifecycle(io);
  const stop = deps.stopSignal ?? listenForStop(io);
  try {
    log(`data directory ${opts.dataDir}`);
    await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });

    if (opts.join) {
      // A new member of an existing control plane: its CA and datastore come from there.
      const { prepareJoin } = await import('../join/join-server.ts');
      const joined = await prepareJoin(opts.dataDir, opts.join.server, parseToken(opts.join.token), opts.datastore, log);
      opts = { ...opts, datastore: joined.datastore, serviceCIDR: opts.serviceCIDR ?? joined.serviceCIDR };
    }

    const pki = await ensurePki(opts.dataDir, servingHostsFor(opts.bindAddress, opts.serviceCIDR));
    const token = await ensureToken(opts.dataDir, pki.caCertPem);
    log(pki.issued.length ? `issued certificates (${pki.issued.join(', ')}) in ${pki.dir}` : `using certificates in ${pki.dir}`);

    const startApiServer: StartApiServerWithSocket = deps.startApiServer ?? (await loadStartApiServer());
    const api = await startApiServer({
      dataDir: opts.dataDir,
      port: opts.port,
      bindAddress: opts.bindAddress,
      tls: { cert: pki.serverCertPem, key: pki.serverKeyPem, clientCA: pki.caCertPem },
      serviceCIDR: opts.serviceCIDR,
      nodePortRange: opts.nodePortRange,
      datastore: opts.datastore,
      log: (msg) => io.out(`apiserver: ${msg}`),
      unixSocket: apiSocketPath(opts.dataDir),
      auth: opts.auth,
      kubeletClient: { cert: pki.kubeletClientCertPem, key: pki.kubeletClientKeyPem, ca: pki.caCertPem },
      extraRoutes: bootstrapRoutes({ ca: { certPem: pki.caCertPem, keyPem: pki.caKeyPem }, token, datastore: opts.datastore, serviceCIDR: opts.serviceCIDR, pkiDir: pki.dir }),
    });
    life.add('apiserver', () => api.close());
    // The API server's heap back after a burst (src/cli/after-burst-gc.ts); the worker threads run their own.
    const stopGC = startAfterBurstGC({ onCollect: (a, b) => log(`main thread heap after a burst: ${Math.round(a / 1048576)} → ${Math.round(b / 1048576)} MB`) });
    life.add('after-burst-gc', async () => stopGC());
    const url = clientURL(opts.bindAddress, api.port);
    log(`API server is serving at ${url}`);

    const kubeconfig = kubeconfigPath(opts.dataDir);
    await writeKubeconfig(kubeconfig, {
      server: url,
      caPem: pki.caCertPem,
      clientCertPem: pki.adminCertPem,
      clientKeyPem: pki.adminKeyPem,
    });
    log(`wrote ${kubeconfig}`);
    // Every component its own identity (DATA_DIR/cred/): only the user's kubeconfig is the admin.
    const own = await ensureComponentKubeconfigs(opts.dataDir, pki, url);
    // Simulated nodes play many kubelets: without the private socket they impersonate each node
    // with their own identity, which may impersonate exactly those nodes and nothing else.
    if (opts.simulatedNodes > 0 && !api.socketPath) await grantSimulatedNodes(kubeconfig, opts.simulatedNodes, log);
    const componentKubeconfigs = {
      scheduler: own.scheduler,
      'controller-manager': own['controller-manager'],
      'cloud-controller-manager': own['cloud-controller-manager'],
      'simulated-nodes': own['simulated-nodes'],
      'metrics-server': own['controller-manager'],
    };
    const serviceAccountKeyPem = await readFile(opts.auth?.serviceAccountKeyFile ?? serviceAccountKeyPath(join(opts.dataDir, 'pki')), 'utf8').catch(() => undefined);
    log(`other machines join with the token in ${tokenPath(opts.dataDir)}: mizzen agent --server ${url} --token-file FILE${opts.datastore ? `, or as control-plane members: mizzen up --join ${url} --token-file FILE` : ''}`);

    for (const component of deps.components ?? controlPlaneComponents(opts)) {
      if (stop.received) break;
      const running = await component.start({
        apiServerURL: url,
        kubeconfig,
        componentKubeconfigs,
        serviceAccountKeyPem,
        // Only when the server really listens there (a fake server in tests may not).
        socketPath: api.socketPath,
        acceptApiPort: api.acceptPort && ((port) => api.acceptPort!(port)),
        pki,
        dataDir: opts.dataDir,
        serviceCIDR: opts.serviceCIDR,
        log: (msg) => io.out(`${component.name}: ${msg}`),
      });
      life.add(component.name, () => running.close());
      if (running.port) api.attachThread?.(running.port);
      log(`started ${component.name}`);
    }

    // The local node (unless --no-kubelet): a real kubelet named after the host.
    if (!opts.noKubelet && !stop.received) {
      const node = await (deps.startNode ?? startUpNode)(opts, { url, pki, log });
      if (node) {
        life.add('kubelet', () => node.stop());
        if (!stop.received) await Promise.race([waitForUpNode(node, log, started), stop.promise]);
      }
    }

    if (!stop.received) io.out(readyLine((performance.now() - started) / 1000, url, kubeconfig));

    const sig = await stop.promise;
    log(`received ${sig}, shutting down`);
    const ok = await life.shutdown();
    log(ok ? 'stopped' : 'stopped with errors');
    return ok ? 0 : 1;
  } catch (err) {
    await life.shutdown();
    if (isLockedError(err)) {
      io.err(lockedMessage(opts.dataDir, err));
      return 1;
    }
    if (err instanceof JoinError || err instanceof TokenError) {
      io.err(`mizzen: cannot join: ${err.message}`);
      return 1;
    }
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      io.err(`mizzen: cannot listen on ${opts.bindAddress}:${opts.port}: address already in use (try --port)`);
      return 1;
    }
    throw err;
  } finally {
    stop.dispose();
  }
}

/** Lets the simulated nodes' identity impersonate its nodes sim-0 … sim-<n-1> (written as the admin). */
async function grantSimulatedNodes(adminKubeconfig: string, count: number, log: (m: string) => void): Promise<void> {
  const admin = new ApiClient({ ...loadKubeconfig(adminKubeconfig), userAgent: 'mizzen-up' });
  try {
    // The component's names (simulatedNodeNames with its default prefix).
    await grantNodeImpersonation(admin, Array.from({ length: count }, (_, i) => `sim-${i}`));
  } catch (e) {
    log(`could not let the simulated nodes act as their nodes: ${(e as Error).message}`);
  } finally {
    admin.close();
  }
}
