// The components of `mizzen up` that are API clients (controller manager, scheduler, simulated
// nodes), started by name from plain-data options, so the same code runs in-process or inside
// the components worker thread.

import { ApiClient } from '../client/api-client.ts';
import type { PoolSocket } from '../client/http1-pool.ts';
import { SharedInformerFactory, trimForCache } from '../client/informer.ts';
import { COMPONENT_IDENTITIES, socketIdentityHeaders } from '../client/identity.ts';
import type { LeaderElectionTiming } from './leader-election-flags.ts';
import type { RunningComponent } from './components.ts';

export interface ClientComponentSpec {
  name: 'controller-manager' | 'scheduler' | 'simulated-nodes' | 'cloud-controller-manager' | 'metrics-server';
  /** Plain data only: it crosses the worker boundary. */
  options: Record<string, unknown>;
  /** Lease timing for the components that elect a leader. */
  leaderElection?: LeaderElectionTiming;
}

/**
 * How a component reaches the API server: its own kubeconfig (TLS, as any external client), or,
 * when the server runs in the same process, its private Unix socket (plain HTTP, no TLS cost),
 * where it names its identity in headers the server trusts only there (see src/client/identity.ts).
 */
export interface ApiConnection {
  /** The kubeconfig of a component without one of its own in `kubeconfigs`. */
  kubeconfig: string;
  /** Each component's own kubeconfig (DATA_DIR/cred/<component>.kubeconfig). */
  kubeconfigs?: Partial<Record<ClientComponentSpec['name'], string>>;
  /** Preferred over the kubeconfig when set. */
  socketPath?: string;
  /**
   * With socketPath, in the components worker: requests and watches go over streams to the
   * server's thread instead of the socket (src/client/port-link.ts). Not plain data: set in the worker.
   */
  connect?: () => PoolSocket;
}

/** Per component: keep-alive sockets (as each sizes its own kubeconfig client) and user agent. */
const clientSettings: Record<ClientComponentSpec['name'], { maxSockets: number; userAgent: string }> = {
  'controller-manager': { maxSockets: 128, userAgent: 'mizzen-controller-manager/0.1' },
  scheduler: { maxSockets: 128, userAgent: 'mizzen-scheduler' },
  'cloud-controller-manager': { maxSockets: 32, userAgent: 'mizzen-cloud-controller-manager/0.1' },
  // Heartbeat and pod workers (32 each by default) plus the watches, so nobody queues for a socket.
  'simulated-nodes': { maxSockets: 68, userAgent: 'mizzen-simulated-kubelet/0.1' },
  'metrics-server': { maxSockets: 8, userAgent: 'mizzen-metrics-server/0.1' },
};

/**
 * The built-in metrics pipeline only lists and watches pods and nodes, which the controller
 * manager's identity may; it acts as that identity rather than adding one of its own.
 */
function identityOf(name: ClientComponentSpec['name']) {
  return COMPONENT_IDENTITIES[name === 'metrics-server' ? 'controller-manager' : name];
}

/** The client a component uses over the private socket; undefined means "read the kubeconfig". */
export function socketClientFor(name: ClientComponentSpec['name'], socketPath: string | undefined, connect?: () => PoolSocket): ApiClient | undefined {
  if (!socketPath) return undefined;
  return new ApiClient({ socketPath, connect, ...clientSettings[name], headers: socketIdentityHeaders(identityOf(name)) });
}

/**
 * One set of informers for the components that run in one thread and watch the same resources
 * (controller manager and scheduler): each pod event is then sent, parsed and cached once, not
 * once per component. Over the private socket only; undefined when there is nothing to share.
 */
export function sharedInformersFor(specs: ClientComponentSpec[], conn: ApiConnection, log: (m: string) => void): { informers: SharedInformerFactory; close(): Promise<void> } | undefined {
  const watchers = specs.filter((s) => s.name === 'controller-manager' || s.name === 'scheduler' || s.name === 'cloud-controller-manager' || s.name === 'metrics-server');
  if (watchers.length < 2 || !conn.socketPath) return undefined;
  // As upstream's controller manager, shared informers list and watch as the controller manager
  // (its role may list and watch everything), which also covers what the scheduler watches.
  const client = new ApiClient({
    socketPath: conn.socketPath,
    connect: conn.connect,
    maxSockets: 32,
    userAgent: 'mizzen-shared-informers/0.1',
    headers: socketIdentityHeaders(COMPONENT_IDENTITIES['controller-manager']),
  });
  const informers = new SharedInformerFactory(client, { log, transform: trimForCache({ sharePodParts: true }) });
  return {
    informers,
    async close() {
      await informers.stop();
      client.close();
    },
  };
}

export async function startClientComponent(spec: ClientComponentSpec, conn: ApiConnection, log: (m: string) => void, informers?: SharedInformerFactory): Promise<RunningComponent> {
  const client = socketClientFor(spec.name, conn.socketPath, conn.connect);
  const ctx = { kubeconfig: conn.kubeconfigs?.[spec.name] ?? conn.kubeconfig, client, log, informers };
  let running: RunningComponent;
  try {
    running = await startByName(spec, ctx);
  } catch (e) {
    client?.close();
    throw e;
  }
  if (!client) return running;
  // Components do not close a client they were given: it is ours.
  return {
    close: async () => {
      try {
        await running.close();
      } finally {
        client.close();
      }
    },
  };
}

function startByName(spec: ClientComponentSpec, ctx: { kubeconfig: string; client?: ApiClient; log: (m: string) => void; informers?: SharedInformerFactory }): Promise<RunningComponent> {
  switch (spec.name) {
    case 'controller-manager':
      return import('../controllers/manager.ts').then(({ controllerManagerComponent }) => controllerManagerComponent({ options: spec.options, leaderElection: spec.leaderElection }).start(ctx));
    case 'scheduler':
      return import('../scheduler/index.ts').then(({ schedulerComponent }) => schedulerComponent.start({ ...ctx, leaderElection: spec.leaderElection }));
    case 'cloud-controller-manager': {
      const o = spec.options as { provider?: string; cloudConfig?: string; clusterCIDR?: string; configureCloudRoutes?: boolean };
      return import('../cloud/manager.ts').then(({ cloudControllerManagerComponent }) =>
        cloudControllerManagerComponent({
          provider: o.provider,
          cloudConfig: o.cloudConfig,
          options: {
            ...(o.clusterCIDR ? { clusterCIDR: o.clusterCIDR } : {}),
            ...(o.configureCloudRoutes === undefined ? {} : { configureCloudRoutes: o.configureCloudRoutes }),
          },
          leaderElection: spec.leaderElection,
        }).start(ctx),
      );
    }
    case 'metrics-server': {
      const o = spec.options as { resolutionMs?: number; kubeletClient?: { cert: string; key: string; ca: string } };
      return import('../metrics/component.ts').then(({ metricsServerComponent }) => metricsServerComponent({ resolutionMs: o.resolutionMs, kubeletClient: o.kubeletClient }).start(ctx));
    }
    case 'simulated-nodes': {
      const o = spec.options as { count: number; capacity?: string; heartbeatOnly?: boolean };
      return import('../kubelet/simulated/component.ts').then(({ simulatedNodesComponent }) =>
        simulatedNodesComponent({ count: o.count, capacity: o.capacity, heartbeatOnly: o.heartbeatOnly }).start(ctx),
      );
    }
  }
}
