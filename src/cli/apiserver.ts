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
import {
  clientURL,
  isLockedError,
  loadStartApiServer,
  lockedMessage,
  servingHostsFor,
  type StartApiServer,
} from './serving.ts';

export interface ApiServerDeps {
  startApiServer?: StartApiServer;
  stopSignal?: StopSignal;
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

export async function runApiServer(opts: ApiServerCommandOptions, io: CliIO, deps: ApiServerDeps = {}): Promise<number> {
  const started = performance.now();
  const life = new Lifecycle(io);
  const stop = deps.stopSignal ?? listenForStop(io);
  try {
    await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
    const { pki, ...tlsFiles } = await tlsMaterial(opts);
    const tls = { ...tlsFiles, pki };
    const startApiServer = deps.startApiServer ?? (await loadStartApiServer());
    // With the data dir's own CA, other machines can join through this server too.
    const token = pki ? await ensureToken(opts.dataDir, pki.caCertPem) : undefined;
    const api = await startApiServer({
      dataDir: opts.dataDir,
      port: opts.port,
      bindAddress: opts.bindAddress,
      tls: tlsFiles,
      serviceCIDR: opts.serviceCIDR,
      nodePortRange: opts.nodePortRange,
      datastore: opts.datastore,
      log: (msg) => io.out(`apiserver: ${msg}`),
      auth: opts.auth,
      // With the data dir's PKI the API server reaches kubelets with its kubelet-client certificate.
      kubeletClient: pki ? { cert: pki.kubeletClientCertPem, key: pki.kubeletClientKeyPem, ca: pki.caCertPem } : undefined,
      extraRoutes: pki && token ? bootstrapRoutes({ ca: { certPem: pki.caCertPem, keyPem: pki.caKeyPem }, token, datastore: opts.datastore, serviceCIDR: opts.serviceCIDR, pkiDir: pki.dir }) : undefined,
    });
    life.add('apiserver', () => api.close());
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
