// Standard 5-field cron schedules (the robfig/cron "standard" dialect CronJobs use): lists, ranges,
// steps, month and weekday names, @-macros, read in an IANA time zone through Intl. Syntax checking
// is src/api/batch/cron-schedule.ts's job; this computes the times a schedule fires.

import { cronScheduleError } from '../../api/batch/cron-schedule.ts';

const months: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const days: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

const macros: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface Field {
  values: Set<number>;
  /** The field was `*` or `?` without a step > 1; decides how day-of-month and weekday combine. */
  star: boolean;
}

export interface CronSchedule {
  minute: Field;
  hour: Field;
  dom: Field;
  month: Field;
  dow: Field;
  timeZone: string;
}

function parseField(expr: string, min: number, max: number, names?: Record<string, number>): Field {
  const values = new Set<number>();
  let star = false;
  const num = (s: string) => names?.[s.toLowerCase()] ?? Number(s);
  for (const part of expr.split(',')) {
    const [range, stepStr] = part.split('/');
    const step = stepStr === undefined ? 1 : Number(stepStr);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = min;
      hi = max;
      if (step <= 1) star = true;
    } else {
      const [a, b] = range.split('-');
      lo = num(a);
      hi = b === undefined ? (stepStr === undefined ? lo : max) : num(b);
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return { values, star };
}

/** Parse a schedule; throws with the validator's message when it is invalid. */
export function parseSchedule(spec: string, timeZone?: string | null): CronSchedule {
  const err = cronScheduleError(spec);
  if (err) throw new Error(err);
  let s = spec.trim();
  let tz = timeZone || 'UTC';
  const m = /^(?:CRON_TZ|TZ)=(\S+)\s*(.*)$/.exec(s);
  if (m) {
    tz = m[1];
    s = m[2];
  }
  if (s.startsWith('@every')) throw new Error(`@every schedules are not supported: ${s}`);
  s = macros[s] ?? s;
  const f = s.split(/\s+/);
  const dow = parseField(f[4], 0, 7, days);
  if (dow.values.delete(7)) dow.values.add(0); // 7 is Sunday too
  return {
    minute: parseField(f[0], 0, 59),
    hour: parseField(f[1], 0, 23),
    dom: parseField(f[2], 1, 31),
    month: parseField(f[3], 1, 12, months),
    dow,
    timeZone: tz === 'Local' ? 'UTC' : tz,
  };
}

interface Wall {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(ms: number, tz: string): Wall {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    formatters.set(tz, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year, mo: parts.month, d: parts.day, h: parts.hour % 24, mi: parts.minute };
}

/** Offset of tz from UTC at instant ms, in ms. */
export function zoneOffsetMs(ms: number, tz: string): number {
  const w = wallClock(ms, tz);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi) - Math.floor(ms / 60_000) * 60_000;
}

/** The instant a wall-clock minute in tz happens, or undefined when it falls in a DST gap. */
function instantOf(w: Wall, tz: string): number | undefined {
  const asUtc = Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi);
  for (const guess of [asUtc - zoneOffsetMs(asUtc, tz), asUtc - zoneOffsetMs(asUtc - zoneOffsetMs(asUtc, tz), tz)]) {
    const back = wallClock(guess, tz);
    if (back.y === w.y && back.mo === w.mo && back.d === w.d && back.h === w.h && back.mi === w.mi) return guess;
  }
  return undefined;
}

function dayMatches(s: CronSchedule, y: number, mo: number, d: number): boolean {
  const domOk = s.dom.values.has(d);
  const dowOk = s.dow.values.has(new Date(Date.UTC(y, mo - 1, d)).getUTCDay());
  return s.dom.star || s.dow.star ? domOk && dowOk : domOk || dowOk;
}

/** The first time the schedule fires strictly after `afterMs`, or undefined within five years. */
export function nextTime(s: CronSchedule, afterMs: number): number | undefined {
  const start = Math.floor(afterMs / 60_000) * 60_000 + 60_000;
  const w = wallClock(start, s.timeZone);
  const hours = [...s.hour.values].sort((a, b) => a - b);
  const minutes = [...s.minute.values].sort((a, b) => a - b);
  // Walk calendar days in the zone, and within a matching day its hours and minutes.
  for (let i = 0; i < 366 * 5; i++) {
    const day = new Date(Date.UTC(w.y, w.mo - 1, w.d + i));
    const y = day.getUTCFullYear();
    const mo = day.getUTCMonth() + 1;
    const d = day.getUTCDate();
    if (!s.month.values.has(mo) || !dayMatches(s, y, mo, d)) continue;
    for (const h of hours) {
      if (i === 0 && h < w.h) continue;
      for (const mi of minutes) {
        if (i === 0 && h === w.h && mi < w.mi) continue;
        const t = instantOf({ y, mo, d, h, mi }, s.timeZone);
        if (t !== undefined && t >= start) return t;
      }
    }
  }
  return undefined;
}

/**
 * Upstream mostRecentScheduleTime: the latest fire time in (earliest, now], and how many fire times
 * were missed in that window (counting stops a little past 100, which is all callers need).
 */
export function mostRecentTime(s: CronSchedule, earliestMs: number, nowMs: number): { time?: number; missed: number } {
  let t = nextTime(s, earliestMs);
  let last: number | undefined;
  let missed = 0;
  while (t !== undefined && t <= nowMs) {
    last = t;
    missed++;
    if (missed > 101) {
      // Many missed runs: look back from now in a doubling window instead of walking them all.
      for (let w = 60_000; w < 6 * 366 * 86_400_000; w *= 2) {
        let u = nextTime(s, Math.max(t, nowMs - w));
        if (u === undefined || u > nowMs) continue;
        while (u !== undefined && u <= nowMs) {
          last = u;
          u = nextTime(s, u);
        }
        break;
      }
      return { time: last, missed };
    }
    t = nextTime(s, t);
  }
  return { time: last, missed };
}
