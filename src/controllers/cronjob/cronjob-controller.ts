// The CronJob controller (upstream's cronjob controller v2): for each CronJob, start a Job at the
// most recent unmet schedule time, honour concurrencyPolicy and startingDeadlineSeconds, keep
// status.active/lastScheduleTime/lastSuccessfulTime current and prune finished Jobs past the
// history limits. "Now" comes from an injectable clock so tests need not wait for real minutes.

import type { KObject } from '../../api/types.ts';
import { isAlreadyExists, isNotFound, rfc3339 } from '../../client/api-client.ts';
import type { EventRecorder } from '../../client/event-recorder.ts';
import type { Lister } from '../../client/cache.ts';
import { isKnownTimeZone } from '../../api/batch/cron-schedule.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { CRONJOBS, JOBS, controllerRef, newControllerRef, parseTime } from '../job/pod-helpers.ts';
import { mostRecentTime, nextTime, parseSchedule, zoneOffsetMs, type CronSchedule } from './schedule.ts';

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export interface CronJobControllerOptions {
  /** Current time in ms (default Date.now). */
  now?: () => number;
}

export function newCronJobController(opts: CronJobControllerOptions = {}): ControllerFactory {
  return (ctx) => new CronJobController(ctx, opts.now ?? Date.now);
}

/** Job name for a scheduled time: `<cronjob>-<minutes since the epoch>`. */
export function jobNameFor(cronJob: string, scheduledMs: number): string {
  return `${cronJob}-${Math.floor(scheduledMs / 60_000)}`;
}

function finishedCondition(job: KObject): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  return undefined;
}

/** Go's RFC1123Z, as upstream prints missed times: "Mon, 02 Jan 2006 15:04:05 +0000". */
function rfc1123z(ms: number): string {
  const d = new Date(ms);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${day}, ${p(d.getUTCDate())} ${mon} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** RFC 3339 in a time zone, with its offset ("2024-05-01T10:00:00+02:00"), as Go's time.Format. */
export function rfc3339In(ms: number, tz: string): string {
  const off = zoneOffsetMs(ms, tz);
  const local = new Date(ms + off).toISOString().replace(/\.\d{3}Z$/, '');
  if (off === 0) return `${local}Z`;
  const a = Math.abs(off) / 60_000;
  return `${local}${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

class CronJobController implements Controller {
  readonly name = 'cronjob-controller';
  private readonly worker: KeyWorker;
  private readonly cronJobs: Lister;
  private readonly jobs: Lister;
  private readonly recorder: EventRecorder;

  constructor(private readonly ctx: ControllerContext, private readonly now: () => number) {
    this.recorder = ctx.recorder('cronjob-controller');
    this.worker = new KeyWorker(this.name, (k) => this.sync(k), ctx.log);
    const cjInf = ctx.informers.informerFor(CRONJOBS as any);
    const jobInf = ctx.informers.informerFor(JOBS as any);
    this.cronJobs = cjInf.lister();
    this.jobs = jobInf.lister();
    const add = (o: KObject) => this.worker.add(`${o.metadata.namespace}/${o.metadata.name}`);
    cjInf.addEventHandler({ onAdd: add, onUpdate: (_o, n) => add(n), onDelete: add });
    const onJob = (j: KObject) => {
      const ref = controllerRef(j);
      if (ref?.kind === 'CronJob') this.worker.add(`${j.metadata.namespace}/${ref.name}`);
    };
    jobInf.addEventHandler({ onAdd: onJob, onUpdate: (_o, n) => onJob(n), onDelete: onJob });
  }

  run(): void {
    this.worker.run(this.ctx.options.workers);
  }

  async stop(): Promise<void> {
    await this.worker.stop();
  }

  /** Sync a key now (tests call this after moving their clock). */
  enqueue(key: string): void {
    this.worker.add(key);
  }

  private async sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const cached = this.cronJobs.namespace(ns).get(name);
    if (!cached || cached.metadata.deletionTimestamp) return;
    const cj = structuredClone(cached);
    const status = (cj.status ??= {});
    const before = JSON.stringify(status);
    const jobs = this.jobs.namespace(ns).list((j) => controllerRef(j)?.uid === cj.metadata.uid);
    const nowMs = this.now();

    // Reconcile status.active with what the Jobs say.
    const byUid = new Map(jobs.map((j) => [j.metadata.uid, j]));
    const active: any[] = [];
    for (const ref of status.active ?? []) {
      const j = byUid.get(ref.uid);
      if (!j) {
        // Gone from the cache: believe it only if the server agrees.
        try {
          const live = await this.ctx.client.get<KObject>({ ...JOBS, namespace: ns, name: ref.name });
          if (live.metadata.uid === ref.uid && !finishedCondition(live)) {
            active.push(ref);
            continue;
          }
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        this.recorder.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        continue;
      }
      const fin = finishedCondition(j);
      if (!fin) active.push(ref);
      else this.recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${fin}`);
    }
    for (const j of jobs) {
      const fin = finishedCondition(j);
      if (!fin && !active.some((r) => r.uid === j.metadata.uid)) active.push(jobRef(j));
      if (fin === 'Complete') {
        const done = parseTime(j.status?.completionTime);
        if (done !== undefined && (parseTime(status.lastSuccessfulTime) ?? 0) < done) status.lastSuccessfulTime = j.status.completionTime;
      }
    }
    status.active = active.length ? active : undefined;

    await this.cleanupHistory(cj, jobs);

    let requeueMs: number | undefined;
    let schedule: CronSchedule | undefined;
    if (cj.spec.timeZone && !isKnownTimeZone(cj.spec.timeZone)) {
      this.recorder.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(cj.spec.timeZone)}: unknown time zone ${cj.spec.timeZone}`);
    } else {
      try {
        schedule = parseSchedule(cj.spec.schedule, cj.spec.timeZone);
      } catch (e) {
        this.recorder.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec.schedule)} : ${(e as Error).message}`);
      }
    }

    if (schedule && !cj.spec.suspend) requeueMs = await this.maybeStart(cj, schedule, nowMs, status);

    if (JSON.stringify(status) !== before) {
      if (status.active === undefined) delete status.active;
      await this.ctx.client.updateStatus({ ...CRONJOBS, namespace: ns, name }, cj);
    }
    if (requeueMs !== undefined) this.worker.addAfter(key, requeueMs);
  }

  /** Start the Job for the most recent missed time if allowed; returns ms until the next time. */
  private async maybeStart(cj: KObject, schedule: CronSchedule, nowMs: number, status: any): Promise<number | undefined> {
    const created = parseTime(cj.metadata.creationTimestamp) ?? nowMs;
    let earliest = parseTime(status.lastScheduleTime) ?? created;
    const sds = cj.spec.startingDeadlineSeconds;
    if (sds !== undefined && sds !== null) earliest = Math.max(earliest, nowMs - sds * 1000);
    const { time, missed } = earliest <= nowMs ? mostRecentTime(schedule, earliest, nowMs) : { time: undefined, missed: 0 };
    const next = nextTime(schedule, nowMs);
    const requeue = next === undefined ? undefined : next - nowMs + 100;
    if (time === undefined) return requeue;
    if (missed > 100) {
      this.recorder.event(cj, 'Warning', 'TooManyMissedTimes', `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`);
    }
    if (sds !== undefined && sds !== null && time + sds * 1000 < nowMs) {
      this.recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(time)}`);
      return requeue;
    }
    const jobName = jobNameFor(cj.metadata.name!, time);
    if ((status.active ?? []).some((r: any) => r.name === jobName)) return requeue;
    const active: any[] = status.active ?? [];
    const policy = cj.spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active.length) {
      this.recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return requeue;
    }
    if (policy === 'Replace') {
      for (const ref of active) {
        try {
          await this.ctx.client.delete({ ...JOBS, namespace: cj.metadata.namespace, name: ref.name }, { propagationPolicy: 'Background' });
          this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${ref.name}`);
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
      status.active = undefined;
    }

    const tmpl = structuredClone(cj.spec.jobTemplate ?? {});
    const job: KObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: jobName,
        namespace: cj.metadata.namespace,
        labels: { ...(tmpl.metadata?.labels ?? {}) },
        annotations: { ...(tmpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339In(time, schedule.timeZone) },
        ownerReferences: [newControllerRef(cj, 'batch/v1', 'CronJob')],
      },
      spec: tmpl.spec ?? {},
    };
    let made: KObject;
    try {
      made = await this.ctx.client.create<KObject>({ ...JOBS, namespace: cj.metadata.namespace }, job);
      this.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${jobName}`);
    } catch (e) {
      if (!isAlreadyExists(e)) {
        this.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`);
        throw e;
      }
      // Made by an earlier sync whose status write was lost: adopt it into status if it is ours.
      made = await this.ctx.client.get<KObject>({ ...JOBS, namespace: cj.metadata.namespace, name: jobName });
      if (controllerRef(made)?.uid !== cj.metadata.uid) return requeue;
    }
    if (!finishedCondition(made)) status.active = [...(status.active ?? []), jobRef(made)];
    status.lastScheduleTime = rfc3339(new Date(time));
    return requeue;
  }

  /** Delete the oldest finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit. */
  private async cleanupHistory(cj: KObject, jobs: KObject[]): Promise<void> {
    const limits: Array<['Complete' | 'Failed', number | undefined]> = [
      ['Complete', cj.spec.successfulJobsHistoryLimit],
      ['Failed', cj.spec.failedJobsHistoryLimit],
    ];
    for (const [kind, limit] of limits) {
      if (limit === undefined || limit === null) continue;
      const done = jobs
        .filter((j) => finishedCondition(j) === kind && !j.metadata.deletionTimestamp)
        .sort((a, b) => (parseTime(a.status?.startTime ?? a.metadata.creationTimestamp) ?? 0) - (parseTime(b.status?.startTime ?? b.metadata.creationTimestamp) ?? 0));
      for (const j of done.slice(0, Math.max(0, done.length - limit))) {
        try {
          await this.ctx.client.delete({ ...JOBS, namespace: j.metadata.namespace, name: j.metadata.name! }, { propagationPolicy: 'Background' });
          this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`);
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
  }
}

function jobRef(j: KObject): any {
  return { kind: 'Job', namespace: j.metadata.namespace, name: j.metadata.name, uid: j.metadata.uid, apiVersion: 'batch/v1', resourceVersion: j.metadata.resourceVersion };
}
