// kwok-style simulated nodes: Node objects with live heartbeats and a kubelet stand-in that runs
// their pods on paper. Used by `mizzen up --simulated-nodes`, `mizzen simulate`, tests and benchmarks.

import type { KObject } from '../../api/types.ts';
import { ApiClient } from '../../client/api-client.ts';
import { Informer, trimForCache } from '../../client/informer.ts';
import { loadKubeconfig } from '../../client/kubeconfig.ts';
import { impersonationHeaders, nodeIdentityFor, socketIdentityHeaders } from '../../client/identity.ts';
import { DEFAULT_POD_CIDR_BASE, derivedPodCIDR, nodeInternalIP, parseCIDR, formatCIDR } from './addresses.ts';
import { DEFAULT_CAPACITY } from './capacity.ts';
import { NodeAgent } from './node-agent.ts';
import { SIMULATED_LABEL } from './node-object.ts';
import { PodRunner, type NodeFacts, type PodRunnerStats } from './pod-runner.ts';
import { requestNodeCertificates } from './node-certificates.ts';

export interface SimulatedNodesOptions {
  /** An existing client (not closed by us), or a kubeconfig file to build one from. */
  client?: ApiClient;
  /**
   * How each node's own writes (registration, leases, status, pod status) carry its identity
   * `system:node:<name>` in `system:nodes`: `socket` headers on the API server's private socket,
   * `impersonate` headers (the client's user must be allowed to impersonate nodes, as the admin is),
   * or `none` (everything as the client's user), or `certificates`: each node's own client
   * certificate, asked for by CSR (node-certificates.ts; needs a kubeconfig, and an identity that
   * may create certificatesigningrequests/nodeclient, as system:bootstrappers may). Default: `none`
   * when the client already is the only node's identity (a joined agent's own kubeconfig), else
   * `impersonate` when the client may impersonate the first node, else `certificates`.
   */
  nodeIdentity?: 'socket' | 'impersonate' | 'none' | 'certificates';
  /** How long `certificates` waits for the controller manager to sign (default 120 s). */
  certificateTimeoutMs?: number;
  kubeconfig?: string;
  count: number;
  /** Nodes are named `<prefix>-0` … (default 'sim'). */
  prefix?: string;
  /** Or exactly these names (count is then their number); `mizzen agent` runs one named after its host. */
  names?: string[];
  /** Index of the first node (default 0), so several simulators can share a prefix. */
  firstIndex?: number;
  /** Default cpu=32, memory=256Gi, pods=110. */
  capacity?: Record<string, string>;
  labels?: Record<string, string>;
  /** Where derived per-node pod ranges start when node.spec.podCIDR is unset (default 10.244.0.0/16). */
  podCIDRBase?: string;
  log?: (m: string) => void;
  /** Lease renewal interval in seconds (default 10, as the kubelet). */
  heartbeatSeconds?: number;
  /** Lease duration in seconds (default 40). */
  leaseDurationSeconds?: number;
  /** Unconditional node status report interval in seconds (default 300, the kubelet's 5 minutes). */
  nodeStatusSeconds?: number;
  /** Requests in flight for registration and heartbeats (default 32). */
  heartbeatConcurrency?: number;
  /** Parallel pod status writers (default 32). */
  podWorkers?: number;
  /** Longest simulated container stop on graceful deletion, ms (default 1000). */
  maxStopMs?: number;
  /** Delete the Node objects on close() (default false: the nodes just stop heartbeating). */
  deleteNodesOnClose?: boolean;
  /**
   * Register and heartbeat only: pods bound to these nodes stay Pending, as on the fake nodes of
   * upstream's scheduler benchmarks (scheduler_perf), which measure scheduling without kubelets.
   */
  heartbeatOnly?: boolean;
}

export interface SimulatedNodes {
  nodes: string[];
  stats(): PodRunnerStats & { laggingHeartbeats: number };
  close(): Promise<void>;
}

export function simulatedNodeNames(prefix: string, count: number, firstIndex = 0): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${firstIndex + i}`);
}

/** Whether the client authenticates as the one node simulated (then it needs no impersonation). */
async function clientIsNode(client: ApiClient, names: string[]): Promise<boolean> {
  if (names.length !== 1) return false;
  try {
    const r = await client.create<any>({ group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews' }, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    return r?.status?.userInfo?.username === `system:node:${names[0]}`;
  } catch {
    return false;
  }
}

/** Whether the client may impersonate this node (the admin may; up's grant allows its own nodes). */
async function mayImpersonate(client: ApiClient, node: string): Promise<boolean> {
  try {
    const r = await client.create<any>(
      { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews' },
      { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'impersonate', resource: 'users', name: `system:node:${node}` } } },
    );
    return r?.status?.allowed === true;
  } catch {
    return false;
  }
}

async function defaultNodeIdentity(client: ApiClient, names: string[], haveKubeconfig: boolean): Promise<'none' | 'impersonate' | 'certificates'> {
  if (await clientIsNode(client, names)) return 'none';
  if (!haveKubeconfig || !names.length || (await mayImpersonate(client, names[0]!))) return 'impersonate';
  return 'certificates';
}

export async function startSimulatedNodes(opts: SimulatedNodesOptions): Promise<SimulatedNodes> {
  if (!Number.isInteger(opts.count) || opts.count < 0) throw new Error(`invalid node count ${opts.count}: must be a whole number >= 0`);
  const log = opts.log ?? (() => {});
  const prefix = opts.prefix ?? 'sim';
  const firstIndex = opts.firstIndex ?? 0;
  const base = formatCIDR(parseCIDR(opts.podCIDRBase ?? DEFAULT_POD_CIDR_BASE));
  const heartbeatConcurrency = opts.heartbeatConcurrency ?? 32;
  const podWorkers = opts.podWorkers ?? 32;
  const ownClient = !opts.client;
  let client: ApiClient;
  if (opts.client) client = opts.client;
  else if (opts.kubeconfig) {
    // Enough keep-alive sockets for every worker plus the two watches, so nobody queues for a socket.
    client = new ApiClient({ ...loadKubeconfig(opts.kubeconfig), maxSockets: heartbeatConcurrency + podWorkers + 4, userAgent: 'mizzen-simulated-kubelet/0.1' });
  } else throw new Error('startSimulatedNodes needs a client or a kubeconfig');

  const names = opts.names ?? simulatedNodeNames(prefix, opts.count, firstIndex);
  const facts = new Map<string, NodeFacts & { index: number }>();
  names.forEach((name, i) => {
    const index = firstIndex + i;
    facts.set(name, { index, hostIP: nodeInternalIP(index), podCIDR: derivedPodCIDR(index, base) });
  });

  // Each node acts as itself; the shared pod and node watches are the client's own.
  const mode = opts.nodeIdentity ?? (await defaultNodeIdentity(client, names, !!opts.kubeconfig));
  const nodeClients = new Map<string, ApiClient>();
  if (mode === 'certificates') {
    if (!opts.kubeconfig) throw new Error('nodeIdentity "certificates" needs a kubeconfig (the API server address and CA)');
    const kc = loadKubeconfig(opts.kubeconfig);
    let certs;
    try {
      certs = await requestNodeCertificates(client, names, { log, timeoutMs: opts.certificateTimeoutMs });
    } catch (e) {
      if (ownClient) client.close();
      throw e;
    }
    // Each node's own connection: a few sockets each, as a kubelet has.
    for (const [node, c] of certs)
      nodeClients.set(node, new ApiClient({ server: kc.server, ca: kc.ca, tlsServerName: kc.tlsServerName, cert: c.certPem, key: c.keyPem, maxSockets: 4, userAgent: 'mizzen-simulated-kubelet/0.1' }));
  }
  const closeNodeClients = () => {
    if (mode === 'certificates') for (const c of nodeClients.values()) c.close();
  };
  const clientFor =
    mode === 'none'
      ? undefined
      : (node: string) => {
          let c = nodeClients.get(node);
          if (!c) {
            const id = nodeIdentityFor(node);
            c = client.withIdentity({ headers: mode === 'socket' ? socketIdentityHeaders(id) : impersonationHeaders(id) });
            nodeClients.set(node, c);
          }
          return c;
        };
  const agent = new NodeAgent(
    {
      client,
      clientFor,
      template: { capacity: { ...(opts.capacity ?? DEFAULT_CAPACITY) }, labels: opts.labels },
      leaseRenewSeconds: opts.heartbeatSeconds ?? 10,
      leaseDurationSeconds: opts.leaseDurationSeconds,
      nodeStatusSeconds: opts.nodeStatusSeconds ?? 300,
      concurrency: heartbeatConcurrency,
      log,
    },
    names,
    firstIndex,
  );
  // One node playing itself (an agent with its own system:node credentials) watches only its own
  // Node and pods, as a kubelet does and as the node authorizer allows; several share one watch.
  const single = names.length === 1 ? names[0] : undefined;
  const runner = new PodRunner({ client, clientFor, podFieldSelector: single ? `spec.nodeName=${single}` : undefined, nodes: { lookup: (n) => facts.get(n) }, workers: podWorkers, maxStopMs: opts.maxStopMs, log });

  // Node informer: notices podCIDR assignments, nodes marked unhealthy, and nodes deleted under us.
  // Without managedFields (nothing here reads them; the agent keeps the informer's object as its
  // copy of each node): 5,000 nodes' field sets are most of what this thread would hold.
  const transform = trimForCache();
  const nodeInformer = new Informer(client, { version: 'v1', resource: 'nodes' }, single ? { fieldSelector: `metadata.name=${single}`, log, transform } : { labelSelector: `${SIMULATED_LABEL}=true`, log, transform });
  const onNode = (node: KObject) => {
    const f = facts.get(node.metadata.name ?? '');
    if (!f) return;
    const assigned = node.spec?.podCIDR;
    if (typeof assigned === 'string' && assigned) {
      try {
        const cidr = formatCIDR(parseCIDR(assigned));
        if (cidr !== f.podCIDR) {
          f.podCIDR = cidr;
          runner.nodeChanged(node.metadata.name!);
        }
      } catch {
        // an IPv6 or malformed range: keep our derived one
      }
    }
    agent.observe(node);
  };
  nodeInformer.addEventHandler({ onAdd: onNode, onUpdate: (_o, n) => onNode(n), onDelete: (n) => agent.forget(n) });

  const started = Date.now();
  try {
    await agent.registerAll();
    nodeInformer.start();
    await nodeInformer.waitForSync();
    if (!opts.heartbeatOnly) await runner.start();
    agent.start();
  } catch (e) {
    await agent.stop();
    await runner.stop();
    await nodeInformer.stop();
    closeNodeClients();
    if (ownClient) client.close();
    throw e;
  }
  if (names.length)
    log(
      `registered ${names.length} simulated node(s) ${names[0]}…${names[names.length - 1]} in ${((Date.now() - started) / 1000).toFixed(2)}s` +
        (opts.heartbeatOnly ? ' (heartbeats only: pods bound to them stay Pending)' : ''),
    );

  let closing: Promise<void> | undefined;
  return {
    nodes: names,
    stats: () => ({ ...runner.stats(), laggingHeartbeats: agent.laggingRounds() }),
    close() {
      closing ??= (async () => {
        await agent.stop();
        await runner.stop();
        await nodeInformer.stop();
        if (opts.deleteNodesOnClose) await agent.deleteAll();
        closeNodeClients();
        if (ownClient) client.close();
      })();
      return closing;
    },
  };
}
