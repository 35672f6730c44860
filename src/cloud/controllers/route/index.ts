// The route controller (upstream "node-route-controller"): a cloud route to every node's podCIDR,
// routes inside the cluster CIDR that no node needs any more (or blackholed) deleted, and the
// node condition NetworkUnavailable set from the outcome. Runs every routeReconciliationPeriod,
// and soon after a node appears or its podCIDRs change.

import type { KObject } from '../../../api/types.ts';
import type { Controller, ControllerContext } from '../../../controllers/types.ts';
import { cidrContainsCIDR } from '../../cidr.ts';
import type { CloudProvider, Route, Routes } from '../../provider.ts';
import type { CloudControllerOptions } from '../options.ts';

export const ROUTE_CONTROLLER = 'node-route-controller';
/** Nodes with this label set to true are not managed by the cloud (upstream UnmanagedNodeLabelKey). */
export const LABEL_UNMANAGED_NODE = 'node.cloudprovider.kubernetes.io/exclude-from-cloud-routes';

const nodeRef = (name: string) => ({ version: 'v1', resource: 'nodes', name, subresource: 'status' });

type Action = 'keep' | 'add';

function podCIDRs(node: KObject): string[] {
  const list: string[] = node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []);
  return list.filter(Boolean);
}

function unmanaged(node: KObject): boolean {
  return node.metadata.labels?.[LABEL_UNMANAGED_NODE] === 'true';
}

export function routeController(ctx: ControllerContext, cloud: CloudProvider, opts: CloudControllerOptions): Controller {
  const maybeRoutes = cloud.routes();
  if (!maybeRoutes) throw new Error('the cloud provider does not support routes');
  if (!opts.clusterCIDR) throw new Error('route controller: --cluster-cidr must be set');
  const routes: Routes = maybeRoutes;
  const clusterCIDRs = opts.clusterCIDR.split(',').map((s) => s.trim());
  const recorder = ctx.recorder('route_controller');
  const nodes = ctx.informers.informerFor({ version: 'v1', resource: 'nodes' });
  const log = (m: string) => ctx.log(`${ROUTE_CONTROLLER}: ${m}`);
  let timer: NodeJS.Timeout | undefined;
  let soon: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let running = false;

  const responsible = (r: Route) => clusterCIDRs.some((c) => cidrContainsCIDR(c, r.destinationCIDR));

  async function reconcile(): Promise<void> {
    const existing = await routes.listRoutes(opts.clusterName);
    const all = nodes.indexer.list().filter((n) => !unmanaged(n));
    const byNode = new Map<string, Map<string, Action>>();
    for (const r of existing) if (r.targetNode && !byNode.has(r.targetNode)) byNode.set(r.targetNode, new Map());
    for (const node of all) {
      const cidrs = podCIDRs(node);
      if (cidrs.length === 0) continue;
      const name = node.metadata.name!;
      const actions = byNode.get(name) ?? new Map<string, Action>();
      byNode.set(name, actions);
      for (const cidr of cidrs) actions.set(cidr, existing.some((r) => r.targetNode === name && r.destinationCIDR === cidr) ? 'keep' : 'add');
    }
    // Routes no node needs (or whose target is gone) go first.
    await Promise.all(
      existing
        .filter((r) => responsible(r) && (r.blackhole || !byNode.get(r.targetNode)?.has(r.destinationCIDR)))
        .map(async (r) => {
          log(`deleting route ${r.name} ${r.destinationCIDR}`);
          try {
            await routes.deleteRoute(opts.clusterName, r);
          } catch (e) {
            log(`could not delete route ${r.name} ${r.destinationCIDR}: ${(e as Error).message}`);
          }
        }),
    );
    await Promise.all(
      all.map(async (node) => {
        const name = node.metadata.name!;
        const actions = byNode.get(name);
        if (!actions) return;
        for (const [cidr, action] of actions) {
          if (action !== 'add') continue;
          const route: Route = { name: '', targetNode: name, targetNodeAddresses: node.status?.addresses ?? [], destinationCIDR: cidr };
          const started = Date.now();
          try {
            await routes.createRoute(opts.clusterName, String(node.metadata.uid ?? name), route);
            actions.set(cidr, 'keep');
            log(`created route for node ${name} ${cidr} with hint ${node.metadata.uid} after ${Date.now() - started} ms`);
          } catch (e) {
            const msg = `Could not create route ${node.metadata.uid} ${cidr} for node ${name} after ${((Date.now() - started) / 1000).toFixed(3)}s: ${(e as Error).message}`;
            recorder.event({ kind: 'Node', name, uid: name }, 'Warning', 'FailedToCreateRoute', msg);
            log(msg);
          }
        }
      }),
    );
    for (const node of all) {
      const actions = byNode.get(node.metadata.name!);
      if (!actions) continue;
      const created = actions.size > 0 && [...actions.values()].every((a) => a === 'keep');
      await updateNetworkingCondition(node, created).catch((e) => log(`failed to update networking condition of ${node.metadata.name}: ${(e as Error).message}`));
    }
  }

  async function updateNetworkingCondition(node: KObject, routesCreated: boolean): Promise<void> {
    const cond = ((node.status?.conditions ?? []) as any[]).find((c) => c?.type === 'NetworkUnavailable');
    const want = routesCreated ? 'False' : 'True';
    if (cond?.status === want) return;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await ctx.client.patch(nodeRef(node.metadata.name!), 'strategic', {
      status: {
        conditions: [
          routesCreated
            ? { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated', message: 'RouteController created a route', lastTransitionTime: now, lastHeartbeatTime: now }
            : { type: 'NetworkUnavailable', status: 'True', reason: 'NoRouteCreated', message: 'RouteController failed to create a route', lastTransitionTime: now, lastHeartbeatTime: now },
        ],
      },
    });
  }

  const tick = () => {
    if (stopped) return;
    if (current) {
      again = true;
      return;
    }
    current = reconcile()
      .catch((e) => log(`couldn't reconcile node routes: ${(e as Error).message}`))
      .finally(() => {
        current = undefined;
        if (again) {
          again = false;
          tick();
        }
      });
  };
  /** Node changes trigger a reconcile soon (upstream waits for the period; its own TODO asks for this). */
  const nudge = () => {
    if (!running || soon) return;
    soon = setTimeout(() => {
      soon = undefined;
      tick();
    }, 200);
  };
  nodes.addEventHandler({
    onAdd: nudge,
    onUpdate: (o, n) => {
      if (JSON.stringify(podCIDRs(o)) !== JSON.stringify(podCIDRs(n))) nudge();
    },
    onDelete: nudge,
  });

  return {
    name: ROUTE_CONTROLLER,
    run() {
      running = true;
      tick();
      timer = setInterval(tick, opts.routeReconciliationPeriodMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(soon);
      await current;
    },
  };
}
