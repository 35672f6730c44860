import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mostRecentTime, nextTime, parseSchedule } from './schedule.ts';

const at = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('cron schedules', () => {
  it('steps, ranges, lists and names', () => {
    const s = parseSchedule('*/15 9-10 * JAN,FEB MON-FRI');
    // 2024-01-06 is a Saturday: next is Monday 2024-01-08 09:00.
    assert.equal(iso(nextTime(s, at('2024-01-06T12:00:00Z'))), '2024-01-08T09:00:00.000Z');
    assert.equal(iso(nextTime(s, at('2024-01-08T09:00:00Z'))), '2024-01-08T09:15:00.000Z');
    assert.equal(iso(nextTime(s, at('2024-01-08T10:45:00Z'))), '2024-01-09T09:00:00.000Z');
    assert.equal(iso(nextTime(s, at('2024-02-29T10:50:00Z'))), '2025-01-01T09:00:00.000Z');
  });

  it('combines day of month and weekday with OR unless one is a star', () => {
    const or = parseSchedule('0 0 13 * FRI');
    // Next after 2024-09-01: Friday 6th comes before the 13th.
    assert.equal(iso(nextTime(or, at('2024-09-01T00:00:00Z'))), '2024-09-06T00:00:00.000Z');
    const and = parseSchedule('0 0 * * FRI');
    assert.equal(iso(nextTime(and, at('2024-09-06T00:00:00Z'))), '2024-09-13T00:00:00.000Z');
    const sunday = parseSchedule('0 0 * * sun');
    assert.equal(new Date(nextTime(sunday, at('2024-09-01T00:00:00Z'))!).getUTCDay(), 0);
  });

  it('macros', () => {
    const t = at('2024-05-15T10:20:00Z');
    assert.equal(iso(nextTime(parseSchedule('@hourly'), t)), '2024-05-15T11:00:00.000Z');
    assert.equal(iso(nextTime(parseSchedule('@daily'), t)), '2024-05-16T00:00:00.000Z');
    assert.equal(iso(nextTime(parseSchedule('@midnight'), t)), '2024-05-16T00:00:00.000Z');
    assert.equal(iso(nextTime(parseSchedule('@weekly'), t)), '2024-05-19T00:00:00.000Z');
    assert.equal(iso(nextTime(parseSchedule('@monthly'), t)), '2024-06-01T00:00:00.000Z');
    assert.equal(iso(nextTime(parseSchedule('@yearly'), t)), '2025-01-01T00:00:00.000Z');
    assert.equal(iso(nextTime(parseSchedule('@annually'), t)), '2025-01-01T00:00:00.000Z');
  });

  it('reads times in the given time zone, across daylight saving changes', () => {
    const s = parseSchedule('0 9 * * *', 'Europe/Berlin');
    assert.equal(iso(nextTime(s, at('2024-01-10T00:00:00Z'))), '2024-01-10T08:00:00.000Z');
    assert.equal(iso(nextTime(s, at('2024-07-10T00:00:00Z'))), '2024-07-10T07:00:00.000Z');
    const ny = parseSchedule('CRON_TZ=America/New_York 30 1 * * *');
    assert.equal(iso(nextTime(ny, at('2024-01-10T00:00:00Z'))), '2024-01-10T06:30:00.000Z');
  });

  it('rejects invalid schedules with the validator message', () => {
    assert.throws(() => parseSchedule('61 * * * *'), /end of range \(61\) above maximum \(59\)/);
  });

  it('finds the most recent time and counts misses', () => {
    const s = parseSchedule('* * * * *');
    const r = mostRecentTime(s, at('2024-01-01T00:00:00Z'), at('2024-01-01T00:03:30Z'));
    assert.equal(iso(r.time), '2024-01-01T00:03:00.000Z');
    assert.equal(r.missed, 3);
    const many = mostRecentTime(s, at('2024-01-01T00:00:00Z'), at('2024-03-01T00:00:30Z'));
    assert.equal(iso(many.time), '2024-03-01T00:00:00.000Z');
    assert.ok(many.missed > 100);
    assert.equal(mostRecentTime(s, at('2024-01-01T00:00:00Z'), at('2024-01-01T00:00:30Z')).time, undefined);
  });
});
