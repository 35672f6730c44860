// The cloud controllers by name (upstream's names; the old short names are accepted as aliases),
// and which of them a provider can run.

import type { Controller, ControllerContext, ControllerFactory } from '../../controllers/types.ts';
import type { CloudProvider } from '../provider.ts';
import type { CloudControllerOptions } from './options.ts';
import { CLOUD_NODE_CONTROLLER, cloudNodeController } from './node/index.ts';
import { CLOUD_NODE_LIFECYCLE_CONTROLLER, cloudNodeLifecycleController } from './node-lifecycle/index.ts';
import { SERVICE_CONTROLLER, serviceController } from './service/index.ts';
import { ROUTE_CONTROLLER, routeController } from './route/index.ts';

export type CloudControllerFactory = (ctx: ControllerContext, cloud: CloudProvider, opts: CloudControllerOptions) => Controller;

export const cloudControllerFactories: Record<string, CloudControllerFactory> = {
  [CLOUD_NODE_CONTROLLER]: cloudNodeController,
  [CLOUD_NODE_LIFECYCLE_CONTROLLER]: cloudNodeLifecycleController,
  [SERVICE_CONTROLLER]: serviceController,
  [ROUTE_CONTROLLER]: routeController,
};

export const CONTROLLER_ALIASES: Record<string, string> = {
  'cloud-node': CLOUD_NODE_CONTROLLER,
  'cloud-node-lifecycle': CLOUD_NODE_LIFECYCLE_CONTROLLER,
  service: SERVICE_CONTROLLER,
  route: ROUTE_CONTROLLER,
};

/** The pseudo-controller that starts and stops the provider with each leadership term. */
export const PROVIDER_CONTROLLER = 'cloud-provider';

/** Why a controller cannot run with this provider and these options, or undefined when it can. */
export function unsupportedReason(name: string, cloud: CloudProvider, opts: CloudControllerOptions): string | undefined {
  switch (name) {
    case CLOUD_NODE_CONTROLLER:
    case CLOUD_NODE_LIFECYCLE_CONTROLLER:
      return cloud.instancesV2() ? undefined : `provider "${cloud.name}" does not support instances`;
    case SERVICE_CONTROLLER:
      return cloud.loadBalancer() ? undefined : `provider "${cloud.name}" does not support external load balancers`;
    case ROUTE_CONTROLLER:
      if (!opts.configureCloudRoutes) return '--configure-cloud-routes is false';
      if (!cloud.routes()) return `provider "${cloud.name}" does not support routes`;
      if (!opts.clusterCIDR) return 'no --cluster-cidr given';
      return undefined;
  }
  return 'unknown controller';
}

/**
 * Factories in the controller manager's shape for the named controllers (default: every one the
 * provider supports), preceded by the provider's own term. `skipped` says what was left out and why.
 */
export function cloudManagerFactories(
  cloud: CloudProvider,
  opts: CloudControllerOptions,
  requested?: string[],
): { factories: Record<string, ControllerFactory>; skipped: string[] } {
  const factories: Record<string, ControllerFactory> = {
    [PROVIDER_CONTROLLER]: (ctx) => {
      cloud.initialize?.({ client: ctx.client, informers: ctx.informers, recorder: (c) => ctx.recorder(c), log: ctx.log });
      return {
        name: PROVIDER_CONTROLLER,
        run: () => cloud.run?.(),
        stop: async () => {
          await cloud.stop?.();
        },
      };
    },
  };
  const skipped: string[] = [];
  const names = (requested ?? Object.keys(cloudControllerFactories)).map((n) => CONTROLLER_ALIASES[n] ?? n);
  for (const name of names) {
    const factory = cloudControllerFactories[name];
    if (!factory) throw new Error(`unknown controller "${name}" (known: ${Object.keys(cloudControllerFactories).join(', ')})`);
    const why = unsupportedReason(name, cloud, opts);
    if (why) {
      skipped.push(`${name} (${why})`);
      continue;
    }
    factories[name] = (ctx) => factory(ctx, cloud, opts);
  }
  return { factories, skipped };
}
