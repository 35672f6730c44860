// The cloud controller manager: a cloud provider and the cloud controllers (node, node lifecycle,
// service load balancers, routes), run only while this process holds the Lease
// kube-system/cloud-controller-manager. It reuses the controller manager's machinery (terms,
// shared informers, recorders); the provider starts and stops with each term, so a manager that
// loses the lease also closes what the provider opened (the local load balancer's listeners).

import { parseArgs } from 'node:util';
import type { ApiClient } from '../client/api-client.ts';
import type { SharedInformerFactory } from '../client/informer.ts';
import { startControllerManager, type LeaderElectionTiming, type RunningControllerManager } from '../controllers/manager.ts';
import { leaderElectionFlags, leaderElectionTiming } from '../cli/leader-election-flags.ts';
import { parseDuration } from '../machinery/duration.ts';
import { cloudControllerFactories, cloudManagerFactories, CONTROLLER_ALIASES } from './controllers/index.ts';
import { defaultCloudControllerOptions, type CloudControllerOptions } from './controllers/options.ts';
import type { CloudProvider } from './provider.ts';
import { cloudProviders, loadCloudProvider } from './registry.ts';
import { parseCIDR } from './cidr.ts';

export const CLOUD_LEASE_NAME = 'cloud-controller-manager';

export interface CloudControllerManagerStartOptions {
  kubeconfig?: string;
  client?: ApiClient;
  informers?: SharedInformerFactory;
  /** A registered provider's name, or a provider object (tests' doubles). */
  provider: string | CloudProvider;
  /** Path of the --cloud-config file. */
  cloudConfig?: string;
  /** Passed to the provider (tests: explicit credentials and clients). */
  providerOverrides?: Record<string, unknown>;
  options?: Partial<CloudControllerOptions>;
  controllers?: string[];
  leaderElect?: boolean;
  identity?: string;
  leaderElection?: LeaderElectionTiming;
  log?: (m: string) => void;
}

/** Load the provider (a bad cloud-config fails here, before anything runs) and start the manager. */
export async function startCloudControllerManager(o: CloudControllerManagerStartOptions): Promise<RunningControllerManager & { provider: CloudProvider }> {
  const log = o.log ?? ((m: string) => console.error(m));
  const options: CloudControllerOptions = { ...defaultCloudControllerOptions, ...o.options };
  const provider = typeof o.provider === 'string' ? await loadCloudProvider(o.provider, o.cloudConfig, { overrides: o.providerOverrides, log }) : o.provider;
  const { factories, skipped } = cloudManagerFactories(provider, options, o.controllers);
  for (const s of skipped) log(`cloud-controller-manager: not running ${s}`);
  const running = await startControllerManager({
    kubeconfig: o.kubeconfig,
    client: o.client,
    informers: o.informers,
    factories,
    leaseName: CLOUD_LEASE_NAME,
    component: 'cloud-controller-manager',
    // The cloud controllers act as the cloud controller manager itself (system:cloud-controller-manager,
    // whose ClusterRole is written for them), as k3s runs them; not as per-controller ServiceAccounts.
    useServiceAccountCredentials: false,
    leaderElect: o.leaderElect,
    identity: o.identity,
    leaderElection: o.leaderElection,
    log,
  });
  return { ...running, provider };
}

/** For `mizzen up`: the cloud controller manager as a component (local provider by default). */
export function cloudControllerManagerComponent(
  opts: { provider?: string; cloudConfig?: string; options?: Partial<CloudControllerOptions>; leaderElection?: LeaderElectionTiming } = {},
) {
  return {
    name: 'cloud-controller-manager',
    async start(ctx: { kubeconfig: string; client?: ApiClient; log: (m: string) => void; informers?: SharedInformerFactory }): Promise<{ close(): Promise<void> }> {
      return startCloudControllerManager({
        provider: opts.provider ?? 'local',
        cloudConfig: opts.cloudConfig,
        options: opts.options,
        kubeconfig: ctx.kubeconfig,
        client: ctx.client,
        informers: ctx.informers,
        leaderElection: opts.leaderElection,
        log: ctx.log,
      });
    },
  };
}

export const CLOUD_CONTROLLER_MANAGER_USAGE = `Usage: mizzen cloud-controller-manager --kubeconfig FILE --cloud-provider NAME [flags]

Run the cloud controllers in the foreground against an API server: initialise nodes with the
cloud's facts, delete nodes whose machines are gone, give type LoadBalancer Services a load
balancer, and program routes to pod ranges. Takes part in leader election through the Lease
kube-system/${CLOUD_LEASE_NAME}, so several can run and one acts.

Flags:
  --kubeconfig FILE                       how to reach the API server (required)
  --cloud-provider NAME                   ${Object.keys(cloudProviders).join(', ')} (required)
  --cloud-config FILE                     the provider's configuration, YAML or JSON (see README)
  --cluster-name NAME                     names and tags the cloud resources (default kubernetes)
  --cluster-cidr CIDR                     the pod network; routes are managed inside it
  --configure-cloud-routes BOOL           run the route controller if the provider has routes (default true)
  --controllers LIST                      comma-separated controllers (default all the provider supports):
                                          ${Object.keys(cloudControllerFactories).join(', ')}
  --node-monitor-period DURATION          how often NotReady nodes are checked (default 5s)
  --node-status-update-frequency DURATION how often node addresses are refreshed (default 5m)
  --route-reconciliation-period DURATION  how often routes are reconciled (default 10s)
  --concurrent-service-syncs N            services synced at once (default 1)
  --leader-elect BOOL                     take the lease before running (default true)
  --leader-elect-lease-duration DURATION  a standby takes over this long after the leader's last renewal (default 15s)
  --leader-elect-renew-deadline DURATION  the leader steps down when it cannot renew for this long (default 10s)
  --leader-elect-retry-period DURATION    how often to try to take or renew the lease (default 2s)
  -h, --help                              show this help

Example:
  mizzen cloud-controller-manager --kubeconfig ~/.mizzen/kubeconfig --cloud-provider local`;

/** `mizzen cloud-controller-manager ...`: runs until SIGINT/SIGTERM; returns the exit code. */
export async function runCloudControllerManagerCommand(argv: string[]): Promise<number> {
  const fail = (msg: string) => {
    process.stderr.write(`mizzen: ${msg}\n\n${CLOUD_CONTROLLER_MANAGER_USAGE}\n`);
    return 2;
  };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        'cloud-provider': { type: 'string' },
        'cloud-config': { type: 'string' },
        'cluster-name': { type: 'string' },
        'cluster-cidr': { type: 'string' },
        'configure-cloud-routes': { type: 'string' },
        controllers: { type: 'string' },
        'node-monitor-period': { type: 'string' },
        'node-status-update-frequency': { type: 'string' },
        'route-reconciliation-period': { type: 'string' },
        'concurrent-service-syncs': { type: 'string' },
        'leader-elect': { type: 'string' },
        ...leaderElectionFlags,
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    return fail((e as Error).message.split('. ')[0]!);
  }
  if (values.help) {
    process.stdout.write(`${CLOUD_CONTROLLER_MANAGER_USAGE}\n`);
    return 0;
  }
  if (!values.kubeconfig) return fail('--kubeconfig is required');
  const providerName = values['cloud-provider'] as string | undefined;
  if (!providerName) return fail(`--cloud-provider is required (one of ${Object.keys(cloudProviders).join(', ')})`);
  if (!cloudProviders[providerName]) return fail(`unknown --cloud-provider "${providerName}" (known: ${Object.keys(cloudProviders).join(', ')})`);
  const options: Partial<CloudControllerOptions> = {};
  const bool = (flag: string): boolean | undefined => {
    const v = values[flag];
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') throw new Error(`--${flag} must be true or false`);
    return v === 'true';
  };
  let leaderElect = true;
  let leaderElection: LeaderElectionTiming | undefined;
  let controllers: string[] | undefined;
  try {
    leaderElection = leaderElectionTiming(values);
    for (const [flag, key] of [
      ['node-monitor-period', 'nodeMonitorPeriodMs'],
      ['node-status-update-frequency', 'nodeStatusUpdateFrequencyMs'],
      ['route-reconciliation-period', 'routeReconciliationPeriodMs'],
    ] as const) {
      const v = values[flag];
      if (v === undefined) continue;
      const ms = parseDuration(String(v));
      if (!(ms > 0)) throw new Error(`--${flag} must be a positive duration`);
      options[key] = ms;
    }
    const n = values['concurrent-service-syncs'];
    if (n !== undefined) {
      if (!/^[1-9]\d*$/.test(String(n))) throw new Error('--concurrent-service-syncs must be a positive integer');
      options.concurrentServiceSyncs = Number(n);
    }
    if (values['cluster-name'] !== undefined) {
      if (!values['cluster-name']) throw new Error('--cluster-name must not be empty');
      options.clusterName = String(values['cluster-name']);
    }
    if (values['cluster-cidr'] !== undefined) {
      const cidrs = String(values['cluster-cidr']).split(',');
      const bad = cidrs.find((c) => !parseCIDR(c.trim()));
      if (bad !== undefined) throw new Error(`invalid --cluster-cidr "${bad}": must be an IPv4 CIDR such as 10.42.0.0/16`);
      options.clusterCIDR = String(values['cluster-cidr']);
    }
    const routesFlag = bool('configure-cloud-routes');
    if (routesFlag !== undefined) options.configureCloudRoutes = routesFlag;
    leaderElect = bool('leader-elect') ?? true;
    if (values.controllers !== undefined) {
      controllers = String(values.controllers)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = controllers.filter((c) => !cloudControllerFactories[CONTROLLER_ALIASES[c] ?? c]);
      if (unknown.length) throw new Error(`unknown controller(s): ${unknown.join(', ')}`);
    }
  } catch (e) {
    return fail((e as Error).message);
  }
  const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
  let ccm: RunningControllerManager;
  try {
    ccm = await startCloudControllerManager({
      kubeconfig: String(values.kubeconfig),
      provider: providerName,
      cloudConfig: values['cloud-config'] as string | undefined,
      options,
      controllers,
      leaderElect,
      leaderElection,
      log,
    });
  } catch (e) {
    process.stderr.write(`mizzen: ${(e as Error).message}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await ccm.close();
  return 0;
}
