// The `mizzen up --simulated-nodes N` component: simulated nodes started in-process after the API
// server, over its private socket (each node names itself) or, without one, with their own
// kubeconfig (mizzen:simulated-nodes), impersonating each node as up's grant allows
// (impersonation-grant.ts).

import { parseCapacity } from './capacity.ts';
import type { ApiClient } from '../../client/api-client.ts';

export interface SimulatedNodesComponentOptions {
  count: number;
  /** A map, or the flag text `cpu=32,memory=256Gi,pods=110`. */
  capacity?: Record<string, string> | string;
  prefix?: string;
  labels?: Record<string, string>;
  /** Heartbeats only: bound pods stay Pending (see SimulatedNodesOptions.heartbeatOnly). */
  heartbeatOnly?: boolean;
}

export interface SimulatedNodesComponent {
  name: 'simulated-nodes';
  /** With ctx.client the kubeconfig is not read (the caller owns and closes that client). */
  start(ctx: { kubeconfig: string; client?: ApiClient; log: (m: string) => void }): Promise<{ close(): Promise<void> }>;
}

export function simulatedNodesComponent(opts: SimulatedNodesComponentOptions): SimulatedNodesComponent {
  // Parse now, so a bad flag fails before anything starts.
  const capacity = typeof opts.capacity === 'string' ? parseCapacity(opts.capacity) : opts.capacity;
  return {
    name: 'simulated-nodes',
    async start(ctx) {
      const { startSimulatedNodes } = await import('./simulator.ts');
      // Over the private socket each node names itself; with a kubeconfig it impersonates (see simulator.ts).
      const nodeIdentity = ctx.client ? 'socket' : 'impersonate';
      const sim = await startSimulatedNodes({ kubeconfig: ctx.kubeconfig, client: ctx.client, nodeIdentity, count: opts.count, prefix: opts.prefix, capacity, labels: opts.labels, heartbeatOnly: opts.heartbeatOnly, log: ctx.log });
      return { close: () => sim.close() };
    },
  };
}
