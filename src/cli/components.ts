// The control-plane components that `mizzen up` starts after the API server.
//
// HOOK: the scheduler and the controller-manager plug in here. Add an entry to
// CONTROL_PLANE_COMPONENTS whose start() imports its module lazily (keeps `mizzen --help` fast)
// and returns something to close on shutdown. They run in-process and talk to the API server
// through the admin kubeconfig, just like an external client would.

import type { Pki } from '../apiserver/pki.ts';
import type { UpOptions } from './options.ts';

export interface ComponentContext {
  /** The API server's URL as clients should use it (never a wildcard address). */
  apiServerURL: string;
  /** Path of the admin kubeconfig (written before components start). */
  kubeconfig: string;
  pki: Pki;
  dataDir: string;
  serviceCIDR?: string;
  log: (msg: string) => void;
}

export interface RunningComponent {
  close(): Promise<void>;
}

export interface ControlPlaneComponent {
  name: string;
  start(ctx: ComponentContext): Promise<RunningComponent>;
}

/** Started in order after the API server; stopped in reverse order before it. */
export function controlPlaneComponents(opts: UpOptions): ControlPlaneComponent[] {
  const list: ControlPlaneComponent[] = [
    {
      name: 'controller-manager',
      start: async (ctx) => {
        const { controllerManagerComponent, parseGoDuration } = await import('../controllers/manager.ts');
        const options: Record<string, unknown> = { rootCAPem: ctx.pki.caCertPem };
        if (opts.nodeMonitorGracePeriod) options.nodeMonitorGracePeriodMs = parseGoDuration(opts.nodeMonitorGracePeriod);
        if (opts.clusterCIDR) options.clusterCIDR = opts.clusterCIDR;
        return controllerManagerComponent({ options }).start(ctx);
      },
    },
    {
      name: 'scheduler',
      start: async (ctx) => (await import('../scheduler/index.ts')).schedulerComponent.start(ctx),
    },
  ];
  if (opts.simulatedNodes > 0) {
    list.push({
      name: 'simulated-nodes',
      start: async (ctx) => {
        const { simulatedNodesComponent } = await import('../kubelet/simulated/component.ts');
        return simulatedNodesComponent({ count: opts.simulatedNodes, capacity: opts.simulatedNodeCapacity }).start(ctx);
      },
    });
  }
  return list;
}
