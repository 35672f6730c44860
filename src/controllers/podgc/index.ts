// Pod garbage collector: periodically
//  - deletes the oldest terminated (Succeeded/Failed) pods beyond terminatedPodGCThreshold;
//  - deletes pods bound to nodes that no longer exist (a node missing from the cache is
//    quarantined for a while and then confirmed gone with a live GET), marking them Failed with a
//    DisruptionTarget condition first;
//  - force-deletes terminating pods that were never scheduled.

import { isPodTerminal } from '../../api/core/pod-state.ts';
import type { KObject } from '../../api/types.ts';
import { ApiError, isNotFound, rfc3339 } from '../../client/api-client.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';

export interface PodGCOptions {
  /** How often the collector runs (upstream gcCheckPeriod, 20 s). */
  periodMs?: number;
  /** How long a node must be missing before its pods are collected (upstream 40 s). */
  quarantineMs?: number;
}

export const DISRUPTION_TARGET = 'DisruptionTarget';


/** Evicted pods first, then oldest first; names break ties so the order is stable. */
export function byEvictionAndCreation(a: KObject, b: KObject): number {
  const ea = a.status?.reason === 'Evicted' ? 0 : 1;
  const eb = b.status?.reason === 'Evicted' ? 0 : 1;
  if (ea !== eb) return ea - eb;
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  return (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

export function createPodGC(ctx: ControllerContext, opts: PodGCOptions = {}): Controller {
  const periodMs = opts.periodMs ?? 20_000;
  const quarantineMs = opts.quarantineMs ?? 40_000;
  const pods = ctx.informers.informerFor({ version: 'v1', resource: 'pods' });
  const nodes = ctx.informers.informerFor({ version: 'v1', resource: 'nodes' });
  /** Node name -> when we first saw pods bound to it while it was missing from the cache. */
  const missingSince = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function gc(): Promise<void> {
    const all = pods.indexer.list();
    await gcTerminated(all);
    await gcOrphaned(all);
    await gcUnscheduledTerminating(all);
  }

  async function gcTerminated(all: KObject[]): Promise<void> {
    const threshold = ctx.options.terminatedPodGCThreshold;
    if (threshold <= 0) return;
    const terminated = all.filter(isPodTerminal);
    const excess = terminated.length - threshold;
    if (excess <= 0) return;
    terminated.sort(byEvictionAndCreation);
    ctx.log(`podgc: garbage collecting ${excess} terminated pods`);
    await Promise.all(terminated.slice(0, excess).map((p) => forceDelete(p)));
  }

  async function gcOrphaned(all: KObject[]): Promise<void> {
    const now = Date.now();
    const missing = new Set<string>();
    for (const p of all) {
      const node = p.spec?.nodeName;
      if (node && !nodes.indexer.getByKey(node)) missing.add(node);
    }
    for (const n of missingSince.keys()) if (!missing.has(n)) missingSince.delete(n);
    const gone = new Set<string>();
    for (const n of missing) {
      const since = missingSince.get(n);
      if (since === undefined) missingSince.set(n, now);
      if (now - (since ?? now) < quarantineMs) continue;
      // Quarantine over: make sure the cache is not just behind.
      try {
        await ctx.client.get({ version: 'v1', resource: 'nodes', name: n });
        missingSince.delete(n);
      } catch (e) {
        if (isNotFound(e)) gone.add(n);
        else ctx.log(`podgc: checking node ${n}: ${(e as Error).message}`);
      }
    }
    for (const p of all) {
      if (!gone.has(p.spec?.nodeName)) continue;
      ctx.log(`podgc: deleting orphaned pod ${p.metadata.namespace}/${p.metadata.name} (node ${p.spec.nodeName} no longer exists)`);
      await markFailedAndDelete(p, { type: DISRUPTION_TARGET, status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
    }
  }

  async function gcUnscheduledTerminating(all: KObject[]): Promise<void> {
    for (const p of all) {
      if (!p.metadata.deletionTimestamp || p.spec?.nodeName) continue;
      await markFailedAndDelete(p);
    }
  }

  /**
   * A pod not yet terminal becomes Failed (with the condition, if any) before it is deleted: a
   * patch of its status from the cached copy, guarded by its uid, as upstream's PatchPodStatus (the
   * controller's role may patch pods/status, not read or update pods).
   */
  async function markFailedAndDelete(p: KObject, condition?: Record<string, string>): Promise<void> {
    const ref = { version: 'v1', resource: 'pods', namespace: p.metadata.namespace, name: p.metadata.name!, subresource: 'status' };
    try {
      if (!isPodTerminal(p) || (condition && !hasCondition(p, condition.type))) {
        const status: Record<string, any> = {};
        if (!isPodTerminal(p)) status.phase = 'Failed';
        if (condition) {
          const conds: any[] = structuredClone(p.status?.conditions ?? []);
          const next = { ...condition, lastProbeTime: null, lastTransitionTime: rfc3339() };
          const existing = conds.find((c) => c.type === condition.type);
          if (existing) Object.assign(existing, next);
          else conds.push(next);
          status.conditions = conds;
        }
        await ctx.client.patch(ref, 'merge', { metadata: { uid: p.metadata.uid }, status });
      }
      await forceDelete(p);
    } catch (e) {
      if (isNotFound(e) || (e instanceof ApiError && e.code === 409)) return;
      ctx.log(`podgc: ${p.metadata.namespace}/${p.metadata.name}: ${(e as Error).message}`);
    }
  }

  async function forceDelete(p: KObject): Promise<void> {
    try {
      await ctx.client.delete(
        { version: 'v1', resource: 'pods', namespace: p.metadata.namespace, name: p.metadata.name! },
        { gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } },
      );
    } catch (e) {
      if (isNotFound(e) || (e instanceof ApiError && e.code === 409)) return;
      ctx.log(`podgc: deleting ${p.metadata.namespace}/${p.metadata.name}: ${(e as Error).message}`);
    }
  }

  const tick = () => {
    if (running || stopped) return;
    running = gc()
      .catch((e) => ctx.log(`podgc: ${(e as Error).message}`))
      .finally(() => (running = undefined));
  };

  return {
    name: 'podgc',
    run() {
      tick();
      timer = setInterval(tick, periodMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}

function hasCondition(p: KObject, type: string): boolean {
  return (p.status?.conditions ?? []).some((c: any) => c.type === type && c.status === 'True');
}

export const podGCController: ControllerFactory = (ctx) => {
  const p = ctx.options.podGCPeriodMs;
  return createPodGC(ctx, p === undefined ? {} : { periodMs: p, quarantineMs: 2 * p });
};
