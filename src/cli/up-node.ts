// The local node of `mizzen up`: a real kubelet named after the host, with its own identity
// (DATA_DIR/cred/kubelet-<node>.kubeconfig, system:node:<node>), its serving certificate from the
// cluster CA, and containerd, the pod network and pod logs under the data dir (as k3s keeps its
// agent's under its own). Runs in the main thread: its work is mostly waiting on containerd and
// the API server (see docs/kubelet-node.md for the measurement behind that choice).

import type { Pki } from '../apiserver/pki.ts';
import { ensureIdentityKubeconfig, ensureNodeKubeconfig } from '../apiserver/component-credentials.ts';
import { NODE_SERVICES_USER } from '../apiserver/authz/bootstrap-policy.ts';
import { nthAddress } from '../kubelet/network/cidr.ts';
import type { RunningNode, StartNodeOptions } from '../kubelet/run.ts';
import { clusterCIDRFor, localNodeName } from './components.ts';
import { nodeServiceHooks } from '../kubelet/node-services.ts';
import type { UpOptions } from './options.ts';

export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';
/** How long `up` waits for its node to be Ready before printing its ready line anyway. */
export const NODE_READY_WAIT_MS = 60_000;

export interface UpNodeContext {
  url: string;
  pki: Pki;
  log: (msg: string) => void;
  /** HOOKS for the node services (cluster DNS, service proxy), passed to startNode. */
  services?: Pick<StartNodeOptions, 'startDNS' | 'startProxy'>;
  /** A kubeconfig for cluster DNS and the service proxy (default: their own identity, mizzen:node-services). */
  servicesKubeconfig?: string;
}

/** Starts the local node; undefined (after saying why, in one line) when this machine cannot run one. */
export async function startUpNode(opts: UpOptions, ctx: UpNodeContext): Promise<RunningNode | undefined> {
  const { startNode, nodeUnsupportedReason } = await import('../kubelet/run.ts');
  const unsupported = nodeUnsupportedReason();
  if (unsupported) {
    ctx.log(unsupported);
    return undefined;
  }
  const nodeName = localNodeName(opts);
  const serviceCIDR = opts.serviceCIDR ?? DEFAULT_SERVICE_CIDR;
  const kubeconfig = await ensureNodeKubeconfig(opts.dataDir, ctx.pki, ctx.url, nodeName);
  ctx.log(`starting node ${nodeName} (kubelet as system:node:${nodeName})`);
  const r = await startNode({
    kubeconfig,
    nodeName,
    dataDir: opts.dataDir,
    clusterCIDR: opts.clusterCIDR ?? clusterCIDRFor(opts.simulatedNodes),
    serviceCIDR,
    // k3s's choice: the tenth address of the Service range is the cluster DNS Service's.
    clusterDNS: [opts.dns?.clusterDNS ?? nthAddress(serviceCIDR, 10)],
    clusterDomain: opts.dns?.clusterDomain,
    serving: { ca: { certPem: ctx.pki.caCertPem, keyPem: ctx.pki.caKeyPem } },
    clientCA: ctx.pki.caCertPem,
    port: opts.node?.kubeletPort,
    cgroupRoot: opts.node?.cgroupRoot,
    bridge: opts.node?.bridge,
    networkName: opts.node?.bridge,
    progress: ctx.log,
    log: (m) => ctx.log(`kubelet: ${m}`),
    // Cluster DNS and the service proxy: a kubelet may not list every pod or NetworkPolicy, nor
    // write kube-system/kube-dns, so they have their own identity and role (mizzen:node-services).
    ...nodeServiceHooks({
      kubeconfig: ctx.servicesKubeconfig ?? (await ensureIdentityKubeconfig(opts.dataDir, ctx.pki, ctx.url, 'node-services', { user: NODE_SERVICES_USER, groups: [] })),
      dns: opts.node?.noClusterDNS ? false : { upstreams: opts.dns?.upstreams },
      proxy: opts.node?.noServiceProxy ? false : { networkPolicy: !opts.node?.noNetworkPolicy, nodePortRange: opts.nodePortRange },
    }),
    ...ctx.services,
  });
  if (!r.ok) {
    ctx.log(r.message);
    return undefined;
  }
  return r.node;
}

/** Waits for the node's readiness (bounded); says how it went. */
export async function waitForUpNode(node: RunningNode, log: (m: string) => void, started: number, timeoutMs = NODE_READY_WAIT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
  const result = await Promise.race([node.ready.then(() => 'ready' as const, (e: Error) => e), timeout]);
  clearTimeout(timer);
  if (result === 'ready') log(`node ${node.nodeName} is Ready in ${((performance.now() - started) / 1000).toFixed(2)}s`);
  else {
    const cond = (node.controller.getNode()?.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
    log(`node ${node.nodeName} is not Ready yet${cond?.message ? `: ${cond.message}` : result instanceof Error ? `: ${result.message}` : ''}`);
  }
}
