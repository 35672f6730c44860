// The service controller (upstream "service-lb-controller"): a cloud balancer for every
// `type: LoadBalancer` Service without a loadBalancerClass, the finalizer
// service.kubernetes.io/load-balancer-cleanup held while the balancer exists, the balancer's
// address in status.loadBalancer, and balancers re-pointed when the set of eligible nodes changes.
// Events and messages are upstream's.

import type { KObject } from '../../../api/types.ts';
import { isConflict, isNotFound } from '../../../client/api-client.ts';
import { metaNamespaceKey } from '../../../client/cache.ts';
import type { Controller, ControllerContext } from '../../../controllers/types.ts';
import { isImplementedElsewhere, isRetryError } from '../../errors.ts';
import { FINALIZER_LB_CLEANUP } from '../../labels.ts';
import type { CloudProvider, LoadBalancer, LoadBalancerStatus } from '../../provider.ts';
import type { CloudControllerOptions } from '../options.ts';
import { cloudWorker } from '../worker.ts';
import { eligibleNodes, hasLBFinalizer, loadBalancerStatusEqual, needsCleanup, needsUpdate, shouldSyncUpdatedNode, wantsLoadBalancer } from './predicates.ts';

export const SERVICE_CONTROLLER = 'service-lb-controller';
const SERVICE_SYNC_PERIOD_MS = 30_000;
const NODE_SYNC_PERIOD_MS = 100_000;
const NODES_KEY = 'nodes';

const servicesRef = (namespace: string, name: string) => ({ version: 'v1', resource: 'services', namespace, name });

/** First 20 node names as Go prints a slice, as upstream's loggableNodeNames. */
function loggableNodeNames(nodes: KObject[]): string {
  return `[${nodes
    .slice(0, 20)
    .map((n) => n.metadata.name)
    .join(' ')}]`;
}

export function serviceController(ctx: ControllerContext, cloud: CloudProvider, opts: CloudControllerOptions): Controller {
  const balancer: LoadBalancer | undefined = cloud.loadBalancer();
  if (!balancer) throw new Error('the cloud provider does not support external load balancers');
  const lb = balancer;
  const recorder = ctx.recorder('service-controller');
  const services = ctx.informers.informerFor({ version: 'v1', resource: 'services' });
  const nodes = ctx.informers.informerFor({ version: 'v1', resource: 'nodes' });
  const cluster = opts.clusterName;
  /** The last state of every Service we synced: what to clean up if it vanishes without the finalizer. */
  const cache = new Map<string, KObject>();
  let lastSyncedNodes: KObject[] = [];

  const serviceWorker = cloudWorker(SERVICE_CONTROLLER, (key) => syncService(key), ctx.log, { minMs: opts.serviceRetryMinMs, maxMs: opts.serviceRetryMaxMs });
  const nodeWorker = cloudWorker(`${SERVICE_CONTROLLER} nodes`, () => syncNodes(), ctx.log, { minMs: opts.serviceRetryMinMs, maxMs: opts.serviceRetryMaxMs });

  services.addEventHandler(
    {
      onAdd: (svc) => {
        // Cleanup here too: a manager that died half-way through a deletion finishes it.
        if (wantsLoadBalancer(svc) || needsCleanup(svc)) serviceWorker.add(metaNamespaceKey(svc));
      },
      onUpdate: (oldSvc, svc) => {
        const change = needsUpdate(oldSvc, svc);
        if (change.event) recorder.event(svc, 'Normal', change.event.reason, change.event.message);
        if (change.update || needsCleanup(svc)) serviceWorker.add(metaNamespaceKey(svc));
      },
      // A delete shows up first as an update setting deletionTimestamp (the finalizer holds it);
      // a Service that had none is cleaned up from the cache.
      onDelete: (svc) => {
        if (cache.has(metaNamespaceKey(svc))) serviceWorker.add(metaNamespaceKey(svc));
      },
    },
    SERVICE_SYNC_PERIOD_MS,
  );
  nodes.addEventHandler(
    {
      onAdd: () => nodeWorker.add(NODES_KEY),
      onUpdate: (oldNode, node) => {
        if (shouldSyncUpdatedNode(oldNode, node)) nodeWorker.add(NODES_KEY);
      },
      onDelete: () => nodeWorker.add(NODES_KEY),
    },
    NODE_SYNC_PERIOD_MS,
  );

  async function syncService(key: string): Promise<void> {
    const svc = services.indexer.getByKey(key);
    if (!svc) return processServiceDeletion(key);
    return processServiceCreateOrUpdate(svc, key);
  }

  async function processServiceCreateOrUpdate(svc: KObject, key: string): Promise<void> {
    const cached = cache.get(key);
    // Deleted and re-created quickly without the finalizer: the old one's balancer goes first.
    if (cached && cached.metadata.uid !== svc.metadata.uid) await processLoadBalancerDelete(cached);
    cache.set(key, svc);
    let op: 'delete' | 'ensure';
    try {
      op = await syncLoadBalancerIfNeeded(svc);
    } catch (e) {
      if (!isRetryError(e)) recorder.event(svc, 'Warning', 'SyncLoadBalancerFailed', `Error syncing load balancer: ${(e as Error).message}`);
      throw e;
    }
    if (op === 'delete') cache.delete(key);
  }

  async function syncLoadBalancerIfNeeded(svc: KObject): Promise<'delete' | 'ensure'> {
    const previous = svc.status?.loadBalancer ?? {};
    let next: LoadBalancerStatus;
    let op: 'delete' | 'ensure';
    if (!wantsLoadBalancer(svc) || needsCleanup(svc)) {
      op = 'delete';
      next = {};
      let exists: boolean;
      try {
        ({ exists } = await lb.getLoadBalancer(cluster, svc));
      } catch (e) {
        throw new Error(`failed to check if load balancer exists before cleanup: ${(e as Error).message}`);
      }
      if (exists) {
        recorder.event(svc, 'Normal', 'DeletingLoadBalancer', 'Deleting load balancer');
        try {
          await lb.ensureLoadBalancerDeleted(cluster, svc);
        } catch (e) {
          if (!isImplementedElsewhere(e)) throw new Error(`failed to delete load balancer: ${(e as Error).message}`);
        }
      }
      // Always drop the finalizer once the balancer is gone, so the Service can go.
      try {
        await setFinalizer(svc, false);
      } catch (e) {
        throw new Error(`failed to remove load balancer cleanup finalizer: ${(e as Error).message}`);
      }
      recorder.event(svc, 'Normal', 'DeletedLoadBalancer', 'Deleted load balancer');
    } else {
      op = 'ensure';
      recorder.event(svc, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
      // The finalizer before the balancer: the Service cannot go while a balancer may exist.
      try {
        await setFinalizer(svc, true);
      } catch (e) {
        throw new Error(`failed to add load balancer cleanup finalizer: ${(e as Error).message}`);
      }
      const hosts = eligibleNodes(nodes.indexer.list());
      if (hosts.length === 0) recorder.event(svc, 'Warning', 'UnAvailableLoadBalancer', 'There are no available nodes for LoadBalancer');
      try {
        next = await lb.ensureLoadBalancer(cluster, svc, hosts);
      } catch (e) {
        if (isImplementedElsewhere(e)) return op;
        if (isRetryError(e)) throw e;
        throw new Error(`failed to ensure load balancer: ${(e as Error).message}`);
      }
      if (!next) throw new Error('service status returned by EnsureLoadBalancer is nil');
      recorder.event(svc, 'Normal', 'EnsuredLoadBalancer', 'Ensured load balancer');
    }
    if (!loadBalancerStatusEqual(previous, next)) {
      try {
        await ctx.client.patch(
          { ...servicesRef(svc.metadata.namespace!, svc.metadata.name!), subresource: 'status' },
          'merge',
          { status: { loadBalancer: { ingress: next.ingress?.length ? next.ingress : null } } },
        );
      } catch (e) {
        // Gone right after we removed the finalizer: nothing to write.
        if (!isNotFound(e)) throw new Error(`failed to update load balancer status: ${(e as Error).message}`);
      }
    }
    return op;
  }

  /** Add or remove our finalizer, re-reading the Service on conflicts. */
  async function setFinalizer(svc: KObject, present: boolean): Promise<void> {
    if (hasLBFinalizer(svc) === present) return;
    let cur = svc;
    for (let attempt = 0; ; attempt++) {
      const list: string[] = [...(cur.metadata.finalizers ?? [])];
      const has = list.includes(FINALIZER_LB_CLEANUP);
      if (has === present) return;
      const finalizers = present ? [...list, FINALIZER_LB_CLEANUP] : list.filter((f) => f !== FINALIZER_LB_CLEANUP);
      try {
        await ctx.client.patch(servicesRef(cur.metadata.namespace!, cur.metadata.name!), 'merge', {
          metadata: { finalizers: finalizers.length ? finalizers : null, resourceVersion: cur.metadata.resourceVersion },
        });
        return;
      } catch (e) {
        if (!isConflict(e) || attempt >= 4) {
          if (isNotFound(e) && !present) return;
          throw e;
        }
        cur = await ctx.client.get<KObject>(servicesRef(cur.metadata.namespace!, cur.metadata.name!));
      }
    }
  }

  async function processServiceDeletion(key: string): Promise<void> {
    const cached = cache.get(key);
    // Never synced, or its balancer is already gone.
    if (!cached) return;
    await processLoadBalancerDelete(cached);
    cache.delete(key);
  }

  async function processLoadBalancerDelete(svc: KObject): Promise<void> {
    if (!wantsLoadBalancer(svc)) return;
    recorder.event(svc, 'Normal', 'DeletingLoadBalancer', 'Deleting load balancer');
    try {
      await lb.ensureLoadBalancerDeleted(cluster, svc);
    } catch (e) {
      recorder.event(svc, 'Warning', 'DeleteLoadBalancerFailed', `Error deleting load balancer: ${(e as Error).message}`);
      throw e;
    }
    recorder.event(svc, 'Normal', 'DeletedLoadBalancer', 'Deleted load balancer');
  }

  /** Re-point every balancer whose eligible node set changed since the last node sync. */
  async function syncNodes(): Promise<void> {
    const all = nodes.indexer.list();
    const newHosts = eligibleNodes(all);
    const oldHosts = eligibleNodes(lastSyncedNodes);
    const names = (ns: KObject[]) => ns.map((n) => n.metadata.name).join('\u0000');
    const changed = names(newHosts) !== names(oldHosts);
    lastSyncedNodes = all;
    if (!changed) return;
    for (const [key, cached] of [...cache]) {
      const svc = services.indexer.getByKey(key) ?? cached;
      if (!wantsLoadBalancer(svc) || needsCleanup(svc)) continue;
      try {
        await lb.updateLoadBalancer(cluster, svc, newHosts);
        if (newHosts.length === 0) recorder.event(svc, 'Warning', 'UnAvailableLoadBalancer', 'There are no available nodes for LoadBalancer');
        else recorder.event(svc, 'Normal', 'UpdatedLoadBalancer', 'Updated load balancer with new hosts');
      } catch (e) {
        if (isImplementedElsewhere(e)) continue;
        // Only an error if the balancer still exists.
        let exists = true;
        try {
          ({ exists } = await lb.getLoadBalancer(cluster, svc));
        } catch {
          // keep exists = true: report the update failure
        }
        if (!exists) continue;
        recorder.event(
          svc,
          'Warning',
          'UpdateLoadBalancerFailed',
          `Error updating load balancer with new hosts ${loggableNodeNames(newHosts)} [node names limited, total number of nodes: ${newHosts.length}], error: ${(e as Error).message}`,
        );
        // The service's own sync runs EnsureLoadBalancer with the current nodes, with backoff.
        serviceWorker.queue.addRateLimited(key);
      }
    }
  }

  return {
    name: SERVICE_CONTROLLER,
    run() {
      serviceWorker.run(opts.concurrentServiceSyncs);
      nodeWorker.run(1);
      nodeWorker.add(NODES_KEY);
    },
    async stop() {
      await Promise.all([serviceWorker.stop(), nodeWorker.stop()]);
    },
  };
}

