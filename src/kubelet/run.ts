// A real node on this machine, start to finish: what `mizzen up` (the local node), `mizzen
// kubelet` and `mizzen agent` run.
//
//   prerequisites (installed with apt-get when root, else a one-line "what is missing")
//   → container runtime (our containerd, or --container-runtime-endpoint)
//   → register the Node (or adopt it), Lease and status loop
//   → wait for spec.podCIDR (the node IPAM controller assigns it) → configure the pod network
//   → the pod workers (src/kubelet/core) → the kubelet's HTTPS server with stats
//   → HOOKS: cluster DNS and the service proxy on this node (other work plugs them in here).
//
// startNode never throws for a machine that cannot run a node (missing packages, not root): it
// answers { ok: false, message } and the caller runs on without a node.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KObject } from '../api/types.ts';
import { ApiClient } from '../client/api-client.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { KubeletAuth } from './auth/kubelet-auth.ts';
import { ensurePrerequisites, type PrerequisitePaths } from './prerequisites.ts';
import { startNodeRuntime, type NodeRuntime } from './node-runtime.ts';
import { NodeController } from './node/node-controller.ts';
import { nodeAddresses, nodeInternalIP, readMachineInfo } from './node/machine-info.ts';
import type { Taint } from './node/node-object.ts';
import type { ResourceOptions } from './node/resources.ts';
import { DEFAULT_KUBELET_PORT, startKubeletServer, type RunningKubeletServer } from './server/server.ts';
import { criLogSource, criStreamingRuntime } from './server/cri-runtime.ts';
import type { ContainerLogSource, KubeletPods, StreamingRuntime } from './server/types.ts';
import { NodeStatsProvider } from './stats/provider.ts';
import { DEFAULT_BRIDGE } from './network/cni-config.ts';

/** What a node service (cluster DNS, service proxy) gets when it starts beside the kubelet. */
export interface NodeServiceContext {
  nodeName: string;
  /** The node's own API client (system:node:<name>). */
  client: ApiClient;
  kubeconfig: string;
  dataDir: string;
  /** The Node as last seen. */
  getNode(): KObject | undefined;
  podCIDR: string;
  clusterCIDR?: string;
  serviceCIDR?: string;
  clusterDNS: string[];
  clusterDomain: string;
  /** The pod network's Linux bridge (where the proxy's host routes for cluster IPs point). */
  podBridge: string;
  log: (msg: string) => void;
}

export interface RunningNodeService {
  close(): Promise<void>;
  /** Instead of close() on `stop({ cleanup: true })`: close, then remove what it put in the kernel. */
  cleanup?(): Promise<void>;
}

export type NodeService = (ctx: NodeServiceContext) => Promise<RunningNodeService>;

/** The pod workers, as the kubelet server needs them (src/kubelet/core's Kubelet gives all three). */
export interface RunningPods {
  pods: KubeletPods;
  streaming: StreamingRuntime;
  logs: ContainerLogSource;
  stop(): Promise<void>;
}

export interface StartNodeOptions {
  /** kubeconfig of the node's own identity, system:node:<name> (never the admin's). */
  kubeconfig: string;
  nodeName: string;
  /** Where the node keeps its state: containerd/, cni/, pods/ (logs), kubelet/ (root dir), pki/. */
  dataDir: string;
  /** Use an existing CRI runtime instead of our own containerd. */
  containerRuntimeEndpoint?: string;
  clusterCIDR?: string;
  serviceCIDR?: string;
  /** --cluster-dns (the DNS Service's ClusterIP) and --cluster-domain. */
  clusterDNS?: string[];
  clusterDomain?: string;
  nodeIP?: string;
  nodeLabels?: Record<string, string>;
  registerWithTaints?: Taint[];
  /** --cloud-provider=external: register with the uninitialized taint. */
  externalCloudProvider?: boolean;
  resources?: ResourceOptions;
  /** HTTPS port of the kubelet (default 10250; 0 = any free one). */
  port?: number;
  /**
   * The serving certificate: given, or issued from the cluster CA (the local node of `mizzen up`,
   * which holds the CA key). `clientCA` checks client certificates (default: the kubeconfig's CA).
   */
  serving?: { cert: string; key: string } | { ca: { certPem: string; keyPem: string } };
  clientCA?: string;
  /** Install missing packages with apt-get when root (default true). */
  installPrerequisites?: boolean;
  /** Prefix of the pods' cgroups (`<root>/kubepods/...`; default none); tests use their own. */
  cgroupRoot?: string;
  /** Pod bridge and CNI network name (tests use their own). */
  bridge?: string;
  networkName?: string;
  /** Shorter intervals for tests. */
  statusIntervalMs?: number;
  leaseRenewIntervalMs?: number;
  /** --node-lease-duration-seconds (default 40): the Lease's duration; renewed every quarter of it unless leaseRenewIntervalMs says otherwise. */
  nodeLeaseDurationSeconds?: number;
  /** The pod workers; default src/kubelet/core's Kubelet. */
  startPods?: (ctx: PodsContext) => Promise<RunningPods>;
  /** HOOK (dns): cluster DNS on this node, started once the pod network is up. */
  startDNS?: NodeService;
  /** HOOK (proxy): the service proxy on this node, started once the pod network is up. */
  startProxy?: NodeService;
  /** Called as the start-up progresses (`mizzen up` prints these). */
  progress?: (msg: string) => void;
  log: (msg: string) => void;
}

export interface PodsContext {
  client: ApiClient;
  nodeName: string;
  runtime: NodeRuntime;
  rootDir: string;
  cgroupRoot: string;
  clusterDNS: string[];
  clusterDomain: string;
  getNode(): KObject | undefined;
  pressureConditions(): string[];
  log: (msg: string) => void;
}

export interface RunningNode {
  nodeName: string;
  runtime: NodeRuntime;
  controller: NodeController;
  server: RunningKubeletServer;
  client: ApiClient;
  /** Resolves once the node is Ready as the API server sees it (pod network configured). */
  ready: Promise<void>;
  /**
   * Stops the kubelet; containers keep running (a new kubelet adopts them). With `cleanup`, every
   * pod sandbox and container is removed too, then the pod network, routes and CNI config.
   */
  stop(opts?: { cleanup?: boolean }): Promise<void>;
}

export type StartNodeResult = { ok: true; node: RunningNode } | { ok: false; message: string };

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** Why this machine cannot run a node, before anything is installed (not Linux, not root). */
export function nodeUnsupportedReason(): string | undefined {
  if (process.platform !== 'linux') return `no local node: a node needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'no local node: running a node needs root (containerd, the pod network, routes); run as root, or pass --no-kubelet';
  return undefined;
}

export async function startNode(o: StartNodeOptions): Promise<StartNodeResult> {
  const log = o.log;
  const progress = o.progress ?? log;
  const unsupported = nodeUnsupportedReason();
  if (unsupported) return { ok: false, message: unsupported };
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  let tools: PrerequisitePaths | undefined;
  if (o.installPrerequisites !== false) {
    const prereq = await ensurePrerequisites({ log: progress, aptLogFile: join(o.dataDir, 'apt.log') });
    if (!prereq.ok) return { ok: false, message: prereq.message };
    tools = prereq.paths;
  }

  const rootDir = join(o.dataDir, 'kubelet');
  await mkdir(rootDir, { recursive: true, mode: 0o750 });
  const kc = loadKubeconfig(o.kubeconfig);
  const client = new ApiClient({ ...kc, maxSockets: 32, userAgent: `mizzen-kubelet/0.1 (${o.nodeName})` });
  const stack: (() => Promise<void>)[] = [];
  const undo = async () => {
    for (const f of stack.reverse()) await f().catch((e) => log(`while stopping: ${(e as Error).message}`));
  };
  try {
    const runtime = await startNodeRuntime({
      dataDir: o.dataDir,
      containerRuntimeEndpoint: o.containerRuntimeEndpoint,
      clusterCIDR: o.clusterCIDR,
      serviceCIDR: o.serviceCIDR,
      bridge: o.bridge,
      networkName: o.networkName,
      tools,
      log,
    });
    let cleanupOnStop = false;
    stack.push(() => runtime.stop({ cleanup: cleanupOnStop }));
    // --cleanup: the pods go too (after the pod workers stopped, before the runtime does).
    stack.push(async () => {
      if (cleanupOnStop) await removeAllPods(runtime, log);
    });

    const internalIP = nodeInternalIP(o.nodeIP);
    const port = o.port ?? DEFAULT_KUBELET_PORT;
    let networkReady = false;
    // The server's port is known only once it listens (port 0 in tests): the controller reads it late.
    let servedPort = port;
    const controller = new NodeController({
      client,
      nodeName: o.nodeName,
      rootDir,
      imageFsDir: runtime.supervisor ? runtime.paths.root : undefined,
      cri: runtime.cri,
      runtimeVersion: runtime.version,
      addresses: nodeAddresses(o.nodeName, internalIP),
      get kubeletPort() {
        return servedPort;
      },
      labels: o.nodeLabels,
      taints: o.registerWithTaints,
      externalCloudProvider: o.externalCloudProvider,
      resources: o.resources,
      readinessErrors: () => (networkReady ? [] : ['network not configured yet: waiting for the node\'s podCIDR']),
      statusIntervalMs: o.statusIntervalMs,
      leaseRenewIntervalMs: o.leaseRenewIntervalMs ?? (o.nodeLeaseDurationSeconds === undefined ? undefined : o.nodeLeaseDurationSeconds * 250),
      leaseDurationSeconds: o.nodeLeaseDurationSeconds,
      log,
    });

    // The server first, so the registered Node names a port that answers.
    const serving = await servingCertificate(o, internalIP);
    const machine = readMachineInfo(rootDir);
    const stats = new NodeStatsProvider({
      nodeName: o.nodeName,
      cri: runtime.cri,
      rootDir,
      podsCgroup: `${o.cgroupRoot ?? ''}/kubepods`,
      runtimePid: () => runtime.supervisor?.pid,
      memoryCapacityBytes: machine.memoryBytes,
    });
    let pods: RunningPods | undefined;
    const lazyPods: KubeletPods = {
      list: () => pods?.pods.list() ?? [],
      get: (ns, name, uid) => pods?.pods.get(ns, name, uid),
      sandboxId: (p) => pods?.pods.sandboxId(p),
      runningContainerId: (p, c) => pods?.pods.runningContainerId(p, c),
    };
    const criStreaming = criStreamingRuntime(runtime.cri);
    const criLogs = criLogSource(runtime.cri);
    const server = await startKubeletServer({
      nodeName: o.nodeName,
      port,
      tls: { cert: serving.cert, key: serving.key, clientCA: o.clientCA ?? kc.ca ?? '' },
      pods: lazyPods,
      runtime: { exec: (r) => (pods?.streaming ?? criStreaming).exec(r), attach: (r) => (pods?.streaming ?? criStreaming).attach(r), portForward: (r) => (pods?.streaming ?? criStreaming).portForward(r) },
      logs: { logPath: (id) => (pods?.logs ?? criLogs).logPath(id), isRunning: (id) => (pods?.logs ?? criLogs).isRunning(id) },
      stats,
      auth: new KubeletAuth({ client, nodeName: o.nodeName }),
      log,
    });
    servedPort = server.port;
    stack.push(() => server.close());

    await controller.register();
    stack.push(() => controller.stop());
    controller.start();
    progress(`node ${o.nodeName} registered (${internalIP}, kubelet on port ${server.port}); waiting for its podCIDR`);

    const stopped = new AbortController();
    stack.push(async () => stopped.abort());
    const clusterDNS = o.clusterDNS ?? [];
    const clusterDomain = o.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
    const services: RunningNodeService[] = [];
    stack.push(async () => {
      for (const s of services.reverse()) await (cleanupOnStop && s.cleanup ? s.cleanup() : s.close()).catch((e) => log(`node service: ${(e as Error).message}`));
    });

    // The rest happens in the background: a node without a podCIDR is registered, NotReady.
    const ready = (async () => {
      const podCIDR = await controller.waitForPodCIDR(stopped.signal);
      await runtime.configurePodNetwork(podCIDR);
      networkReady = true;
      progress(`pod network ${podCIDR} configured on node ${o.nodeName}`);
      const startPods = o.startPods ?? defaultStartPods;
      pods = await startPods({
        client,
        nodeName: o.nodeName,
        runtime,
        rootDir,
        cgroupRoot: o.cgroupRoot ?? '',
        clusterDNS,
        clusterDomain,
        getNode: () => controller.getNode(),
        pressureConditions: () => pressureTypes(controller),
        log,
      });
      stack.push(() => pods!.stop());
      const ctx: NodeServiceContext = { nodeName: o.nodeName, client, kubeconfig: o.kubeconfig, dataDir: o.dataDir, getNode: () => controller.getNode(), podCIDR, clusterCIDR: o.clusterCIDR, serviceCIDR: o.serviceCIDR, clusterDNS, clusterDomain, podBridge: o.bridge ?? DEFAULT_BRIDGE, log };
      // HOOKS: cluster DNS and the service proxy (their branches wire these in at merge).
      // A node service that cannot start is told, not fatal: the node and its pods run on without it.
      const startService = async (what: string, start: NodeService | undefined) => {
        if (!start || stopped.signal.aborted) return;
        try {
          services.push(await start(ctx));
        } catch (e) {
          log(`${what} did not start: ${(e as Error).message}`);
        }
      };
      await startService('cluster DNS', o.startDNS);
      await startService('service proxy', o.startProxy);
      await controller.syncStatusNow();
      await waitUntilReady(controller, stopped.signal);
    })();
    ready.catch((e) => {
      if (!stopped.signal.aborted) log(`node ${o.nodeName} did not come up: ${(e as Error).message}`);
    });

    let stopping: Promise<void> | undefined;
    return {
      ok: true,
      node: {
        nodeName: o.nodeName,
        runtime,
        controller,
        server,
        client,
        ready,
        stop(opts = {}) {
          cleanupOnStop = !!opts.cleanup;
          stopping ??= undo().finally(() => client.close());
          return stopping;
        },
      },
    };
  } catch (e) {
    await undo();
    client.close();
    throw e;
  }
}

/** Stops and removes every pod sandbox (and so its containers) on the runtime. */
export async function removeAllPods(runtime: NodeRuntime, log: (m: string) => void): Promise<void> {
  const sandboxes = await runtime.cri.listPodSandbox(undefined, { timeoutMs: 10_000 }).catch(() => []);
  for (const sb of sandboxes) {
    await runtime.cri.stopPodSandbox(sb.id, { timeoutMs: 60_000 }).catch((e) => log(`stopping sandbox ${sb.id}: ${(e as Error).message}`));
    await runtime.cri.removePodSandbox(sb.id, { timeoutMs: 60_000 }).catch((e) => log(`removing sandbox ${sb.id}: ${(e as Error).message}`));
  }
  if (sandboxes.length) log(`removed ${sandboxes.length} pod sandbox(es)`);
}

function pressureTypes(c: NodeController): string[] {
  const p = c.pressure();
  return [p.memory && 'MemoryPressure', p.disk && 'DiskPressure', p.pid && 'PIDPressure'].filter((x): x is string => !!x);
}

async function waitUntilReady(c: NodeController, signal: AbortSignal): Promise<void> {
  for (;;) {
    if (signal.aborted) throw new Error('stopped');
    const ready = (c.getNode()?.status?.conditions ?? []).find((x: any) => x.type === 'Ready');
    if (ready?.status === 'True') return;
    await new Promise((r) => setTimeout(r, 200));
    await c.syncStatusNow().catch(() => {});
  }
}

async function servingCertificate(o: StartNodeOptions, internalIP: string): Promise<{ cert: string; key: string }> {
  const s = o.serving;
  if (s && 'cert' in s) return s;
  if (s && 'ca' in s) {
    // Loaded only here: the certificate code (@peculiar/x509) is a large part of a small process.
    const { ensureKubeletServingCert } = await import('../apiserver/pki.ts');
    const c = await ensureKubeletServingCert(join(o.dataDir, 'pki'), s.ca, o.nodeName, [internalIP]);
    return { cert: c.certPem, key: c.keyPem };
  }
  const { ensureServingCertFromCSR } = await import('./node/serving-cert.ts');
  return ensureServingCertFromCSR({ kubeconfig: o.kubeconfig, nodeName: o.nodeName, hosts: [o.nodeName, internalIP], dir: join(o.dataDir, 'pki'), log: o.progress ?? o.log });
}

/** The pod workers of src/kubelet/core. */
async function defaultStartPods(ctx: PodsContext): Promise<RunningPods> {
  const { Kubelet } = await import('./core/kubelet.ts');
  const kubelet = new Kubelet({
    client: ctx.client,
    nodeName: ctx.nodeName,
    runtime: ctx.runtime,
    rootDir: ctx.rootDir,
    cgroupRoot: ctx.cgroupRoot,
    clusterDNS: ctx.clusterDNS,
    clusterDomain: ctx.clusterDomain,
    log: ctx.log,
    getNode: ctx.getNode as () => any,
  });
  await kubelet.start();
  return { pods: kubelet.podsView(), streaming: kubelet.streaming(), logs: kubelet.logSource(), stop: () => kubelet.stop() };
}
