// ResourceQuota controller: keeps status.hard equal to spec.hard and status.used current for
// every tracked name in it (object counts, pod compute requests and limits, PVC storage),
// recomputed when a quota or an object in its namespace changes, and periodically.

import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import type { Informer } from '../../client/informer.ts';
import { Quantity, quantityFromInt } from '../../machinery/quantity.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { discoverResources } from '../garbagecollector/discovery.ts';
import { podMatchesQuota, podUsage, pvcStorage } from './usage.ts';

export interface ResourceQuotaOptions {
  /** Full recalculation period (upstream --resource-quota-sync-period, 5 minutes). */
  resyncMs?: number;
}

/** Object-count names served by the core informers: quota name -> core resource. */
const coreCounts: Record<string, string> = {
  pods: 'pods',
  services: 'services',
  configmaps: 'configmaps',
  secrets: 'secrets',
  persistentvolumeclaims: 'persistentvolumeclaims',
  replicationcontrollers: 'replicationcontrollers',
  resourcequotas: 'resourcequotas',
};

export function createResourceQuotaController(ctx: ControllerContext, opts: ResourceQuotaOptions = {}): Controller {
  const quotas = ctx.informers.informerFor({ version: 'v1', resource: 'resourcequotas' });
  const worker = new KeyWorker('resourcequota', sync, ctx.log);
  /** `group/resource` -> informer of a counted resource. */
  const tracked = new Map<string, Informer<KObject>>();
  /** resource[.group] as written in count/... names -> preferred version, from discovery. */
  let versions: Map<string, { group: string; version: string; resource: string }> | undefined;

  const enqueueNamespace = (ns: string | undefined) => {
    if (!ns) return;
    for (const q of quotas.lister().namespace(ns).list()) worker.add(`${ns}/${q.metadata.name}`);
  };

  function track(group: string, version: string, resource: string): Informer<KObject> {
    const key = `${group}/${resource}`;
    let inf = tracked.get(key);
    if (inf) return inf;
    inf = ctx.informers.informerFor({ group: group || undefined, version, resource });
    tracked.set(key, inf);
    const touch = (o: KObject) => enqueueNamespace(o.metadata.namespace);
    inf.addEventHandler({ onAdd: (o, initial) => !initial && touch(o), onUpdate: (_o, n) => touch(n), onDelete: touch });
    return inf;
  }

  for (const r of Object.values(coreCounts)) track('', 'v1', r);
  quotas.addEventHandler(
    {
      onAdd: (q) => worker.add(`${q.metadata.namespace}/${q.metadata.name}`),
      onUpdate: (_o, q) => worker.add(`${q.metadata.namespace}/${q.metadata.name}`),
    },
    opts.resyncMs ?? 5 * 60_000,
  );

  /** The informer for a `count/<resource>[.<group>]` name, discovering its version on first use. */
  async function informerForCount(spec: string): Promise<Informer<KObject> | undefined> {
    const dot = spec.indexOf('.');
    const resource = dot < 0 ? spec : spec.slice(0, dot);
    const group = dot < 0 ? '' : spec.slice(dot + 1);
    if (!group && coreCounts[resource]) return tracked.get(`/${resource}`);
    const known = tracked.get(`${group}/${resource}`);
    if (known) return known;
    if (!versions?.has(spec)) {
      const d = await discoverResources(ctx.client);
      versions = new Map(d.resources.map((r) => [r.group ? `${r.resource}.${r.group}` : r.resource, r]));
    }
    const r = versions.get(spec);
    if (!r) return undefined;
    const inf = track(r.group, r.version, r.resource);
    await inf.waitForSync();
    return inf;
  }

  async function sync(key: string): Promise<void> {
    const quota = quotas.indexer.getByKey(key);
    if (!quota) return;
    const ns = quota.metadata.namespace!;
    const hard: Record<string, string> = quota.spec?.hard ?? {};
    const names = Object.keys(hard);
    const used = new Map<string, Quantity>();

    const pods = tracked.get('/pods')!.lister().namespace(ns).list((p) => podMatchesQuota(p, quota));
    for (const [n, q] of podUsage(pods, names)) used.set(n, q);
    const list = (res: string) => tracked.get(`/${res}`)!.lister().namespace(ns).list();
    for (const name of names) {
      if (used.has(name)) continue;
      if (coreCounts[name]) used.set(name, quantityFromInt(list(coreCounts[name]).length));
      else if (name === 'services.nodeports') used.set(name, quantityFromInt(list('services').reduce((n, s) => n + nodePorts(s), 0)));
      else if (name === 'services.loadbalancers') used.set(name, quantityFromInt(list('services').filter((s) => s.spec?.type === 'LoadBalancer').length));
      else if (name === 'requests.storage') used.set(name, pvcStorage(list('persistentvolumeclaims')));
      else if (name.startsWith('count/')) {
        const inf = await informerForCount(name.slice('count/'.length));
        if (inf) used.set(name, quantityFromInt(inf.lister().namespace(ns).list().length));
      }
    }

    const status = {
      hard: { ...hard },
      used: Object.fromEntries(names.filter((n) => used.has(n)).map((n) => [n, used.get(n)!.toString()])),
    };
    if (sameMap(quota.status?.hard, status.hard) && sameMap(quota.status?.used, status.used)) return;
    try {
      await ctx.client.updateStatus(
        { version: 'v1', resource: 'resourcequotas', namespace: ns, name: quota.metadata.name! },
        { ...quota, status },
      );
    } catch (e) {
      if (isNotFound(e)) return;
      throw e; // a conflict retries on the newer copy from the watch
    }
  }

  return {
    name: 'resourcequota',
    run: () => worker.run(ctx.options.workers),
    stop: () => worker.stop(),
  };
}

function nodePorts(svc: KObject): number {
  if (svc.spec?.type !== 'NodePort' && svc.spec?.type !== 'LoadBalancer') return 0;
  return (svc.spec?.ports ?? []).filter((p: any) => p?.nodePort).length;
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a![k] === b[k]);
}

export const resourceQuotaController: ControllerFactory = (ctx) => createResourceQuotaController(ctx);
