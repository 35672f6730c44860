import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../types.ts';
import { cronjobs } from './cron-job.ts';
import { cronScheduleError } from './cron-schedule.ts';
import { jobs } from './job.ts';

const now = Date.parse('2024-01-01T01:00:00Z');
const created = '2024-01-01T00:00:00Z';
const uid = '11111111-2222-3333-4444-555555555555';

function job(spec: any = {}): KObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid, creationTimestamp: created },
    spec: {
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34' }] } },
      ...spec,
    },
    status: { active: 9 },
  };
}

function createJob(obj: KObject): KObject {
  jobs.strategy.defaults!(obj);
  jobs.strategy.prepareForCreate!(obj, {});
  return obj;
}

test('job defaults and generated selector match upstream', () => {
  const j = createJob(job());
  assert.equal(j.spec.completions, 1);
  assert.equal(j.spec.parallelism, 1);
  assert.equal(j.spec.backoffLimit, 6);
  assert.equal(j.spec.completionMode, 'NonIndexed');
  assert.equal(j.spec.suspend, false);
  assert.equal(j.spec.manualSelector, false);
  assert.equal(j.spec.podReplacementPolicy, 'TerminatingOrFailed');
  assert.deepEqual(j.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
  assert.deepEqual(j.spec.template.metadata.labels, {
    'controller-uid': uid,
    'job-name': 'pi',
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': 'pi',
  });
  assert.deepEqual(j.status, {});
  assert.deepEqual(jobs.strategy.validate!(j), []);
  // Only parallelism given: completions stays unset.
  const p = createJob(job({ parallelism: 3 }));
  assert.equal(p.spec.completions, undefined);
  assert.equal(p.spec.parallelism, 3);
  // A pod failure policy switches the replacement default.
  const f = createJob(job({ podFailurePolicy: { rules: [{ action: 'FailJob', onPodConditions: [{ type: 'DisruptionTarget' }] }] } }));
  assert.equal(f.spec.podReplacementPolicy, 'Failed');
  assert.equal(f.spec.podFailurePolicy.rules[0].onPodConditions[0].status, 'True');
});

test('job validation paths', () => {
  const cases: [string, (j: KObject) => void, string[]][] = [
    ['restartPolicy Always', (j) => (j.spec.template.spec.restartPolicy = 'Always'), ['spec.template.spec.restartPolicy']],
    ['negative backoff', (j) => (j.spec.backoffLimit = -1), ['spec.backoffLimit']],
    ['bad completion mode', (j) => (j.spec.completionMode = 'Sometimes'), ['spec.completionMode']],
    ['hand-made selector', (j) => (j.spec.selector = { matchLabels: { a: 'b' } }), ['spec.template.metadata.labels', 'spec.selector', 'spec.template.metadata.labels']],
  ];
  for (const [name, mutate, want] of cases) {
    const j = job();
    jobs.strategy.defaults!(j);
    mutate(j);
    jobs.strategy.prepareForCreate!(j, {});
    const fields = jobs.strategy.validate!(j).map((e) => e.field);
    for (const w of new Set(want)) assert.ok(fields.some((f) => f.startsWith(w)), `${name}: ${fields.join(',')}`);
  }
  // manualSelector lets the user pick the selector.
  const m = job({ manualSelector: true, selector: { matchLabels: { a: 'b' } } });
  m.spec.template.metadata = { labels: { a: 'b' } };
  createJob(m);
  assert.deepEqual(jobs.strategy.validate!(m), []);
  assert.deepEqual(m.spec.template.metadata.labels, { a: 'b' });
});

test('job updates: template, selector and completions are immutable', () => {
  const old = createJob(job());
  const next = structuredClone(old);
  next.spec.template.spec.containers[0].image = 'perl:5.36';
  next.spec.completions = 2;
  assert.deepEqual(jobs.strategy.validateUpdate!(next, old).map((e) => e.field), ['spec.template', 'spec.completions']);
  const sel = structuredClone(old);
  sel.spec.selector = { matchLabels: { x: 'y' } };
  assert.ok(jobs.strategy.validateUpdate!(sel, old).some((e) => e.field === 'spec.selector'));
  const ok = structuredClone(old);
  ok.spec.suspend = true;
  ok.spec.activeDeadlineSeconds = 100;
  assert.deepEqual(jobs.strategy.validateUpdate!(ok, old), []);
  // A suspended, never-started job may change scheduling directives of its template.
  const suspended = createJob(job({ suspend: true }));
  const sched = structuredClone(suspended);
  sched.spec.template.spec.nodeSelector = { zone: 'a' };
  assert.deepEqual(jobs.strategy.validateUpdate!(sched, suspended), []);
});

test('job table row: status, completions, duration', () => {
  const j = createJob(job());
  const cases: [any, any, unknown[]][] = [
    [{}, {}, ['Running', '0/1', '']],
    [{}, { succeeded: 1, startTime: '2024-01-01T00:00:00Z', completionTime: '2024-01-01T00:00:12Z', conditions: [{ type: 'Complete', status: 'True' }] }, ['Complete', '1/1', '12s']],
    [{}, { startTime: '2024-01-01T00:55:00Z', conditions: [{ type: 'Failed', status: 'True' }] }, ['Failed', '0/1', '5m']],
    [{}, { conditions: [{ type: 'Suspended', status: 'True' }] }, ['Suspended', '0/1', '']],
    [{ completions: undefined, parallelism: 3 }, { succeeded: 2 }, ['Running', '2/1 of 3', '']],
  ];
  for (const [spec, status, want] of cases) {
    const o = structuredClone(j);
    Object.assign(o.spec, spec);
    if ('completions' in spec) delete o.spec.completions;
    o.status = status;
    const row = jobs.table!.row(o, now);
    assert.deepEqual(row.slice(1, 4), want);
    assert.deepEqual(row.slice(4), ['60m', 'pi', 'perl:5.34', `batch.kubernetes.io/controller-uid=${uid}`]);
  }
  assert.equal(jobs.fieldSelectors!['status.successful']({ ...j, status: { succeeded: 2 } }), '2');
});

test('cron schedule parsing accepts and rejects as robfig/cron', () => {
  const cases: [string, string | undefined][] = [
    ['*/5 * * * *', undefined],
    ['0 0 1 jan mon', undefined],
    ['0-30/10 1,2 * * 0-6', undefined],
    ['@hourly', undefined],
    ['@every 1h30m', undefined],
    ['@often', 'unrecognized descriptor: @often'],
    ['* * * *', 'expected exactly 5 fields, found 4: [* * * *]'],
    ['60 * * * *', 'end of range (60) above maximum (59): 60'],
    ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'],
    ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['', 'empty spec string'],
  ];
  for (const [spec, want] of cases) assert.equal(cronScheduleError(spec), want, spec);
});

function cronjob(spec: any = {}): KObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'hello', namespace: 'default', creationTimestamp: created },
    spec: {
      schedule: '*/1 * * * *',
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'hello', image: 'busybox' }] } } } },
      ...spec,
    },
  };
}

test('cronjob defaults match upstream', () => {
  const c = cronjob();
  cronjobs.strategy.defaults!(c);
  assert.equal(c.spec.concurrencyPolicy, 'Allow');
  assert.equal(c.spec.suspend, false);
  assert.equal(c.spec.successfulJobsHistoryLimit, 3);
  assert.equal(c.spec.failedJobsHistoryLimit, 1);
  // Job-level defaults are not applied to the template.
  assert.equal(c.spec.jobTemplate.spec.backoffLimit, undefined);
  assert.equal(c.spec.jobTemplate.spec.template.spec.dnsPolicy, 'ClusterFirst');
  assert.deepEqual(cronjobs.strategy.validate!(c), []);
});

test('cronjob validation paths and messages', () => {
  const cases: [string, any, string, RegExp][] = [
    ['bad schedule', { schedule: 'every minute' }, 'spec.schedule', /expected exactly 5 fields/],
    ['missing schedule', { schedule: '' }, 'spec.schedule', /^Required value$/],
    ['TZ prefix', { schedule: 'CRON_TZ=UTC 0 * * * *' }, 'spec.schedule', /cannot use TZ or CRON_TZ in schedule, use timeZone field instead/],
    ['unknown zone', { timeZone: 'Mars/Olympus' }, 'spec.timeZone', /unknown time zone Mars\/Olympus/],
    ['bad policy', { concurrencyPolicy: 'Sometimes' }, 'spec.concurrencyPolicy', /supported values: "Allow", "Forbid", "Replace"/],
    ['negative history', { failedJobsHistoryLimit: -1 }, 'spec.failedJobsHistoryLimit', /must be greater than or equal to 0/],
  ];
  for (const [name, spec, path, msg] of cases) {
    const c = cronjob(spec);
    cronjobs.strategy.defaults!(c);
    const errs = cronjobs.strategy.validate!(c);
    const e = errs.find((x) => x.field === path);
    assert.ok(e, `${name}: ${JSON.stringify(errs)}`);
    assert.match(e.detail, msg, name);
  }
  const tz = cronjob({ timeZone: 'Europe/Berlin' });
  cronjobs.strategy.defaults!(tz);
  assert.deepEqual(cronjobs.strategy.validate!(tz), []);
  const never = cronjob();
  never.spec.jobTemplate.spec.template.spec.restartPolicy = 'Always';
  cronjobs.strategy.defaults!(never);
  assert.deepEqual(cronjobs.strategy.validate!(never).map((e) => e.field), ['spec.jobTemplate.spec.template.spec.restartPolicy']);
  const long = cronjob();
  long.metadata.name = 'x'.repeat(53);
  cronjobs.strategy.defaults!(long);
  assert.deepEqual(cronjobs.strategy.validate!(long).map((e) => e.field), ['metadata.name']);
});

test('cronjob table row', () => {
  const c = cronjob();
  cronjobs.strategy.defaults!(c);
  c.status = { active: [{ name: 'hello-1' }], lastScheduleTime: '2024-01-01T00:59:30Z' };
  assert.deepEqual(cronjobs.table!.row(c, now), ['hello', '*/1 * * * *', '<none>', 'False', 1, '30s', '60m', 'hello', 'busybox', '<none>']);
});
