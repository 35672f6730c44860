// What each LIST page waited for, server side: a preload for the server (NODE_OPTIONS=--import=...)
// that records, on the API server's main thread, for every request carrying `x-bench-page: N`, when
// its request was parsed (the socket's bytes read by the HTTP parser), when its head was written
// (the handler's work done) and when its body was handed to the socket ('finish'); every GC pause
// (PerformanceObserver 'gc'); and every stretch of more than BLOCK_MS in which a 1 ms timer could not
// run (the event loop busy). Times are process.hrtime in ns, CLOCK_MONOTONIC, which the benchmark
// client reads too, and which V8's CPU profiles use (µs): so a page sent and received by the client
// lines up with the server's records and with the samples of a `cpu-profile-window` profile.
// Records are appended to FILE as JSON lines once a second. `explainPages` joins them.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A loop turn this long or longer (ms) is recorded as a block. */
const BLOCK_MS = 4;

export function pageTimelinePreload(file: string): string {
  const pre = path.join(mkdtempSync(path.join(os.tmpdir(), 'mizzen-pagetl-')), 'preload.mjs');
  writeFileSync(
    pre,
    `import https from 'node:https';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { PerformanceObserver } from 'node:perf_hooks';
if (isMainThread) {
  const file = ${JSON.stringify(file)};
  writeFileSync(file, '');
  const hr = () => Number(process.hrtime.bigint());
  // performance.now() (ms since timeOrigin) to hrtime ns.
  const base = hr() - performance.now() * 1e6;
  let out = [];
  const emit = https.Server.prototype.emit;
  https.Server.prototype.emit = function (ev, req, res) {
    if (ev === 'request' && req.headers['x-bench-page'] !== undefined) {
      const r = { t: 'page', page: Number(req.headers['x-bench-page']), read: hr() };
      const writeHead = res.writeHead;
      res.writeHead = function (...a) { r.head = hr(); return writeHead.apply(this, a); };
      res.once('finish', () => { r.finish = hr(); out.push(r); });
    }
    return emit.apply(this, arguments);
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) out.push({ t: 'gc', start: Math.round(base + e.startTime * 1e6), ms: e.duration, kind: e.detail?.kind ?? e.kind });
  }).observe({ entryTypes: ['gc'] });
  // The main thread's time on a CPU (schedstat, ns): a block with little of it was the machine
  // running other threads, not this one working.
  const run = () => Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
  let last = hr();
  let lastRun = run();
  setInterval(() => {
    const now = hr();
    const r = run();
    if (now - last >= ${BLOCK_MS} * 1e6) out.push({ t: 'block', start: last, end: now, run: r - lastRun });
    last = now;
    lastRun = r;
  }, 1).unref();
  setInterval(() => {
    if (!out.length) return;
    appendFileSync(file, out.map((x) => JSON.stringify(x)).join('\\n') + '\\n');
    out = [];
  }, 1000).unref();
}
`,
  );
  return pre;
}

/** One page as the client saw it: hrtime ns when sent and when its whole body was in. */
export interface ClientPage {
  page: number;
  sent: number;
  received: number;
  /** The server's main thread over the page, from /proc schedstat: ns on a CPU, ns waiting for one. */
  mainRunNs?: number;
  mainWaitNs?: number;
}

/** The main thread's schedstat: ns run, ns waited on a run queue. */
export function mainSchedstat(pid: number): [number, number] {
  const f = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ');
  return [Number(f[0]), Number(f[1])];
}

interface ServerPage { page: number; read: number; head?: number; finish?: number }
interface Gc { start: number; ms: number; kind: number }
interface Block { start: number; end: number; run: number }

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

// perf_hooks' constants.NODE_PERFORMANCE_GC_*: MINOR 1, MAJOR 4, INCREMENTAL 8, WEAKCB 16.
export const GC_KINDS: Record<number, string> = { 1: 'scavenge', 4: 'mark-compact', 8: 'incremental', 16: 'weak' };
const ms = (ns: number) => Math.round(ns / 1e4) / 100;

/**
 * Each page split into: waiting to be read (sent → parsed), the handler (parsed → head written),
 * the body (head → handed to the socket), the client's read of the rest (→ received); with the
 * GC pauses and loop blocks that overlapped it, the main thread's run-queue wait, and, when a
 * main-thread CPU profile of the walk is given, where its samples inside the page went (self time
 * by function, the top few). The slowest `slowest` pages in full, all pages summed.
 */
export function explainPages(client: ClientPage[], timelineFile: string, profileFile?: string, slowest = 12): Record<string, unknown> {
  const recs = readFileSync(timelineFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const server = new Map<number, ServerPage>(recs.filter((r) => r.t === 'page').map((r) => [r.page, r]));
  const gcs: Gc[] = recs.filter((r) => r.t === 'gc');
  const blocks: Block[] = recs.filter((r) => r.t === 'block');
  let samples: { t: number; fn: string; entry: string }[] = [];
  if (profileFile) {
    const p = JSON.parse(readFileSync(profileFile, 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((x) => [x.id, x]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const name = (id: number) => {
      const cf = byId.get(id)!.callFrame;
      return `${cf.functionName || '(anon)'}${cf.url ? ` ${path.basename(cf.url)}:${cf.lineNumber + 1}` : ''}`;
    };
    const ours = (id: number) => /\/dist\/|\/src\//.test(byId.get(id)!.callFrame.url);
    // The task a sample belongs to: the outermost two of Mizzen's own frames on its stack (the
    // callback the event loop ran), else the outermost frame below the root.
    const entries = new Map<number, string>();
    const entryOf = (id: number): string => {
      let e = entries.get(id);
      if (e !== undefined) return e;
      const stack: number[] = [];
      for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) stack.unshift(x);
      const own = stack.filter(ours);
      e = own.length ? own.slice(0, 2).map(name).join(' > ') : stack.length > 1 ? name(stack[1]!) : name(id);
      entries.set(id, e);
      return e;
    };
    let t = p.startTime;
    samples = p.samples.map((id, i) => {
      t += p.timeDeltas[i] ?? 0;
      // A native self frame says little: name its JS caller with it.
      const cf = byId.get(id)!.callFrame;
      const up = parent.get(id);
      return { t: t * 1000, fn: !cf.url && up !== undefined && byId.get(up)!.callFrame.url ? `${name(id)} < ${name(up)}` : name(id), entry: entryOf(id) };
    });
  }
  const overlap = (a0: number, a1: number, b0: number, b1: number) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
  const rows = client.map((c) => {
    const s = server.get(c.page);
    const pageGcs = gcs.filter((g) => overlap(c.sent, c.received, g.start, g.start + g.ms * 1e6) > 0);
    const pageBlocks = blocks.filter((b) => overlap(c.sent, c.received, b.start, b.end) > 0);
    const row: Record<string, unknown> = {
      page: c.page,
      totalMs: ms(c.received - c.sent),
      waitReadMs: s ? ms(s.read - c.sent) : undefined,
      handlerMs: s?.head ? ms(s.head - s.read) : undefined,
      bodyMs: s?.head && s.finish ? ms(s.finish - s.head) : undefined,
      clientTailMs: s?.finish ? ms(c.received - s.finish) : undefined,
      mainRunMs: c.mainRunNs !== undefined ? ms(c.mainRunNs) : undefined,
      mainRunQueueMs: c.mainWaitNs !== undefined ? ms(c.mainWaitNs) : undefined,
      gcMs: Math.round(pageGcs.reduce((a, g) => a + g.ms, 0) * 100) / 100,
      gc: pageGcs.map((g) => `${GC_KINDS[g.kind] ?? g.kind} ${Math.round(g.ms * 10) / 10}`),
      // Each loop block over the page: wall ms / ms the main thread ran in it.
      blocksMs: pageBlocks.map((b) => `${ms(b.end - b.start)}/${ms(b.run)}`),
    };
    if (samples.length) {
      const by = new Map<string, number>();
      let n = 0;
      for (const x of samples) if (x.t >= c.sent && x.t <= c.received) (by.set(x.fn, (by.get(x.fn) ?? 0) + 1), n++);
      row.profileSamples = n;
      row.profileTop = [...by].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([f, k]) => `${k} ${f}`);
    }
    return row;
  });
  // The walk's long tasks (blocks in which the main thread itself ran 5 ms or more), by the task
  // most of their samples belong to: what a page that arrives during one waits behind.
  const t0 = client[0]?.sent ?? 0;
  const t1 = client[client.length - 1]?.received ?? 0;
  const longTasks = blocks.filter((b) => b.end >= t0 && b.start <= t1 && b.run >= 5e6);
  const causes = new Map<string, { n: number; runMs: number; maxRunMs: number }>();
  for (const b of longTasks) {
    const by = new Map<string, number>();
    for (const x of samples) if (x.t >= b.start && x.t <= b.end) by.set(x.entry, (by.get(x.entry) ?? 0) + 1);
    const top = [...by].sort((a, c) => c[1] - a[1])[0]?.[0] ?? '(no samples)';
    const c = causes.get(top) ?? { n: 0, runMs: 0, maxRunMs: 0 };
    c.n++;
    c.runMs += b.run / 1e6;
    c.maxRunMs = Math.max(c.maxRunMs, b.run / 1e6);
    causes.set(top, c);
  }
  const walkEntries = new Map<string, number>();
  for (const x of samples) if (x.t >= t0 && x.t <= t1) walkEntries.set(x.entry, (walkEntries.get(x.entry) ?? 0) + 1);
  const sum = (k: string) => Math.round(rows.reduce((a, r) => a + ((r[k] as number) ?? 0), 0));
  const slow = [...rows].sort((a, b) => (b.totalMs as number) - (a.totalMs as number)).slice(0, slowest);
  return {
    pages: rows.length,
    sumMs: { total: sum('totalMs'), waitRead: sum('waitReadMs'), handler: sum('handlerMs'), body: sum('bodyMs'), clientTail: sum('clientTailMs'), mainRunQueue: sum('mainRunQueueMs'), gc: sum('gcMs') },
    gcPausesDuringWalk: gcs.filter((g) => client.length && g.start >= client[0]!.sent && g.start <= client[client.length - 1]!.received).length,
    longTasks: { count: longTasks.length, runMs: Math.round(longTasks.reduce((a, b) => a + b.run, 0) / 1e6), byCause: [...causes].sort((a, b) => b[1].runMs - a[1].runMs).slice(0, 10).map(([k, v]) => ({ cause: k, n: v.n, runMs: Math.round(v.runMs), maxRunMs: Math.round(v.maxRunMs * 10) / 10 })) },
    // The main thread's samples over the whole walk, by task.
    walkSamplesByTask: [...walkEntries].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, n]) => `${n} ${k}`),
    slowest: slow,
  };
}
