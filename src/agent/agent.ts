// `mizzen agent --server URL[,URL...] --token T`: make this machine a worker node. Like a k3s agent,
// it checks the server against the CA the token pins, obtains a client certificate for
// system:node:<name> with the token's secret, writes DATA_DIR/kubeconfig (through a local load
// balancer over every given server, so the node survives the loss of any one of them) and starts
// the node agent (node-agent.ts).

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeKubeconfig } from '../apiserver/kubeconfig.ts';
import { fetchNodeCredentials, JoinError } from '../join/bootstrap-client.ts';
import { parseToken, TokenError } from '../join/token.ts';
import type { CliIO } from '../cli/io.ts';
import { listenForStop, type StopSignal } from '../cli/lifecycle.ts';
import { startLoadBalancer, type RunningLoadBalancer } from './load-balancer.ts';
import { startNodeAgent, type RunningNodeAgent } from './node-agent.ts';
import { nodeInternalIP } from '../kubelet/node/machine-info.ts';

export interface AgentOptions {
  servers: string[];
  token: string;
  nodeName: string;
  dataDir: string;
  /** Port of the local load balancer (default 6444, as k3s; 0 = any free one). */
  lbPort: number;
  /** Run a simulated kubelet instead of the real one (tests in network namespaces). */
  simulatedKubelet?: boolean;
}

export async function runAgent(opts: AgentOptions, io: CliIO, stopSignal?: StopSignal): Promise<number> {
  const log = (m: string) => io.out(`agent: ${m}`);
  const stop = stopSignal ?? listenForStop(io);
  let lb: RunningLoadBalancer | undefined;
  let node: RunningNodeAgent | undefined;
  try {
    const token = parseToken(opts.token);
    // Any member can issue the credentials; take the first that answers.
    let creds;
    let lastErr: Error | undefined;
    for (const s of opts.servers) {
      try {
        // The kubelet's serving certificate comes along, for its name and InternalIP (as k3s's agents get theirs).
        creds = await fetchNodeCredentials(s, token, opts.nodeName, undefined, opts.simulatedKubelet ? undefined : [opts.nodeName, nodeInternalIP()]);
        log(`got credentials for system:node:${opts.nodeName} from ${s}`);
        break;
      } catch (e) {
        lastErr = e as Error;
        log(`${(e as Error).message}`);
        if (e instanceof JoinError && /refused the token|does not match the token/.test((e as Error).message)) break;
      }
    }
    if (!creds) throw lastErr ?? new JoinError('no server to join');

    const pki = join(opts.dataDir, 'pki');
    await mkdir(pki, { recursive: true, mode: 0o700 });
    await writeFile(join(pki, 'ca.crt'), creds.ca, { mode: 0o644 });
    await writeFile(join(pki, 'node.crt'), creds.cert, { mode: 0o644 });
    await writeFile(join(pki, 'node.key'), creds.key, { mode: 0o600 });
    if (creds.servingCert && creds.servingKey) {
      await writeFile(join(pki, 'kubelet.crt'), creds.servingCert, { mode: 0o644 });
      await writeFile(join(pki, 'kubelet.key'), creds.servingKey, { mode: 0o600 });
    }

    lb = await startLoadBalancer({ servers: opts.servers, port: opts.lbPort, log });
    const kubeconfig = join(opts.dataDir, 'kubeconfig');
    await writeKubeconfig(kubeconfig, { server: lb.url, caPem: creds.ca, clientCertPem: creds.cert, clientKeyPem: creds.key, user: `system:node:${opts.nodeName}` });
    log(`wrote ${kubeconfig} (API servers ${opts.servers.join(', ')} through ${lb.url})`);

    if (!stop.received) node = await startNodeAgent({
        kubeconfig,
        nodeName: opts.nodeName,
        dataDir: opts.dataDir,
        log,
        simulated: opts.simulatedKubelet,
        serving: creds.servingCert && creds.servingKey ? { cert: creds.servingCert, key: creds.servingKey } : undefined,
      });
    if (!stop.received) io.out(`mizzen agent is ready: node ${opts.nodeName} — KUBECONFIG=${kubeconfig}`);
    const sig = await stop.promise;
    log(`received ${sig}, shutting down`);
    await node?.close();
    await lb.close();
    return 0;
  } catch (e) {
    await node?.close().catch(() => undefined);
    await lb?.close();
    if (e instanceof JoinError || e instanceof TokenError) {
      io.err(`mizzen agent: cannot join: ${e.message}`);
      return 1;
    }
    io.err(`mizzen agent: ${(e as Error).stack ?? e}`);
    return 1;
  } finally {
    stop.dispose();
  }
}
