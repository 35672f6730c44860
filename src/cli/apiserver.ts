// `mizzen apiserver`: only the API server, in the foreground.

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePki } from '../apiserver/pki.ts';
import { writeKubeconfig } from '../apiserver/kubeconfig.ts';
import { ensureToken } from '../join/token.ts';
import { bootstrapRoutes } from '../join/bootstrap-routes.ts';
import type { CliIO } from './io.ts';
import { Lifecycle, listenForStop, type StopSignal } from './lifecycle.ts';
import type { ApiServerCommandOptions } from './options.ts';
import { ensureComponentKubeconfigs } from '../apiserver/component-credentials.ts';
import { startMetricsServerWorker } from './components.ts';
import type { RunningComponent } from './components.ts';
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

export interface ApiServerDeps {
  startApiServer?: StartApiServer;
  stopSignal?: StopSignal;
  /** The resource metrics pipeline (default: its worker thread); tests with a fake server pass null. */
  startMetrics?: typeof startMetricsServerWorker | null;
}

async function readPem(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw Object.assign(new Error(`cannot read ${flag} ${file}: ${(err as Error).message}`), { code: 'EFLAGFILE' });
  }
}

/** The TLS material: explicit files where given, the data dir's PKI (created if needed) for the rest. */
async function tlsMaterial(opts: ApiServerCommandOptions) {
  const explicit = opts.tlsCertFile && opts.tlsPrivateKeyFile && opts.clientCAFile;
  const pki = explicit ? undefined : await ensurePki(opts.dataDir, servingHostsFor(opts.bindAddress, opts.serviceCIDR));
  return {
    pki,
    cert: opts.tlsCertFile ? await readPem(opts.tlsCertFile, '--tls-cert-file') : pki!.serverCertPem,
    key: opts.tlsPrivateKeyFile ? await readPem(opts.tlsPrivateKeyFile, '--tls-private-key-file') : pki!.serverKeyPem,
    clientCA: opts.clientCAFile ? await readPem(opts.clientCAFile, '--client-ca-file') : pki!.caCertPem,
  };
}

/**
 * Starts the pipeline over the server's private socket, else (a data dir path too long for one)
 * with the controller manager's kubeconfig; undefined, after saying so, when neither exists.
 */
async function startPipeline(
  start: typeof startMetricsServerWorker,
  opts: ApiServerCommandOptions,
  api: { socketPath?: string },
  url: string,
  pki: Awaited<ReturnType<typeof ensurePki>> | undefined,
  io: CliIO,
): Promise<RunningComponent | undefined> {
  // The worker's lines already name their component ("metrics-server: ...").
  const log = (msg: string) => io.out(msg);
  let kubeconfig = '';
  if (!api.socketPath) {
    if (!pki) {
      log('metrics-server: not started: no private socket and no data dir PKI for its credentials; metrics.k8s.io answers 503');
      return undefined;
    }
    kubeconfig = (await ensureComponentKubeconfigs(opts.dataDir, pki, url))['controller-manager'];
  }
  return start(
    {
      resolutionMs: opts.metricResolutionMs,
      // Real nodes are scraped with the API server's kubelet client certificate, as for logs/exec.
      kubeletClient: pki ? { cert: pki.kubeletClientCertPem, key: pki.kubeletClientKeyPem, ca: pki.caCertPem } : undefined,
    },
    { kubeconfig, socketPath: api.socketPath, log },
  );
}

export async function runApiServer(opts: ApiServerCommandOptions, io: CliIO, deps: ApiServerDeps = {}): Promise<number> {
  const started = performance.now();
  const life = new Lifecycle(io);
  const stop = deps.stopSignal ?? listenForStop(io);
  try {
    await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
    const { pki, ...tlsFiles } = await tlsMaterial(opts);
    const tls = { ...tlsFiles, pki };
    const startApiServer: StartApiServerWithSocket = deps.startApiServer ?? (await loadStartApiServer());
    // With the data dir's own CA, other machines can join through this server too.
    const token = pki ? await ensureToken(opts.dataDir, pki.caCertPem) : undefined;
    // metrics.k8s.io is served here, so the pipeline that answers it runs here too (on a worker
    // thread, as metrics-server beside kube-apiserver upstream). The first request for the group
    // starts it, so an API server nobody asks for metrics pays nothing (no pod and node watches);
    // until it has collected, requests get 503 as from a metrics-server that is starting.
    const startMetrics = deps.startMetrics === undefined ? startMetricsServerWorker : deps.startMetrics;
    let server: Awaited<ReturnType<StartApiServerWithSocket>> | undefined;
    let metricsStarted = false;
    const wantMetrics = () => {
      if (metricsStarted || !startMetrics || !server || stop.received) return;
      metricsStarted = true;
      const s = server;
      void startPipeline(startMetrics, opts, s, clientURL(opts.bindAddress, s.port), pki, io).then(
        (running) => {
          if (!running) return;
          if (stop.received) return void running.close();
          life.add('metrics-server', () => running.close());
          if (running.port) s.attachThread?.(running.port);
        },
        (e: Error) => {
          io.err(`metrics-server: failed to start: ${e.message}`);
          metricsStarted = false; // the next request tries again
        },
      );
    };
    const api = await startApiServer({
      dataDir: opts.dataDir,
      port: opts.port,
      bindAddress: opts.bindAddress,
      tls: tlsFiles,
      serviceCIDR: opts.serviceCIDR,
      nodePortRange: opts.nodePortRange,
      datastore: opts.datastore,
      log: (msg) => io.out(`apiserver: ${msg}`),
      // The metrics pipeline below reaches the server here (its private socket, as in `mizzen up`).
      unixSocket: deps.startMetrics === null ? undefined : apiSocketPath(opts.dataDir),
      onResourceMetricsRequest: () => wantMetrics(),
      auth: opts.auth,
      // With the data dir's PKI the API server reaches kubelets with its kubelet-client certificate.
      kubeletClient: pki ? { cert: pki.kubeletClientCertPem, key: pki.kubeletClientKeyPem, ca: pki.caCertPem } : undefined,
      extraRoutes: pki && token ? bootstrapRoutes({ ca: { certPem: pki.caCertPem, keyPem: pki.caKeyPem }, token, datastore: opts.datastore, serviceCIDR: opts.serviceCIDR, pkiDir: pki.dir }) : undefined,
    });
    life.add('apiserver', () => api.close());
    server = api;
    const url = clientURL(opts.bindAddress, api.port);
    // With the data dir's own PKI, write an admin kubeconfig so that kubectl and the other
    // components (`mizzen scheduler --kubeconfig DIR/kubeconfig`, ...) can connect.
    let hint = '';
    if (tls.pki) {
      const kubeconfig = join(opts.dataDir, 'kubeconfig');
      await writeKubeconfig(kubeconfig, { server: url, caPem: tls.pki.caCertPem, clientCertPem: tls.pki.adminCertPem, clientKeyPem: tls.pki.adminKeyPem });
      hint = ` — export KUBECONFIG=${kubeconfig}`;
    }
    if (!stop.received) {
      io.out(`mizzen apiserver is ready in ${((performance.now() - started) / 1000).toFixed(2)}s: ${url}${hint}`);
    }
    const sig = await stop.promise;
    io.out(`mizzen: received ${sig}, shutting down`);
    const ok = await life.shutdown();
    io.out(ok ? 'mizzen: stopped' : 'mizzen: stopped with errors');
    return ok ? 0 : 1;
  } catch (err) {
    await life.shutdown();
    if (isLockedError(err)) {
      io.err(lockedMessage(opts.dataDir, err));
      return 1;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      io.err(`mizzen: cannot listen on ${opts.bindAddress}:${opts.port}: address already in use (try --port)`);
      return 1;
    }
    if (code === 'EFLAGFILE') {
      io.err(`mizzen: ${(err as Error).message}`);
      return 1;
    }
    throw err;
  } finally {
    stop.dispose();
  }
}
