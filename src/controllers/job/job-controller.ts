// The Job controller: runs pods until enough succeed (or an index each, for Indexed Jobs), counts
// finished pods exactly once through the batch.kubernetes.io/job-tracking finalizer and
// status.uncountedTerminatedPods, and fails the Job on backoffLimit or activeDeadlineSeconds.

import type { KObject } from '../../api/types.ts';
import { isNotFound, rfc3339 } from '../../client/api-client.ts';
import type { EventRecorder } from '../../client/event-recorder.ts';
import { UIDTrackingExpectations } from '../../client/expectations.ts';
import type { Lister } from '../../client/cache.ts';
import { canonicalJSON } from '../daemonset/revision-history.ts';
import { isPodTerminal } from '../../api/core/pod-state.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { COMPLETION_INDEX_ANNOTATION, formatIndexes, parseIndexes, podIndex } from './indexes.ts';
import { JOBS, PODS, controllerRef, newControllerRef, podFromTemplate, slowStartBatch } from './pod-helpers.ts';
import { isPodActive, isPodReady } from '../../api/core/pod-state.ts';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

export interface JobControllerOptions {
  /** First retry delay after a pod failure (upstream 10 s); doubles per failure. */
  backoffBaseMs?: number;
  /** Longest retry delay (upstream 6 minutes). */
  backoffMaxMs?: number;
  now?: () => number;
}

const MSG_BACKOFF = 'Job has reached the specified backoff limit';
const MSG_DEADLINE = 'Job was active longer than specified deadline';
const MSG_COMPLETE = 'Reached expected number of succeeded pods';

export function condition(job: KObject, type: string): any | undefined {
  return (job.status?.conditions ?? []).find((c: any) => c?.type === type);
}

export function hasTrueCondition(job: KObject, type: string): boolean {
  return condition(job, type)?.status === 'True';
}

export function isJobFinished(job: KObject): boolean {
  return hasTrueCondition(job, 'Complete') || hasTrueCondition(job, 'Failed');
}

/** Set (or flip) a condition; returns true when something changed. */
function setCondition(status: any, type: string, value: 'True' | 'False', reason: string, message: string, now: string): boolean {
  const conds: any[] = (status.conditions ??= []);
  const c = conds.find((x) => x.type === type);
  if (c) {
    if (c.status === value && c.reason === reason && c.message === message) return false;
    if (c.status !== value) c.lastTransitionTime = now;
    Object.assign(c, { status: value, reason, message, lastProbeTime: now });
    return true;
  }
  conds.push({ type, status: value, lastProbeTime: now, lastTransitionTime: now, reason, message });
  return true;
}

function hasFinalizer(pod: KObject): boolean {
  return (pod.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
}

export function newJobController(opts: JobControllerOptions = {}): ControllerFactory {
  return (ctx) => new JobController(ctx, opts);
}

class JobController implements Controller {
  readonly name = 'job-controller';
  private readonly worker: KeyWorker;
  private readonly jobs: Lister;
  private readonly pods: Lister;
  private readonly recorder: EventRecorder;
  private readonly expectations = new UIDTrackingExpectations();
  /** Pods whose finalizer we removed, so a stale cache does not count them twice (job uid -> pod uids). */
  private readonly finalizerRemoved = new Map<string, Set<string>>();
  /** Failures since the last success and when the last one was seen, for the retry backoff. */
  private readonly backoff = new Map<string, { failures: number; last: number }>();
  private readonly now: () => number;
  private readonly baseMs: number;
  private readonly maxMs: number;

  constructor(private readonly ctx: ControllerContext, opts: JobControllerOptions) {
    this.now = opts.now ?? Date.now;
    this.baseMs = opts.backoffBaseMs ?? 10_000;
    this.maxMs = opts.backoffMaxMs ?? 6 * 60_000;
    this.recorder = ctx.recorder('job-controller');
    this.worker = new KeyWorker(this.name, (k) => this.sync(k), ctx.log);
    const jobInf = ctx.informers.informerFor(JOBS as any);
    const podInf = ctx.informers.informerFor(PODS as any);
    this.jobs = jobInf.lister();
    this.pods = podInf.lister();
    const enqueueJob = (j: KObject) => this.worker.add(`${j.metadata.namespace}/${j.metadata.name}`);
    jobInf.addEventHandler({ onAdd: enqueueJob, onUpdate: (_o, n) => enqueueJob(n), onDelete: enqueueJob });
    podInf.addEventHandler({
      onAdd: (p) => {
        const k = this.ownerKey(p);
        if (!k) return;
        if (p.metadata.deletionTimestamp) this.expectations.deletionObservedOf(k, podKey(p));
        else this.expectations.creationObserved(k);
        this.worker.add(k);
      },
      onUpdate: (o, n) => {
        const k = this.ownerKey(n);
        if (!k) return;
        if (n.metadata.deletionTimestamp && !o.metadata.deletionTimestamp) this.expectations.deletionObservedOf(k, podKey(n));
        this.worker.add(k);
      },
      onDelete: (p) => {
        const k = this.ownerKey(p);
        if (!k) return;
        this.expectations.deletionObservedOf(k, podKey(p));
        this.worker.add(k);
      },
    });
  }

  private ownerKey(pod: KObject): string | undefined {
    const ref = controllerRef(pod);
    if (!ref || ref.kind !== 'Job') return undefined;
    return `${pod.metadata.namespace}/${ref.name}`;
  }

  run(): void {
    this.worker.run(this.ctx.options.workers);
  }

  async stop(): Promise<void> {
    await this.worker.stop();
  }

  private async sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const cached = this.jobs.namespace(ns).get(name);
    if (!cached) {
      // The Job is gone: its pods must not stay pinned by our finalizer.
      this.expectations.deleteExpectations(key);
      const orphans = this.pods.namespace(ns).list((p) => hasFinalizer(p) && controllerRef(p)?.kind === 'Job' && controllerRef(p)?.name === name);
      await Promise.all(orphans.map((p) => this.removeFinalizer(p)));
      return;
    }
    if (!this.expectations.satisfiedExpectations(key)) return;
    let job = structuredClone(cached);
    const uid = job.metadata.uid!;
    const pods = this.pods.namespace(ns).list((p) => controllerRef(p)?.uid === uid);

    if (isJobFinished(job) || job.metadata.deletionTimestamp) {
      // Nothing more to count; just let any leftover pods go.
      await Promise.all(pods.filter(hasFinalizer).map((p) => this.removeFinalizer(p)));
      this.finalizerRemoved.delete(uid);
      this.backoff.delete(uid);
      return;
    }

    const nowMs = this.now();
    const now = rfc3339(new Date(nowMs));
    const spec = job.spec ?? {};
    const indexed = spec.completionMode === 'Indexed';
    const completions: number | undefined = spec.completions ?? undefined;
    const onlyFailed = spec.podReplacementPolicy === 'Failed';
    const removed = this.finalizerRemoved.get(uid) ?? new Set<string>();
    this.finalizerRemoved.set(uid, removed);
    for (const p of pods) if (!hasFinalizer(p)) removed.delete(p.metadata.uid!);

    // 1. Record newly finished pods as uncounted before touching their finalizers.
    const status = (job.status ??= {});
    const unc = { succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(status.uncountedTerminatedPods?.failed ?? [])] };
    const known = new Set([...unc.succeeded, ...unc.failed]);
    let newFailures = 0;
    let newSuccess = false;
    for (const p of pods) {
      const pu = p.metadata.uid!;
      if (!hasFinalizer(p) || known.has(pu) || removed.has(pu)) continue;
      if (p.status?.phase === 'Succeeded') {
        unc.succeeded.push(pu);
        newSuccess = true;
      } else if (p.status?.phase === 'Failed' || (!onlyFailed && p.metadata.deletionTimestamp)) {
        unc.failed.push(pu);
        newFailures++;
      }
    }
    if (unc.succeeded.length + unc.failed.length > known.size) {
      status.uncountedTerminatedPods = unc;
      job = await this.ctx.client.updateStatus({ ...JOBS, namespace: ns, name }, job);
    }
    if (newSuccess) this.backoff.delete(uid);
    if (newFailures) {
      const b = this.backoff.get(uid) ?? { failures: 0, last: 0 };
      this.backoff.set(uid, { failures: b.failures + newFailures, last: nowMs });
    }

    // 2. Release the counted pods, then 3. move them into the counters.
    const uncSet = new Set([...unc.succeeded, ...unc.failed]);
    const byUid = new Map(pods.map((p) => [p.metadata.uid!, p]));
    await Promise.all(
      pods.filter((p) => uncSet.has(p.metadata.uid!) && hasFinalizer(p)).map(async (p) => {
        await this.removeFinalizer(p);
        removed.add(p.metadata.uid!);
      }),
    );
    const st = job.status ?? {};
    let succeeded: number = st.succeeded ?? 0;
    let failed: number = st.failed ?? 0;
    const completed = indexed ? parseIndexes(st.completedIndexes, completions ?? 0) : new Set<number>();
    for (const u of unc.succeeded) {
      const p = byUid.get(u);
      const idx = p ? podIndex(p) : undefined;
      if (indexed) {
        if (idx !== undefined && idx < (completions ?? 0)) completed.add(idx);
      } else succeeded++;
    }
    failed += unc.failed.length;
    if (indexed) succeeded = completed.size;

    // Classify what is left.
    const active = pods.filter(isPodActive);
    const terminating = pods.filter((p) => p.metadata.deletionTimestamp && !isPodTerminal(p));
    const next: any = structuredClone(job.status ?? {});
    next.uncountedTerminatedPods = {};
    next.succeeded = succeeded;
    next.failed = failed;
    if (indexed) next.completedIndexes = formatIndexes(completed);
    let requeueMs: number | undefined;

    const failureTarget = hasTrueCondition(job, 'FailureTarget');
    const successTarget = hasTrueCondition(job, 'SuccessCriteriaMet');
    let activeCount = active.length;

    if (failureTarget || successTarget) {
      // Finishing: stop whatever still runs, and finish once every pod is accounted for.
      if (active.length) {
        await this.deletePods(key, job, active, successTarget);
        activeCount = 0;
      }
      if (!active.length && !pods.some(hasFinalizer)) {
        const c = condition(job, failureTarget ? 'FailureTarget' : 'SuccessCriteriaMet');
        if (failureTarget) setCondition(next, 'Failed', 'True', c.reason, c.message, now);
        else {
          setCondition(next, 'Complete', 'True', c.reason, c.message, now);
          next.completionTime = now;
          this.recorder.event(job, 'Normal', 'Completed', 'Job completed');
        }
      }
    } else {
      const complete = indexed
        ? completed.size >= (completions ?? 0)
        : completions !== undefined
          ? succeeded >= completions
          : succeeded > 0 && active.length === 0;
      const start = Date.parse(next.startTime ?? '');
      const deadline = spec.activeDeadlineSeconds;
      const pastDeadline = !spec.suspend && deadline !== undefined && deadline !== null && Number.isFinite(start) && nowMs - start >= deadline * 1000;
      if (complete) {
        setCondition(next, 'SuccessCriteriaMet', 'True', 'CompletionsReached', MSG_COMPLETE, now);
        requeueMs = 0;
      } else if (failed > (spec.backoffLimit ?? 6) || pastDeadline) {
        const reason = pastDeadline && !(failed > (spec.backoffLimit ?? 6)) ? 'DeadlineExceeded' : 'BackoffLimitExceeded';
        const msg = reason === 'DeadlineExceeded' ? MSG_DEADLINE : MSG_BACKOFF;
        setCondition(next, 'FailureTarget', 'True', reason, msg, now);
        this.recorder.event(job, 'Warning', reason, msg);
        requeueMs = 0;
      } else if (spec.suspend) {
        if (active.length) await this.deletePods(key, job, active, true);
        activeCount = 0;
        if (setCondition(next, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) this.recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
      } else {
        if (hasTrueCondition(job, 'Suspended')) {
          setCondition(next, 'Suspended', 'False', 'JobResumed', 'Job resumed', now);
          this.recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
          next.startTime = now;
        }
        next.startTime ??= now;
        if (deadline !== undefined && deadline !== null) {
          const s = Date.parse(next.startTime);
          requeueMs = Math.max(0, s + deadline * 1000 - nowMs) + 10;
        }
        const r = await this.manageActive(key, job, active, terminating, completed, succeeded, onlyFailed, nowMs);
        activeCount = r.active;
        if (r.requeueMs !== undefined) requeueMs = requeueMs === undefined ? r.requeueMs : Math.min(requeueMs, r.requeueMs);
      }
    }

    next.active = activeCount;
    next.ready = active.filter(isPodReady).length;
    next.terminating = terminating.length;
    if (!equalStatus(job.status ?? {}, next)) {
      job.status = next;
      await this.ctx.client.updateStatus({ ...JOBS, namespace: ns, name }, job);
    }
    if (requeueMs !== undefined) this.worker.addAfter(key, requeueMs);
  }

  /** Create or delete pods so the right number (or the right indexes) run. */
  private async manageActive(
    key: string,
    job: KObject,
    active: KObject[],
    terminating: KObject[],
    completed: Set<number>,
    succeeded: number,
    onlyFailed: boolean,
    nowMs: number,
  ): Promise<{ active: number; requeueMs?: number }> {
    const spec = job.spec ?? {};
    const parallelism: number = spec.parallelism ?? 1;
    const completions: number | undefined = spec.completions ?? undefined;
    const blocked = onlyFailed ? terminating.length : 0;
    let toCreate: Array<number | undefined> = [];
    let excess: KObject[] = [];
    if (spec.completionMode === 'Indexed') {
      const seen = new Set<number>();
      const keep: KObject[] = [];
      for (const p of [...active].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''))) {
        const i = podIndex(p);
        if (i === undefined || i >= (completions ?? 0) || completed.has(i) || seen.has(i)) excess.push(p);
        else {
          seen.add(i);
          keep.push(p);
        }
      }
      if (onlyFailed) for (const p of terminating) { const i = podIndex(p); if (i !== undefined) seen.add(i); }
      const room = parallelism - keep.length - blocked;
      if (keep.length > parallelism) excess.push(...keep.slice(parallelism));
      for (let i = 0; i < (completions ?? 0) && toCreate.length < room; i++) if (!seen.has(i) && !completed.has(i)) toCreate.push(i);
    } else {
      const want = completions === undefined ? (succeeded > 0 ? 0 : parallelism) : Math.max(0, Math.min(parallelism, completions - succeeded));
      const diff = want - active.length - blocked;
      if (diff > 0) toCreate = Array.from({ length: diff }, () => undefined);
      else if (active.length > want) excess = [...active].sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '')).slice(0, active.length - want);
    }
    let count = active.length;
    if (excess.length) {
      await this.deletePods(key, job, excess, true);
      count -= excess.length;
    }
    if (!toCreate.length) return { active: count };

    // Exponential backoff after failures before starting replacements.
    const b = this.backoff.get(job.metadata.uid!);
    if (b && b.failures > 0) {
      const delay = Math.min(this.baseMs * 2 ** (b.failures - 1), this.maxMs);
      const wait = b.last + delay - nowMs;
      if (wait > 0) return { active: count, requeueMs: wait };
    }
    this.expectations.expectCreations(key, toCreate.length);
    const res = await slowStartBatch(toCreate.length, (k) => this.createPod(job, toCreate[k]));
    if (res.skipped || res.error) this.expectations.lowerExpectations(key, res.skipped + (toCreate.length - res.skipped - res.created), 0);
    if (res.error) throw res.error;
    return { active: count + res.created };
  }

  private async createPod(job: KObject, index: number | undefined): Promise<void> {
    const pod = podFromTemplate(job.spec.template, job, newControllerRef(job, 'batch/v1', 'Job'));
    const jobName = job.metadata.name!;
    pod.metadata.finalizers = [...(pod.metadata.finalizers ?? []), JOB_TRACKING_FINALIZER];
    if (index === undefined) pod.metadata.generateName = `${jobName}-`;
    else {
      pod.metadata.generateName = `${jobName}-${index}-`;
      pod.metadata.annotations![COMPLETION_INDEX_ANNOTATION] = String(index);
      pod.metadata.labels![COMPLETION_INDEX_ANNOTATION] = String(index);
      pod.spec.hostname ??= `${jobName}-${index}`;
      const env = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } };
      for (const c of [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])]) {
        c.env = [...(c.env ?? []).filter((e: any) => e?.name !== 'JOB_COMPLETION_INDEX'), env];
      }
    }
    try {
      const created = await this.ctx.client.create<KObject>({ ...PODS, namespace: job.metadata.namespace }, pod);
      this.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
    } catch (e) {
      this.recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
      throw e;
    }
  }

  /** Delete pods; `release` first drops the tracking finalizer so they are not counted as failures. */
  private async deletePods(key: string, job: KObject, pods: KObject[], release: boolean): Promise<void> {
    this.expectations.expectDeletionsOf(key, pods.map(podKey));
    const removed = this.finalizerRemoved.get(job.metadata.uid!) ?? new Set<string>();
    const errors: unknown[] = [];
    await Promise.all(
      pods.map(async (p) => {
        try {
          if (release && hasFinalizer(p)) {
            await this.removeFinalizer(p);
            removed.add(p.metadata.uid!);
          }
          await this.ctx.client.delete({ ...PODS, namespace: p.metadata.namespace, name: p.metadata.name! }, { preconditions: { uid: p.metadata.uid } });
          this.recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        } catch (e) {
          this.expectations.deletionObservedOf(key, podKey(p));
          if (!isNotFound(e)) errors.push(e);
        }
      }),
    );
    if (errors.length) throw errors[0];
  }

  private async removeFinalizer(pod: KObject): Promise<void> {
    const i = (pod.metadata.finalizers ?? []).indexOf(JOB_TRACKING_FINALIZER);
    if (i < 0) return;
    const path = `/metadata/finalizers/${i}`;
    try {
      await this.ctx.client.patch({ ...PODS, namespace: pod.metadata.namespace, name: pod.metadata.name! }, 'json', [
        { op: 'test', path, value: JOB_TRACKING_FINALIZER },
        { op: 'remove', path },
      ]);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

function podKey(p: KObject): string {
  return `${p.metadata.namespace}/${p.metadata.name}`;
}

function equalStatus(a: any, b: any): boolean {
  const norm = (s: any) => canonicalJSON({ ...s, uncountedTerminatedPods: s.uncountedTerminatedPods ?? {}, active: s.active ?? 0, ready: s.ready ?? 0, terminating: s.terminating ?? 0, succeeded: s.succeeded ?? 0, failed: s.failed ?? 0 });
  return norm(a) === norm(b);
}

