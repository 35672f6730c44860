// The controller manager: one client, one set of shared informers, and every registered controller,
// run only while this process holds the kube-system/kube-controller-manager Lease.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { ApiClient } from '../client/api-client.ts';
import { EventRecorder } from '../client/event-recorder.ts';
import { SharedInformerFactory, trimForCache, type InformerFactory } from '../client/informer.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { LeaderElector } from '../client/leader-election.ts';
import { serviceAccountClients, sharedClient, type ControllerClients } from './controller-clients.ts';
import { controllerFactories } from './registry.ts';
import { defaultControllerManagerOptions, type Controller, type ControllerContext, type ControllerFactory, type ControllerManagerOptions } from './types.ts';
import { parseDuration } from '../machinery/duration.ts';
import { leaderElectionFlags, leaderElectionTiming, type LeaderElectionTiming } from '../cli/leader-election-flags.ts';
import { HPA_FLAGS, HPA_FLAG_HELP, hpaFlagOptions } from './podautoscaler/flags.ts';
import { maybeStartComponentServer, securePortFlags, type RunningComponentServer } from '../metrics/component-server.ts';

export const LEASE_NAMESPACE = 'kube-system';
export const LEASE_NAME = 'kube-controller-manager';

export type { LeaderElectionTiming };

export interface ControllerManagerStartOptions {
  kubeconfig?: string;
  client?: ApiClient;
  options?: Partial<ControllerManagerOptions>;
  /** Controller names to run; default every one in the registry. */
  controllers?: string[];
  /** Default true. */
  leaderElect?: boolean;
  identity?: string;
  /** Lease timing (upstream defaults 15 s / 10 s / 2 s); tests shorten it. */
  leaderElection?: LeaderElectionTiming;
  log?: (m: string) => void;
  /**
   * Informers shared with other components of this thread (the scheduler); each leadership term
   * then registers on a scope of it instead of running its own watches.
   */
  informers?: SharedInformerFactory;
  /**
   * Each controller acts as its own ServiceAccount in kube-system (upstream's
   * --use-service-account-credentials, default true here as in kubeadm and k3s); otherwise every
   * controller uses the manager's own credentials.
   */
  useServiceAccountCredentials?: boolean;
  /**
   * Another manager built on this one (the cloud controller manager): its controllers by name
   * (default the registry's), its Lease name and the name its logs carry.
   */
  factories?: Record<string, ControllerFactory>;
  leaseName?: string;
  component?: string;
}

export interface RunningControllerManager {
  close(): Promise<void>;
  isLeader(): boolean;
}

/** The controllers and informers of one leadership term. */
interface Term {
  informers: InformerFactory;
  controllers: Controller[];
  recorders: EventRecorder[];
  stopped: boolean;
}

export async function startControllerManager(opts: ControllerManagerStartOptions): Promise<RunningControllerManager> {
  const log = opts.log ?? ((m: string) => console.error(m));
  const ownClient = !opts.client;
  const client =
    opts.client ??
    new ApiClient({ ...loadKubeconfig(opts.kubeconfig), maxSockets: 128, userAgent: 'mizzen-controller-manager/0.1' });
  const options: ControllerManagerOptions = { ...defaultControllerManagerOptions, ...opts.options };
  const factories = opts.factories ?? controllerFactories;
  const component = opts.component ?? 'controller-manager';
  const names = opts.controllers ?? Object.keys(factories);
  for (const n of names) if (!factories[n]) throw new Error(`unknown controller "${n}" (known: ${Object.keys(factories).join(', ')})`);
  const identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
  const useSA = opts.useServiceAccountCredentials ?? true;
  const kubeconfig = opts.kubeconfig && !client.overPrivateSocket ? loadKubeconfig(opts.kubeconfig) : undefined;
  // ServiceAccount credentials need a way to present them: the private socket, or a kubeconfig to
  // build token clients from. A manager handed only a TLS client (tests) uses that client throughout.
  const credentials: ControllerClients = !useSA || (!kubeconfig && !client.overPrivateSocket)
    ? sharedClient(client)
    : serviceAccountClients(
        client,
        log,
        kubeconfig
          ? (tokenSource) =>
              new ApiClient({ server: kubeconfig.server, ca: kubeconfig.ca, tlsServerName: kubeconfig.tlsServerName, insecureSkipTLSVerify: kubeconfig.insecureSkipTLSVerify, tokenSource, maxSockets: 64, userAgent: 'mizzen-controller-manager/0.1' })
          : undefined,
      );

  let term: Term | undefined;
  // Start/stop run one at a time, so a quick lose-then-win cannot overlap two terms.
  let transitions: Promise<void> = Promise.resolve();
  const serially = (fn: () => Promise<void>) => {
    transitions = transitions.then(fn).catch((e) => log(`${component}: ${(e as Error).stack ?? e}`));
    return transitions;
  };

  const startTerm = async () => {
    if (closed) return;
    const informers = opts.informers ? opts.informers.scope() : new SharedInformerFactory(client, { log, transform: trimForCache({ sharePodParts: true }) });
    const recorders: EventRecorder[] = [];
    const contextFor = (c: ApiClient): ControllerContext => ({
      client: c,
      informers,
      options,
      log,
      recorder(component) {
        const r = new EventRecorder(c, { source: { component }, log });
        recorders.push(r);
        return r;
      },
    });
    const t: Term = { informers, controllers: [], recorders, stopped: false };
    term = t;
    const clients = await Promise.all(
      names.map((n) =>
        credentials.clientFor(n).catch((e) => {
          log(`controller-manager: no credentials for controller ${n}: ${(e as Error).message}`);
          return undefined;
        }),
      ),
    );
    if (t.stopped) return;
    names.forEach((n, i) => {
      const c = clients[i];
      if (!c) return;
      try {
        t.controllers.push(factories[n]!(contextFor(c)));
      } catch (e) {
        log(`${component}: failed to build controller ${n}: ${(e as Error).message}`);
      }
    });
    informers.start();
    await informers.waitForCacheSync();
    if (t.stopped) return;
    for (const c of t.controllers) {
      c.run();
    }
    log(`${component}: started ${t.controllers.length} controllers: ${t.controllers.map((c) => c.name).join(', ')}`);
  };

  const stopTerm = async () => {
    const t = term;
    if (!t) return;
    term = undefined;
    t.stopped = true;
    await Promise.all(t.controllers.map((c) => c.stop().catch((e) => log(`${component}: stopping ${c.name}: ${(e as Error).message}`))));
    await t.informers.stop();
    await Promise.all(t.recorders.map((r) => r.flush()));
  };

  let closed = false;
  let elector: LeaderElector | undefined;
  let campaign: Promise<void> | undefined;
  const leaderElect = opts.leaderElect ?? true;

  if (!leaderElect) {
    await serially(startTerm);
  } else {
    // Upstream exits when it loses the lease; we stop our controllers and campaign again instead.
    const runCampaigns = async () => {
      while (!closed) {
        elector = new LeaderElector({
          client,
          namespace: LEASE_NAMESPACE,
          name: opts.leaseName ?? LEASE_NAME,
          identity,
          ...opts.leaderElection,
          log,
          onStartedLeading: () => {
            log(`${component}: ${identity} became leader`);
            void serially(startTerm);
          },
          onStoppedLeading: () => {
            log(`${component}: ${identity} stopped leading`);
            void serially(stopTerm);
          },
        });
        await elector.run();
      }
    };
    campaign = runCampaigns();
  }

  return {
    isLeader: () => (leaderElect ? (elector?.isLeader() ?? false) : true),
    async close() {
      if (closed) return;
      closed = true;
      // Stop controllers first so nothing acts after we give the lease away.
      await serially(stopTerm);
      await elector?.stop();
      await campaign;
      await serially(stopTerm);
      credentials.close();
      if (ownClient) client.close();
    },
  };
}

/** For `mizzen up`: the controller manager as a component. */
export function controllerManagerComponent(options?: Omit<ControllerManagerStartOptions, 'kubeconfig' | 'client' | 'log'>) {
  return {
    name: 'controller-manager',
    /** With ctx.client the kubeconfig is not read (the caller owns and closes that client). */
    async start(ctx: { kubeconfig: string; client?: ApiClient; log: (m: string) => void; informers?: SharedInformerFactory }): Promise<{ close(): Promise<void> }> {
      return startControllerManager({ ...options, kubeconfig: ctx.kubeconfig, client: ctx.client, log: ctx.log, informers: ctx.informers });
    },
  };
}

const USAGE = `Usage: mizzen controller-manager --kubeconfig FILE [flags]

Runs the Kubernetes controllers against an API server.

Flags:
  --kubeconfig FILE                   kubeconfig of the API server (required)
  --controllers a,b,...               controllers to run (default: all). Known: ${Object.keys(controllerFactories).join(', ')}
  --node-monitor-grace-period DUR     time before an unresponsive node is marked unhealthy (default 50s)
  --node-monitor-period DUR           how often node health is checked (default 5s)
  --pod-gc-period DUR                 how often the pod garbage collector runs; a deleted node's pods
                                      go after twice this (default 20s)
  --cluster-cidr CIDR                 pod address range for node IPAM (default 10.42.0.0/16)
  --node-cidr-mask-size N             per-node pod range mask size (default 24)
  --concurrent-syncs N                workers per controller (default 5)
  --leader-elect BOOL                 take the kube-system/kube-controller-manager lease before running (default true)
  --use-service-account-credentials BOOL
                                      each controller acts as its own ServiceAccount in kube-system (default true)
  --root-ca-file FILE                 CA published as kube-root-ca.crt and put in legacy token Secrets
  --service-account-private-key-file FILE
                                      key that signs legacy ServiceAccount token Secrets
  --cluster-signing-cert-file FILE    CA that signs approved CertificateSigningRequests
  --cluster-signing-key-file FILE     its key
  --leader-elect-lease-duration DUR   a standby takes over this long after the leader's last renewal (default 15s)
  --leader-elect-renew-deadline DUR   the leader steps down when it cannot renew for this long (default 10s)
  --leader-elect-retry-period DUR     how often to try to take or renew the lease (default 2s)
  --local-path-dir DIR                where local-path volumes go on nodes local-path-config does not name (default /var/lib/mizzen/storage)
${HPA_FLAG_HELP}
  --secure-port PORT                  HTTPS port of /metrics and /healthz (default 10257; 0 = none)
  --bind-address ADDR                 address of the secure port (default 0.0.0.0)
  -h, --help                          show this help
`;

/** `mizzen controller-manager ...`: runs until SIGINT/SIGTERM; returns the exit code. */
export async function runControllerManagerCommand(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        controllers: { type: 'string' },
        'node-monitor-grace-period': { type: 'string' },
        'node-monitor-period': { type: 'string' },
        'pod-gc-period': { type: 'string' },
        'cluster-cidr': { type: 'string' },
        'node-cidr-mask-size': { type: 'string' },
        'concurrent-syncs': { type: 'string' },
        'leader-elect': { type: 'string' },
        'use-service-account-credentials': { type: 'string' },
        'root-ca-file': { type: 'string' },
        'service-account-private-key-file': { type: 'string' },
        'cluster-signing-cert-file': { type: 'string' },
        'cluster-signing-key-file': { type: 'string' },
        ...leaderElectionFlags,
        'local-path-dir': { type: 'string' },
        ...HPA_FLAGS,
        'secure-port': { type: 'string' },
        'bind-address': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const fail = (msg: string) => {
    process.stderr.write(`error: ${msg}\n\n${USAGE}`);
    return 2;
  };
  if (!values.kubeconfig) return fail('--kubeconfig is required');
  const options: Partial<ControllerManagerOptions> = {};
  try {
    if (values['node-monitor-grace-period']) options.nodeMonitorGracePeriodMs = parseDuration(String(values['node-monitor-grace-period']));
    if (values['node-monitor-period']) options.nodeMonitorPeriodMs = parseDuration(String(values['node-monitor-period']));
    if (values['pod-gc-period']) options.podGCPeriodMs = parseDuration(String(values['pod-gc-period']));
  } catch (e) {
    return fail((e as Error).message);
  }
  let secure: { port: number; bindAddress: string };
  try {
    Object.assign(options, hpaFlagOptions(values));
    secure = securePortFlags(values, 10257);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (values['cluster-cidr']) options.clusterCIDR = String(values['cluster-cidr']);
  if (values['local-path-dir']) options.localPathDir = String(values['local-path-dir']);
  for (const [flag, key] of [
    ['node-cidr-mask-size', 'nodeCIDRMaskSize'],
    ['concurrent-syncs', 'workers'],
  ] as const) {
    if (values[flag] === undefined) continue;
    const n = Number(values[flag]);
    if (!Number.isInteger(n) || n <= 0) return fail(`--${flag} must be a positive integer`);
    options[key] = n;
  }
  let leaderElect = true;
  if (values['leader-elect'] !== undefined) {
    const v = String(values['leader-elect']);
    if (v !== 'true' && v !== 'false') return fail('--leader-elect must be true or false');
    leaderElect = v === 'true';
  }
  let leaderElection: LeaderElectionTiming | undefined;
  try {
    leaderElection = leaderElectionTiming(values);
  } catch (e) {
    return fail((e as Error).message);
  }
  let useServiceAccountCredentials = true;
  if (values['use-service-account-credentials'] !== undefined) {
    const v = String(values['use-service-account-credentials']);
    if (v !== 'true' && v !== 'false') return fail('--use-service-account-credentials must be true or false');
    useServiceAccountCredentials = v === 'true';
  }
  for (const [flag, key] of [
    ['root-ca-file', 'rootCAPem'],
    ['service-account-private-key-file', 'serviceAccountKeyPem'],
    ['cluster-signing-cert-file', 'clusterSigningCertPem'],
    ['cluster-signing-key-file', 'clusterSigningKeyPem'],
  ] as const) {
    if (values[flag] === undefined) continue;
    try {
      options[key] = readFileSync(String(values[flag]), 'utf8');
    } catch (e) {
      return fail(`cannot read --${flag}: ${(e as Error).message}`);
    }
  }
  let controllers: string[] | undefined;
  if (values.controllers) {
    controllers = String(values.controllers)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = controllers.filter((c) => !controllerFactories[c]);
    if (unknown.length) return fail(`unknown controller(s): ${unknown.join(', ')}`);
  }
  const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
  let cm: RunningControllerManager;
  // The secure port asks the API server about each scrape with the manager's own credentials.
  const portClient = new ApiClient({ ...loadKubeconfig(String(values.kubeconfig)), maxSockets: 4, userAgent: 'mizzen-controller-manager/0.1' });
  let securePort: RunningComponentServer | undefined;
  try {
    securePort = await maybeStartComponentServer({ name: 'kube-controller-manager', client: portClient, ...secure, log });
    cm = await startControllerManager({ kubeconfig: String(values.kubeconfig), options, controllers, leaderElect, leaderElection, useServiceAccountCredentials, log });
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    await securePort?.close();
    portClient.close();
    return 1;
  }
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await cm.close();
  await securePort?.close();
  portClient.close();
  return 0;
}
