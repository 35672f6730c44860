// Namespace controller: once a namespace has a deletionTimestamp, delete every namespaced object
// in it (all discovered resources), report progress in the namespace's deletion conditions, and
// when nothing is left remove the `kubernetes` finalizer through namespaces/<name>/finalize so the
// API server can remove the namespace.

import type { KObject } from '../../api/types.ts';
import { isNotFound, rfc3339, type ResourceRef } from '../../client/api-client.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { discoverResources, hasVerbs, type DiscoveredResource } from '../garbagecollector/discovery.ts';

export const KUBERNETES_FINALIZER = 'kubernetes';

interface NamespaceCondition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime?: string;
  reason: string;
  message: string;
}

const conditionTypes = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;

/** The "nothing wrong" variant of each condition, as upstream words it. */
const okConditions: Record<(typeof conditionTypes)[number], { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: { reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  NamespaceDeletionGroupVersionParsingFailure: { reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  NamespaceDeletionContentFailure: { reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
};

export interface DeletionOutcome {
  conditions: NamespaceCondition[];
  /** True when objects remain (being finalized or gracefully terminating). */
  remaining: boolean;
  /** Seconds until the remaining content is expected to be gone (pods' grace periods). */
  estimateSeconds: number;
  /** Errors that should make the sync retry with backoff. */
  failed: boolean;
}

/** Merge computed failure conditions into the namespace's status; true when something changed. */
export function updateConditions(status: { conditions?: NamespaceCondition[] }, failing: NamespaceCondition[], now = rfc3339()): boolean {
  let changed = false;
  const conds = (status.conditions ??= []);
  for (const type of conditionTypes) {
    const next = failing.find((c) => c.type === type) ?? { type, status: 'False' as const, ...okConditions[type] };
    const old = conds.find((c) => c.type === type);
    if (!old) {
      conds.push({ type, status: next.status, lastTransitionTime: now, reason: next.reason, message: next.message });
      changed = true;
    } else if (old.status !== next.status || old.reason !== next.reason || old.message !== next.message) {
      if (old.status !== next.status) old.lastTransitionTime = now;
      old.status = next.status;
      old.reason = next.reason;
      old.message = next.message;
      changed = true;
    }
  }
  return changed;
}

export interface NamespaceControllerOptions {
  /** Safety-net resync of all namespaces (upstream: 5 minutes). */
  resyncMs?: number;
  /** Longest wait before looking again at remaining content (default 5 s). */
  maxRecheckMs?: number;
}

export function createNamespaceController(ctx: ControllerContext, opts: NamespaceControllerOptions = {}): Controller {
  const maxRecheckMs = opts.maxRecheckMs ?? 5_000;
  const informer = ctx.informers.informerFor({ version: 'v1', resource: 'namespaces' });
  const worker = new KeyWorker('namespace', sync, ctx.log);
  const enqueue = (ns: KObject) => {
    if (ns.metadata.deletionTimestamp) worker.add(ns.metadata.name!);
  };
  // Upstream re-checks every namespace every 5 minutes as a safety net.
  informer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n) }, opts.resyncMs ?? 5 * 60_000);

  const nsRef = (name: string) => ({ version: 'v1', resource: 'namespaces', name });

  async function sync(name: string): Promise<void> {
    let ns: KObject;
    try {
      ns = await ctx.client.get<KObject>(nsRef(name));
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    if (!ns.metadata.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes(KUBERNETES_FINALIZER)) return;

    const outcome = await deleteAllContent(name);
    ns.status ??= {};
    if (ns.status.phase !== 'Terminating' || updateConditions(ns.status, outcome.conditions)) {
      ns.status.phase = 'Terminating';
      try {
        ns = await ctx.client.updateStatus<KObject>(nsRef(name), ns);
      } catch (e) {
        if (isNotFound(e)) return;
        throw e; // conflicts retry with a fresh read
      }
    }
    if (outcome.failed) throw new Error(`namespace ${name}: content deletion incomplete`);
    if (outcome.remaining) {
      // Upstream waits half the estimate before looking again (content deletions do not wake us);
      // the cap keeps `kubectl delete namespace` from waiting long after the last pod went.
      worker.addAfter(name, Math.min(maxRecheckMs, Math.max(500, (outcome.estimateSeconds * 1000) / 2)));
      return;
    }
    await finalize(ns);
  }

  async function finalize(ns: KObject): Promise<void> {
    const finalizers = (ns.spec?.finalizers ?? []).filter((f: string) => f !== KUBERNETES_FINALIZER);
    const body = { ...ns, spec: { ...(ns.spec ?? {}), finalizers } };
    try {
      await ctx.client.update({ ...nsRef(ns.metadata.name!), subresource: 'finalize' }, body);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e; // a conflict retries with a fresh read
    }
  }

  async function deleteAllContent(namespace: string): Promise<DeletionOutcome> {
    const conditions: NamespaceCondition[] = [];
    const errors: string[] = [];
    let discovered: DiscoveredResource[];
    try {
      const d = await discoverResources(ctx.client);
      discovered = d.resources;
      if (d.failed.size) {
        const groups = [...d.failed].map(([gv, msg]) => `${gv}: ${msg}`).sort();
        conditions.push({
          type: 'NamespaceDeletionDiscoveryFailure',
          status: 'True',
          reason: 'DiscoveryFailed',
          message: `Discovery failed for some groups, ${d.failed.size} failing: unable to retrieve the complete list of server APIs: ${groups.join(', ')}`,
        });
      }
    } catch (e) {
      conditions.push({ type: 'NamespaceDeletionDiscoveryFailure', status: 'True', reason: 'DiscoveryFailed', message: (e as Error).message });
      return { conditions, remaining: true, estimateSeconds: 0, failed: true };
    }
    const remaining = new Map<string, number>();
    const finalizers = new Map<string, number>();
    let estimate = 0;
    const targets = discovered.filter((r) => r.namespaced && hasVerbs(r, 'delete') && (hasVerbs(r, 'deletecollection') || hasVerbs(r, 'list')));
    await Promise.all(
      targets.map(async (r) => {
        const ref: ResourceRef = { group: r.group || undefined, version: r.version, resource: r.resource, namespace };
        try {
          const left = await deleteResource(r, ref);
          const live = left.filter((o) => o.metadata.namespace === namespace);
          if (live.length) remaining.set(`${r.resource}.${r.group}`, live.length);
          for (const o of live) {
            for (const f of o.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
            if (r.group === '' && r.resource === 'pods') estimate = Math.max(estimate, podEstimate(o));
          }
        } catch (e) {
          errors.push(`${r.resource}.${r.group}: ${(e as Error).message}`);
        }
      }),
    );
    if (errors.length) {
      errors.sort();
      conditions.push({
        type: 'NamespaceDeletionContentFailure',
        status: 'True',
        reason: 'ContentDeletionFailed',
        message: `Failed to delete all resource types, ${errors.length} remaining: ${errors.join(', ')}`,
      });
    }
    if (remaining.size) {
      const parts = [...remaining].map(([gr, n]) => `${gr} has ${n} resource instances`).sort();
      conditions.push({ type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${parts.join(', ')}` });
    }
    if (finalizers.size) {
      const parts = [...finalizers].map(([f, n]) => `${f} in ${n} resource instances`).sort();
      conditions.push({ type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizerRemain', message: `Some finalizers are remaining: ${parts.join(', ')}` });
    }
    return { conditions, remaining: remaining.size > 0, estimateSeconds: estimate, failed: errors.length > 0 };
  }

  /** Delete everything of one resource in the namespace; returns what is still there afterwards. */
  async function deleteResource(r: DiscoveredResource, ref: ResourceRef): Promise<KObject[]> {
    if (hasVerbs(r, 'deletecollection')) {
      await ctx.client.request('DELETE', collectionPath(ref), { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' });
    } else {
      const list = await ctx.client.listAll<KObject>(ref);
      for (const o of list.items) {
        if (o.metadata.deletionTimestamp) continue;
        try {
          await ctx.client.delete({ ...ref, name: o.metadata.name! }, { propagationPolicy: 'Background' });
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
    if (!hasVerbs(r, 'list')) return [];
    return (await ctx.client.listAll<KObject>(ref)).items;
  }

  return {
    name: 'namespace',
    run() {
      worker.run(ctx.options.workers);
    },
    stop: () => worker.stop(),
  };
}

function collectionPath(ref: ResourceRef): string {
  const base = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  return `${base}/namespaces/${encodeURIComponent(ref.namespace!)}/${ref.resource}`;
}

/** Seconds until a terminating pod's grace period ends (its deletion must then be confirmed). */
function podEstimate(pod: KObject): number {
  const ts = pod.metadata.deletionTimestamp;
  if (!ts) return pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, Math.ceil((Date.parse(ts) - Date.now()) / 1000));
}

export const namespaceController: ControllerFactory = (ctx) => createNamespaceController(ctx);
