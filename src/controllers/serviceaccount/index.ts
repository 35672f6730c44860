// ServiceAccount controller: every active namespace has a `default` ServiceAccount; one that is
// deleted is created again.

import type { KObject } from '../../api/types.ts';
import { isAlreadyExists, isNotFound, ApiError } from '../../client/api-client.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';

export const DEFAULT_SERVICE_ACCOUNTS = ['default'];

export function createServiceAccountController(ctx: ControllerContext, names: string[] = DEFAULT_SERVICE_ACCOUNTS): Controller {
  const nsInformer = ctx.informers.informerFor({ version: 'v1', resource: 'namespaces' });
  const saInformer = ctx.informers.informerFor({ version: 'v1', resource: 'serviceaccounts' });
  const worker = new KeyWorker('serviceaccount', sync, ctx.log);
  nsInformer.addEventHandler({ onAdd: (ns) => worker.add(ns.metadata.name!), onUpdate: (_o, ns) => worker.add(ns.metadata.name!) });
  saInformer.addEventHandler({
    onDelete: (sa) => {
      if (names.includes(sa.metadata.name!)) worker.add(sa.metadata.namespace!);
    },
  });
  const saLister = saInformer.lister();

  async function sync(namespace: string): Promise<void> {
    const ns = nsInformer.indexer.getByKey(namespace);
    if (!ns || !isActive(ns)) return;
    for (const name of names) {
      if (saLister.namespace(namespace).get(name)) continue;
      try {
        await ctx.client.create({ version: 'v1', resource: 'serviceaccounts', namespace }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
      } catch (e) {
        // Already there (our cache is behind), or the namespace went away or began terminating.
        if (isAlreadyExists(e) || isNotFound(e) || isTerminatingNamespaceError(e)) continue;
        throw e;
      }
    }
  }

  return {
    name: 'serviceaccount',
    run: () => worker.run(ctx.options.workers),
    stop: () => worker.stop(),
  };
}

export function isActive(ns: KObject): boolean {
  return !ns.metadata.deletionTimestamp && (ns.status?.phase ?? 'Active') === 'Active';
}

/** The API server refuses new objects in a terminating namespace with 403 Forbidden. */
export function isTerminatingNamespaceError(e: unknown): boolean {
  return e instanceof ApiError && e.code === 403 && /because it is being terminated/.test(e.message);
}

export const serviceAccountController: ControllerFactory = (ctx) => createServiceAccountController(ctx);
