// The control-plane components that `mizzen up` starts after the API server.
//
// HOOK: the scheduler and the controller-manager plug in here. Add an entry to
// CONTROL_PLANE_COMPONENTS whose start() imports its module lazily (keeps `mizzen --help` fast)
// and returns something to close on shutdown. They run in-process and talk to the API server over
// its private Unix socket when it has one, else through the admin kubeconfig like any client.

import type { Pki } from '../apiserver/pki.ts';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { newWorker } from './source-worker.ts';
import { ThreadPortClient } from '../metrics/thread-port.ts';
import { join } from 'node:path';
import { nodeNameFromHost } from '../kubelet/node/host-node-name.ts';
import type { UpOptions } from './options.ts';
import type { ApiConnection, ClientComponentSpec } from './client-components.ts';

export interface ComponentContext {
  /** The API server's URL as clients should use it (never a wildcard address). */
  apiServerURL: string;
  /** Path of the admin kubeconfig (written before components start). */
  kubeconfig: string;
  /** Each component's own kubeconfig (DATA_DIR/cred/<component>.kubeconfig), used when there is no socket. */
  componentKubeconfigs?: Partial<Record<ClientComponentSpec['name'], string>>;
  /** PEM of the key that signs ServiceAccount tokens (the tokens controller signs legacy ones). */
  serviceAccountKeyPem?: string;
  /** The API server's private Unix socket, when it serves one: components connect there instead. */
  socketPath?: string;
  /**
   * The API server of this process serving a thread's requests over a MessagePort (its
   * RunningApiServer.acceptPort): a components worker then sends them there, batched per turn of
   * its event loop, instead of over the socket (its watches too, see src/client/watch-stream.ts).
   */
  acceptApiPort?: (port: MessagePort) => void;
  pki: Pki;
  dataDir: string;
  serviceCIDR?: string;
  log: (msg: string) => void;
}

export interface RunningComponent {
  close(): Promise<void>;
  /** A components worker's port: its Prometheus metrics and (if it runs there) the metrics pipeline. */
  port?: ThreadPortClient;
}

export interface ControlPlaneComponent {
  name: string;
  start(ctx: ComponentContext): Promise<RunningComponent>;
}

/**
 * The client components, grouped by the worker thread they run on. `mizzen up` runs them off the
 * main thread: they are API clients like any other, and on their own thread the scheduler and
 * controllers do not wait behind the API server's request handling (measured with
 * `npm run bench -- density` and `-- scheduler`). Simulated nodes stand for other machines and get
 * a thread of their own, so thousands of heartbeats do not delay scheduling.
 */
export interface ComponentSecrets {
  rootCAPem: string;
  /** The CA's key: the controller manager signs approved CertificateSigningRequests with it. */
  caKeyPem?: string;
  serviceAccountKeyPem?: string;
  /** The API server's kubelet client certificate: the metrics pipeline scrapes kubelets with it. */
  kubeletClient?: { cert: string; key: string; ca: string };
}

/** The name of `mizzen up`'s local node: --node-name, else the host's. */
export function localNodeName(opts: Pick<UpOptions, 'node'>): string {
  return opts.node?.name ?? nodeNameFromHost();
}

export function clientComponentGroups(opts: UpOptions, secrets: ComponentSecrets): { name: string; specs: ClientComponentSpec[] }[] {
  const cm: Record<string, unknown> = { rootCAPem: secrets.rootCAPem };
  if (secrets.caKeyPem) {
    cm.clusterSigningCertPem = secrets.rootCAPem;
    cm.clusterSigningKeyPem = secrets.caKeyPem;
  }
  if (secrets.serviceAccountKeyPem) cm.serviceAccountKeyPem = secrets.serviceAccountKeyPem;
  if (opts.nodeMonitorGracePeriodMs !== undefined) cm.nodeMonitorGracePeriodMs = opts.nodeMonitorGracePeriodMs;
  if (opts.podGCPeriodMs !== undefined) cm.podGCPeriodMs = opts.podGCPeriodMs;
  if (opts.hpaSyncPeriodMs !== undefined) cm.hpaSyncPeriodMs = opts.hpaSyncPeriodMs;
  for (const k of ['hpaDownscaleStabilizationMs', 'hpaTolerance', 'hpaCpuInitializationPeriodMs', 'hpaInitialReadinessDelayMs'] as const) if (opts[k] !== undefined) cm[k] = opts[k];
  cm.clusterCIDR = opts.clusterCIDR ?? clusterCIDRFor(opts.simulatedNodes);
  const le = opts.leaderElection ? { leaderElection: { ...opts.leaderElection } } : {};
  // local-path volumes live under the data dir on this machine, as k3s's under its own; the
  // provisioner makes and removes the local node's directories itself (no helper pod).
  cm.localPathDir = join(opts.dataDir, 'storage');
  if (!opts.noKubelet) cm.localNodeName = localNodeName(opts);
  const groups = [
    {
      name: 'controllers',
      specs: [
        { name: 'controller-manager', options: cm, ...le },
        { name: 'scheduler', options: {}, ...le },
      ] as ClientComponentSpec[],
    },
  ];
  // The cloud controllers share the controllers' thread and informers (local provider by default).
  if ((opts.cloudProvider ?? 'local') !== 'none')
    groups[0]!.specs.push({ name: 'cloud-controller-manager', options: { provider: opts.cloudProvider ?? 'local', cloudConfig: opts.cloudConfig, clusterCIDR: cm.clusterCIDR, configureCloudRoutes: opts.configureCloudRoutes }, ...le });
  // The metrics pipeline too: pods and nodes are watched on that thread already.
  groups[0]!.specs.push({ name: 'metrics-server', options: { resolutionMs: opts.metricResolutionMs, kubeletClient: secrets.kubeletClient } });
  if (opts.simulatedNodes > 0)
    groups.push({ name: 'nodes', specs: [{ name: 'simulated-nodes', options: { count: opts.simulatedNodes, capacity: opts.simulatedNodeCapacity, heartbeatOnly: opts.simulatedNodesHeartbeatOnly } }] });
  return groups;
}

/**
 * The default pod network, 10.42.0.0/16, has room for 256 nodes at one /24 each (as k3s). When more
 * simulated nodes are asked for and no --cluster-cidr is given, use a range that fits them.
 */
export function clusterCIDRFor(nodes: number): string {
  if (nodes <= 256) return '10.42.0.0/16';
  const bits = Math.ceil(Math.log2(nodes));
  return `10.${bits > 14 ? 0 : 64}.0.0/${Math.max(8, 24 - bits)}`;
}

/** Started after the API server; stopped before it (in reverse order). */
export function controlPlaneComponents(opts: UpOptions): ControlPlaneComponent[] {
  return clientComponentGroups(opts, { rootCAPem: '' }).map((g) => ({
    name: g.name,
    start: (ctx: ComponentContext) =>
      startComponentsWorker(
        clientComponentGroups(opts, {
          rootCAPem: ctx.pki.caCertPem,
          caKeyPem: ctx.pki.caKeyPem,
          serviceAccountKeyPem: ctx.serviceAccountKeyPem,
          kubeletClient: ctx.pki.kubeletClientCertPem ? { cert: ctx.pki.kubeletClientCertPem, key: ctx.pki.kubeletClientKeyPem, ca: ctx.pki.caCertPem } : undefined,
        }).find((x) => x.name === g.name)!.specs,
        ctx,
      ),
  }));
}

/**
 * The resource metrics pipeline alone on a worker thread, for `mizzen apiserver`: the API server
 * that serves metrics.k8s.io runs the pipeline that answers it, as `mizzen up` does with its
 * controllers (docs/metrics.md, "Standalone API server").
 */
export function startMetricsServerWorker(
  opts: { resolutionMs?: number; kubeletClient?: ComponentSecrets['kubeletClient'] },
  ctx: Pick<ComponentContext, 'kubeconfig' | 'socketPath' | 'log'>,
): Promise<RunningComponent> {
  return startComponentsWorker([{ name: 'metrics-server', options: { resolutionMs: opts.resolutionMs, kubeletClient: opts.kubeletClient } }], ctx);
}

/** How a dead components worker is restarted: after `initialMs`, doubling to `maxMs`; reset once it ran `resetAfterMs`. */
export interface WorkerRestartPolicy {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

/** As a supervisor restarts upstream's kube-scheduler and kube-controller-manager: 1 s doubling to 1 min. */
export const WORKER_RESTART: WorkerRestartPolicy = { initialMs: 1000, maxMs: 60_000, resetAfterMs: 600_000 };

/** The delay before restart number `failures` (1-based) under `policy`. */
export function restartDelayMs(failures: number, policy: WorkerRestartPolicy = WORKER_RESTART): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, failures - 1));
}

interface WorkerMessage {
  type: string;
  name?: string;
  msg?: string;
  error?: string;
}

/**
 * Runs the client components on a worker thread and resolves once all have started. If the thread
 * dies later (an uncaught error in a controller), it is started again after a back-off, with a log
 * line each time: without it the cluster would go on with no scheduler and no controllers. The
 * returned port stays the same object; it is rebound to each new thread.
 */
function startComponentsWorker(
  specs: ClientComponentSpec[],
  ctx: Pick<ComponentContext, 'kubeconfig' | 'componentKubeconfigs' | 'socketPath' | 'acceptApiPort' | 'log'>,
  policy: WorkerRestartPolicy = WORKER_RESTART,
): Promise<RunningComponent> {
  // From the bundle (dist/cli/main.mjs) the worker is its sibling bundle; from sources, tsx runs it.
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSources ? './components-worker.ts' : './components-worker.mjs', import.meta.url);
  let current: Worker | undefined;
  let client: ThreadPortClient | undefined;
  let closing = false;
  let stopped: (() => void) | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let failures = 0;

  /** One thread: resolves with its port once all its components started, rejects if it cannot. */
  const launch = (): Promise<{ worker: Worker; port: MessagePort }> => {
    const channel = new MessageChannel();
    // Requests to the API server of this process over a port of their own (see ComponentContext);
    // each thread gets a new one (the server drops a link when its other end closes).
    const api = ctx.socketPath && ctx.acceptApiPort ? new MessageChannel() : undefined;
    if (api) ctx.acceptApiPort!(api.port1);
    const worker = newWorker(entry, {
      workerData: { specs, connection: { kubeconfig: ctx.kubeconfig, kubeconfigs: ctx.componentKubeconfigs, socketPath: ctx.socketPath } satisfies ApiConnection, port: channel.port2, apiPort: api?.port2 },
      transferList: api ? [channel.port2, api.port2] : [channel.port2],
      // No resourceLimits: the young generation follows bin/mizzen.js's --max-semi-space-size. A
      // 4 MB cap here (for idle RSS) made garbage collection a sixth of this thread's busy time.
      execArgv: [],
    });
    current = worker;
    const startedAt = performance.now();
    let ready = false;
    let lastError: Error | undefined;
    return new Promise((resolve, reject) => {
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'log') ctx.log(m.msg!.startsWith(`${m.name}: `) ? m.msg! : `${m.name}: ${m.msg}`);
        else if (m.type === 'started') ctx.log(`started ${m.name}`);
        else if (m.type === 'failed') {
          reject(new Error(`a control-plane component failed to start: ${m.error}`));
          void worker.terminate();
        } else if (m.type === 'stopped') stopped?.();
        else if (m.type === 'ready') {
          ready = true;
          resolve({ worker, port: channel.port1 });
        }
      });
      worker.on('error', (e) => {
        lastError = e;
        if (!ready) reject(e);
        else ctx.log(`components worker failed: ${e.stack ?? e.message}`);
      });
      worker.on('exit', (code) => {
        if (!ready) reject(lastError ?? new Error(`the components worker exited with code ${code} before it was ready`));
        else if (!closing && current === worker) {
          // A run long enough counts as healthy: the next failure starts the back-off again.
          if (performance.now() - startedAt >= policy.resetAfterMs) failures = 0;
          scheduleRestart(`exited with code ${code}`);
        }
      });
    });
  };

  const scheduleRestart = (why: string) => {
    current = undefined;
    failures++;
    const delay = restartDelayMs(failures, policy);
    ctx.log(`components worker ${why}; restarting it in ${(delay / 1000).toFixed(1)}s (restart ${failures})`);
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (closing) return;
      launch().then(
        ({ worker, port }) => {
          if (closing) return void worker.terminate();
          client!.rebind(port);
          ctx.log('components worker restarted');
        },
        (e: Error) => {
          if (!closing) scheduleRestart(`could not start again (${e.message.split('\n')[0]})`);
        },
      );
    }, delay);
  };

  return launch().then(({ port }) => {
    client = new ThreadPortClient(port);
    return {
      port: client,
      close: () =>
        new Promise<void>((done) => {
          closing = true;
          clearTimeout(restartTimer);
          client!.close();
          const worker = current;
          if (!worker) return done();
          const timer = setTimeout(() => void worker.terminate().then(() => done()), 10_000);
          stopped = () => {
            clearTimeout(timer);
            void worker.terminate().then(() => done());
          };
          worker.postMessage({ type: 'stop' });
        }),
    };
  });
}
