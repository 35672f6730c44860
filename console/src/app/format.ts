// Numbers and times as people read them.

import { clockSkew } from '../shared/http.ts';

/** Now on the server's clock (ms). */
export function serverNow(): number {
  return Date.now() + clockSkew();
}

export function duration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  if (ms < 3600_000) return `${Math.floor(ms / 60_000)}m${Math.floor((ms % 60_000) / 1000)}s`;
  if (ms < 86400_000) return `${Math.floor(ms / 3600_000)}h${Math.floor((ms % 3600_000) / 60_000)}m`;
  return `${Math.floor(ms / 86400_000)}d${Math.floor((ms % 86400_000) / 3600_000)}h`;
}

export function age(t: number | undefined): string {
  if (!t) return '';
  const ms = serverNow() - t;
  if (ms < 1000) return 'now';
  return duration(ms).replace(/\.\d+ s$/, 's').replace(/ /g, '');
}

export function cpu(milli: number): string {
  return milli >= 1000 ? `${(milli / 1000).toFixed(milli % 1000 ? 1 : 0)}` : `${milli}m`;
}

export function bytes(b: number): string {
  const units = ['B', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi'];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) {
    b /= 1024;
    i++;
  }
  return `${b >= 10 || i === 0 ? Math.round(b) : b.toFixed(1)}${units[i]}`;
}

/**
 * 150000 as "150,000". Hand-written: the first toLocaleString() of a page loads the locale's
 * number data, which took 0.1-0.7 s of the main thread at first load (profiled at 5,000 nodes).
 */
export function count(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const neg = n < 0;
  const s = String(Math.round(Math.abs(n)));
  let out = s.slice(0, s.length % 3 || 3);
  for (let i = out.length; i < s.length; i += 3) out += `,${s.slice(i, i + 3)}`;
  return neg ? `-${out}` : out;
}
