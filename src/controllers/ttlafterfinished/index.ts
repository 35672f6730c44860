// TTL-after-finished controller: a Job with spec.ttlSecondsAfterFinished is deleted (in the
// foreground, so its pods go first) that many seconds after it finished, i.e. after the
// lastTransitionTime of its Complete or Failed condition. The TTL is checked again on a fresh copy
// right before deleting, since it may have been changed.

import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';

const jobsRef = { group: 'batch', version: 'v1', resource: 'jobs' };

/** When the job finished (ms since epoch), or undefined if it has not. */
export function finishTime(job: KObject): number | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') {
      const t = Date.parse(c.lastTransitionTime ?? '');
      return Number.isNaN(t) ? undefined : t;
    }
  }
  return undefined;
}

/** Milliseconds left before a finished job with a TTL expires (<= 0: expired); undefined if not applicable. */
export function timeLeft(job: KObject, now = Date.now()): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null || job.metadata.deletionTimestamp) return undefined;
  const finished = finishTime(job);
  if (finished === undefined) return undefined;
  return finished + ttl * 1000 - now;
}

export function createTTLAfterFinished(ctx: ControllerContext): Controller {
  const informer = ctx.informers.informerFor({ ...jobsRef });
  const worker = new KeyWorker('ttl-after-finished', sync, ctx.log);
  const enqueue = (job: KObject) => {
    if (timeLeft(job) !== undefined) worker.add(`${job.metadata.namespace}/${job.metadata.name}`);
  };
  informer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n) });

  async function sync(key: string): Promise<void> {
    const cached = informer.indexer.getByKey(key);
    if (!cached) return;
    const left = timeLeft(cached);
    if (left === undefined) return;
    if (left > 0) {
      worker.addAfter(key, left);
      return;
    }
    // Expired by the cache: confirm on the live object (the TTL may have been raised or removed).
    const ref = { ...jobsRef, namespace: cached.metadata.namespace, name: cached.metadata.name! };
    let fresh: KObject;
    try {
      fresh = await ctx.client.get<KObject>(ref);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    const freshLeft = timeLeft(fresh);
    if (freshLeft === undefined) return;
    if (freshLeft > 0) {
      worker.addAfter(key, freshLeft);
      return;
    }
    ctx.log(`ttl-after-finished: deleting job ${key}`);
    try {
      await ctx.client.delete(ref, { propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata.uid, resourceVersion: fresh.metadata.resourceVersion } });
    } catch (e) {
      if (isNotFound(e)) return;
      // A precondition conflict means the job changed under us: the retry looks again.
      throw e;
    }
  }

  return {
    name: 'ttl-after-finished',
    run: () => worker.run(ctx.options.workers),
    stop: () => worker.stop(),
  };
}

export const ttlAfterFinishedController: ControllerFactory = (ctx) => createTTLAfterFinished(ctx);
