// The API server's side of a console load, for `npm run bench -- console`: a preload for the
// server (NODE_OPTIONS=--import=...) that records, on its main thread, in epoch ms (the clock a
// page's performance.timeOrigin is on, so both line up): every TLS connection accepted and its
// handshake done; every request of the console's pages (under /ui/, or carrying X-Mizzen-UI) when
// its request was parsed, its head written and its body handed to the socket; every GC pause; and
// every stretch of 10 ms or more in which a 1 ms timer could not run (the event loop busy, or the
// thread not given a CPU: the main thread's own run time in it says which). A request's record
// also says how much CPU the main thread used from its parse to its head (the handler's, when
// that runs in one go).
// Records are appended to FILE as JSON lines every 100 ms. `serverSide` sums one load's window.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { GC_KINDS } from './page-timeline.ts';
import os from 'node:os';
import path from 'node:path';

export function consoleServerPreload(file: string): string {
  const pre = path.join(mkdtempSync(path.join(os.tmpdir(), 'mizzen-console-tl-')), 'preload.mjs');
  writeFileSync(
    pre,
    `import https from 'node:https';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { PerformanceObserver } from 'node:perf_hooks';
if (isMainThread) {
  const file = ${JSON.stringify(file)};
  writeFileSync(file, '');
  const now = () => performance.timeOrigin + performance.now();
  let out = [];
  const emit = https.Server.prototype.emit;
  // TCP accepted → handshake done, matched by the client's port.
  const accepted = new Map();
  https.Server.prototype.emit = function (ev, a, b) {
    if (ev === 'connection') {
      accepted.set(a.remotePort, now());
    } else if (ev === 'secureConnection') {
      const t = accepted.get(a.remotePort);
      accepted.delete(a.remotePort);
      if (t !== undefined) out.push({ t: 'conn', accepted: t, secure: now() });
    } else if (ev === 'request') {
      const url = a.url || '';
      if (url.startsWith('/ui') || a.headers['x-mizzen-ui'] !== undefined) {
        const r = { t: 'req', url: url.slice(0, 80), read: now(), run0: run() };
        const writeHead = b.writeHead;
        b.writeHead = function (...x) { r.head = now(); r.runMs = (run() - r.run0) / 1e6; r.status = x[0]; return writeHead.apply(this, x); };
        b.once('finish', () => { r.finish = now(); out.push(r); });
        b.once('close', () => { if (r.finish === undefined) { r.closed = now(); out.push(r); } });
      }
    }
    return emit.apply(this, arguments);
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) out.push({ t: 'gc', start: performance.timeOrigin + e.startTime, ms: e.duration, kind: e.detail?.kind ?? e.kind });
  }).observe({ entryTypes: ['gc'] });
  const run = () => Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
  let last = now();
  let lastRun = run();
  setInterval(() => {
    const t = now();
    const r = run();
    if (t - last >= 10) out.push({ t: 'block', start: last, end: t, runMs: (r - lastRun) / 1e6 });
    last = t;
    lastRun = r;
  }, 1).unref();
  setInterval(() => {
    if (!out.length) return;
    appendFileSync(file, out.map((x) => JSON.stringify(x)).join('\\n') + '\\n');
    out = [];
  }, 100).unref();
}
`,
  );
  return pre;
}

const r = (x: number) => Math.round(x);

/**
 * The server's side of one load, in ms from the page's time origin `t0` (epoch ms) up to `until`
 * ms: each console request (parsed → head → body out), the connections it accepted (→ handshake
 * done), the GC pauses and event-loop blocks in that window.
 */
export function serverSide(file: string, t0: number, until: number): Record<string, unknown> {
  let recs: any[];
  try {
    recs = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return {};
  }
  const end = t0 + until;
  const inWin = (a: number, b = a) => b >= t0 && a <= end;
  const out: Record<string, unknown> = {};
  // Requests: short names for the first load's own.
  const name = (u: string) =>
    u.startsWith('/ui/login') ? 'login' : u.startsWith('/ui/assets/index-') ? 'appJs' : u.startsWith('/ui/assets/main-') ? 'workerJs' : u.startsWith('/api/v1/nodes?includeObject=None') ? 'table' : u.slice(0, 48);
  out.requests = recs
    .filter((x) => x.t === 'req' && inWin(x.read, x.finish ?? x.closed ?? x.read))
    .sort((a, b) => a.read - b.read)
    // parsed → head written (main thread's CPU ms in between) → body handed to the socket.
    .map((x) => `${name(x.url)} ${r(x.read - t0)}→${x.head !== undefined ? `${r(x.head - t0)}(${Math.round(x.runMs * 10) / 10})` : '-'}→${x.finish !== undefined ? r(x.finish - t0) : 'open'}`);
  out.handshakes = recs.filter((x) => x.t === 'conn' && inWin(x.accepted, x.secure)).map((x) => `${r(x.accepted - t0)}→${r(x.secure - t0)}`);
  const gcs = recs.filter((x) => x.t === 'gc' && inWin(x.start, x.start + x.ms));
  out.gc = { count: gcs.length, ms: r(gcs.reduce((a, g) => a + g.ms, 0)), list: gcs.filter((g) => g.ms >= 5).map((g) => `${GC_KINDS[g.kind] ?? g.kind} ${r(g.ms)}@${r(g.start - t0)}`) };
  const blocks = recs.filter((x) => x.t === 'block' && inWin(x.start, x.end));
  out.loopBlocks = {
    count: blocks.length,
    ms: r(blocks.reduce((a, b) => a + (b.end - b.start), 0)),
    runMs: r(blocks.reduce((a, b) => a + b.runMs, 0)),
    // The longest few: wall ms / ms the main thread ran in it @ start.
    longest: [...blocks].sort((a, b) => b.end - b.start - (a.end - a.start)).slice(0, 4).map((b) => `${r(b.end - b.start)}/${r(b.runMs)}@${r(b.start - t0)}`),
  };
  return out;
}
