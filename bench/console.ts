// The web console at size: `npm run bench -- console [--nodes 5000] [--pods 50000] [--clients 16]
// [--runs 3] [--compare DIR] [--timeout-seconds 600] [--churn-seconds S [--churn-rate 200]]`.
//
// Starts `mizzen up` with heartbeat-only simulated nodes (their Leases renewed every 10 s, pods
// left as bound), creates the pods in bulk already bound to nodes (round robin, so the scheduler is
// not what is measured), then opens the console's one-time login link in headless Chromium, each
// time in a fresh browser context (empty cache, no session: a first visit), `--runs` times.
//
// What a user sees is timed inside the page, from the moment the login link is opened (the
// document's time origin, which includes the login's redirect), by a check run at every frame:
//   shellMs       the page's header drawn (logged in)
//   firstLoadMs   THE FIRST LOAD: the first frame that paints the map with every node: the
//                 nodes' counts (Ready / NotReady of total) and the canvas holding a cell for each
//                 node, coloured by its health (the canvas says so in data-drawn, set as it is
//                 drawn, before that frame is painted)
//   completeMs    the map complete: every pod counted and drawn into its node's cell, and all four
//                 lists (nodes, Leases, pods, events) loaded
//   heartbeatsMs  (builds that mark it) every node drawn with its health and its Lease's heartbeat
//   longTasks     main-thread tasks over 50 ms (count, over 200 ms, total, max) during the load, and
//                 in 10 s of steady state after it (heartbeats arriving at nodes/10 per second; each
//                 build's last run)
//   inputDuringLoad  a key pressed every ~200 ms while the page loads: how late its handler ran
//                 (from the input's timestamp), p50 / p95 / max: whether the page stays responsive
// `--churn-seconds S`: after each counted load, a burst of pod changes on the loaded page: `--churn-rate`
// pods a second created without a node (the scheduler binds them) and deleted 5 s later, for S
// seconds, with the same long tasks and key presses measured over it (`churn`).
// `--page-profile DIR`: a CPU profile of the page's main thread (Chromium's, through CDP) over each
// counted load, written to DIR/<build>-<n>.cpuprofile (summarise with bench/lib/cpuprofile-summary.ts):
// where the long tasks went.
// `--server-timeline`: the API server records its side of each load (bench/lib/console-server-
// timeline.ts: each console request parsed → head (its handler's CPU) → body out, TLS handshakes,
// GC pauses, event-loop blocks), printed with each run as `server`, on the page's clock.
// The first load is printed over all runs too (`firstLoad`: min, median, p90, max, how many over
// 1 s): the target holds for every load, not the median.
// `--compare DIR` loads a second build of the console (e.g. one of an older commit, built with
// `node console/build.mjs` in a checkout of it) in turns with this one, on the same cluster, so a
// busy machine's noise falls on both alike. Prints one JSON line with each run and the medians.
// The targets (issue 18): first load under 1 s, no freeze (no long task of several hundred ms)
// at 5,000 nodes and 150,000 pods.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster, request, rssMB, tlsCreds, type BenchCluster } from './lib/cluster.ts';
import { FastConnection } from './lib/fast-client.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { nativeCreates, pickClient } from './lib/native-clients.ts';
import { browserMissing, launchBrowser, newContext } from '../e2e/browser.ts';
import { consoleServerPreload, serverSide } from './lib/console-server-timeline.ts';

async function waitNodes(c: BenchCluster, want: number, timeoutMs: number): Promise<string[]> {
  const t0 = Date.now();
  for (;;) {
    const r = await request(c, 'GET', '/api/v1/nodes');
    const items = JSON.parse(r.body).items as any[];
    if (items.length >= want) return items.map((n) => n.metadata.name);
    if (Date.now() - t0 > timeoutMs) throw new Error(`only ${items.length} of ${want} nodes after ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function createPods(c: BenchCluster, nodes: string[], total: number, conns: number): Promise<number> {
  const ns = 'console-bench';
  await request(c, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const pod = (name: string, node: string) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { app: 'console-bench' } },
      spec: { nodeName: node, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
    });
  // The native client (bench/lib/native-clients.ts) where the nodes are named PREFIX-0 … PREFIX-(n-1)
  // (simulated nodes are): pod i goes to node i % n through its {MOD}. It costs the server's two
  // cores a fraction of what Node's TLS client does, which matters at 150,000 pods.
  const prefix = /^(.*)-0$/.exec(nodes.find((n) => n.endsWith('-0')) ?? '')?.[1];
  const named = prefix !== undefined && new Set(nodes).size === nodes.length && nodes.every((n) => n.startsWith(`${prefix}-`) && Number(n.slice(prefix.length + 1)) < nodes.length);
  if (named && pickClient('native') === 'native') {
    const template = pod('{NAME}', `${prefix}-{MOD}`);
    return nativeCreates(tlsCreds(c), c.dataDir, `/api/v1/namespaces/${ns}/pods`, conns, total, 'p', template, nodes.length);
  }
  const pool = await Promise.all(Array.from({ length: conns }, () => FastConnection.open(tlsCreds(c))));
  const t0 = performance.now();
  let next = 0;
  try {
    await Promise.all(
      pool.map(async (fc) => {
        for (let i = next++; i < total; i = next++) {
          const r = await fc.request('POST', `/api/v1/namespaces/${ns}/pods`, pod(`p-${i}`, nodes[i % nodes.length]!));
          if (r.status !== 201) throw new Error(`create p-${i}: ${r.status} ${r.body.toString().slice(0, 200)}`);
        }
      }),
    );
  } finally {
    for (const fc of pool) fc.close();
  }
  return (total / (performance.now() - t0)) * 1000;
}

interface Run {
  build: string;
  wallMs: number;
  shellMs: number;
  firstLoadMs: number;
  heartbeatsMs?: number;
  completeMs: number;
  longTasksDuringLoad: LongTasks;
  longTasksSteady10s?: LongTasks;
  /** Input delays (a key pressed every ~200 ms) while the pods loaded: how soon the page answered. */
  inputDuringLoad?: InputDelays;
  /** The churn (--churn-seconds): pods created, bound by the scheduler and deleted meanwhile. */
  churn?: { seconds: number; created: number; deleted: number; bound: number; longTasks: LongTasks; input: InputDelays };
  pageHeapMB?: number;
  /** Resident memory of the tab's renderer process (the page and its data worker), at the end. */
  tabRssMB?: number;
  /** The largest of those seen during the load (sampled every 10 s, and at the end). */
  tabRssPeakMB?: number;
  /** Where the first load's time went (ms from the link opened; see BREAKDOWN). */
  breakdown?: Record<string, number | string>;
  /** The page's main-thread tasks over 50 ms before the first load (count, total, max). */
  longTasksBeforeFirstLoad?: { count: number; totalMs: number; maxMs: number; list: string[] };
  /** `--server-timeline`: the API server's side of the first load (console-server-timeline.ts). */
  server?: Record<string, unknown>;
}

/**
 * The first load's waterfall, from the page's navigation and resource timings: the login's
 * redirect, index.html, the app's script, the nodes' Table (asked, first byte, last byte, and its
 * size on the wire / decoded), the first paint. A string: evaluated in the page.
 */
const BREAKDOWN = `(() => {
  const r = (x) => Math.round(x);
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const find = (part, end) => res.find((e) => e.name.includes(part) && e.name.endsWith(end));
  const out = {};
  if (nav) Object.assign(out, { redirectEnd: r(nav.redirectEnd), htmlConnectStart: r(nav.connectStart), htmlTlsStart: r(nav.secureConnectionStart), htmlConnectEnd: r(nav.connectEnd), htmlRequestStart: r(nav.requestStart), htmlFirstByte: r(nav.responseStart), htmlEnd: r(nav.responseEnd), domInteractive: r(nav.domInteractive) });
  // A request that had to open its own connection (a TLS handshake with the API server) says how long that took.
  const conn = (e) => (e.connectEnd > e.connectStart ? r(e.connectEnd - e.connectStart) : 0);
  if (nav) out.htmlConnectMs = conn(nav);
  const js = find('/ui/assets/index-', '.js');
  if (js) Object.assign(out, { scriptAsked: r(js.startTime), scriptEnd: r(js.responseEnd), scriptConnectMs: conn(js) });
  const wk = find('/ui/assets/main-', '.js');
  if (wk) Object.assign(out, { workerScriptAsked: r(wk.startTime), workerScriptEnd: r(wk.responseEnd), workerScriptConnectMs: conn(wk) });
  const t = find('/api/v1/nodes?includeObject=None', '');
  if (t) Object.assign(out, { tableAsked: r(t.startTime), tableConnectMs: conn(t), tableFirstByte: r(t.responseStart), tableEnd: r(t.responseEnd), tableKB: r(t.encodedBodySize / 1024) + '/' + r(t.decodedBodySize / 1024) });
  // The page's own marks of each step (builds that make them): its script run, the Table's
  // answer, its body, parsed (on the page), then the map painted.
  for (const [k, name] of [['appScript', 'mizzen:app'], ['tableMarkAsked', 'mizzen:table-asked'], ['tableResponse', 'mizzen:table-response'], ['tableBody', 'mizzen:table-body'], ['tableParsed', 'mizzen:table-parsed']]) {
    const m = performance.getEntriesByName(name)[0];
    if (m) out[k] = r(m.startTime);
  }
  const drawn = performance.getEntriesByName('mizzen:map').find((e) => e.detail && e.detail.nodes > 0);
  if (drawn) out.firstMapMark = r(drawn.startTime);
  // Builds with a first paint (index.html draws the nodes before the app's script runs): when the
  // app's own map replaced it.
  const own = performance.getEntriesByName('mizzen:map').find((e) => e.detail && e.detail.nodes > 0 && !e.detail.firstPaint);
  if (own && own !== drawn) out.appMapMark = r(own.startTime);
  if (document.getElementById('first-paint')) out.firstPaintLeft = 'yes: the app did not take over';
  const fcp = performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint');
  if (fcp) out.firstContentfulPaint = r(fcp.startTime);
  return out;
})()`;

/**
 * The largest resident set among this process's Chromium renderers (the tab under test: one
 * page, with its worker, is open at a time). Only processes descended from this one are looked at,
 * so other Chromiums on the machine do not count.
 */
function tabRssMB(): number | undefined {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  let best: number | undefined;
  const walk = (pid: number) => {
    for (const k of kids.get(pid) ?? []) {
      try {
        if (readFileSync(`/proc/${k}/cmdline`, 'utf8').includes('--type=renderer')) best = Math.max(best ?? 0, Math.round(rssMB(k)));
      } catch {
        // gone meanwhile
      }
      walk(k);
    }
  };
  walk(process.pid);
  return best;
}

/** Main-thread tasks over 50 ms (the longtask API's floor): how many, their total, the longest, and how many over 200 ms (a freeze one notices). */
interface LongTasks { count: number; over200: number; totalMs: number; maxMs: number }
const sum = (xs: { duration: number }[]): LongTasks => ({
  count: xs.length,
  over200: xs.filter((x) => x.duration > 200).length,
  totalMs: Math.round(xs.reduce((n, x) => n + x.duration, 0)),
  maxMs: Math.round(Math.max(0, ...xs.map((x) => x.duration))),
});

/** From a key pressed (the input's own timestamp) to the page's handler running. */
interface InputDelays { presses: number; p50Ms: number; p95Ms: number; maxMs: number }
function delays(xs: number[]): InputDelays {
  const s = [...xs].sort((a, b) => a - b);
  const q = (f: number) => Math.round(s[Math.min(s.length - 1, Math.floor(s.length * f))] ?? 0);
  return { presses: s.length, p50Ms: q(0.5), p95Ms: q(0.95), maxMs: Math.round(s[s.length - 1] ?? 0) };
}

/**
 * Presses a key (Shift: does nothing on the page) every ~200 ms until `done()`, as a user typing
 * while the page works; the page records how late each keydown's handler ran (see the init script).
 */
async function pressKeys(page: import('playwright-core').Page, done: () => boolean): Promise<void> {
  while (!done()) {
    await page.keyboard.press('Shift').catch(() => {});
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A burst of pod changes for `seconds`: `rate` pods a second created without a node (the
 * scheduler binds each: a second change) and, 5 s after, deleted (a third). Returns what was done.
 */
async function churn(c: BenchCluster, tag: string, rate: number, seconds: number): Promise<{ created: number; deleted: number; bound: number }> {
  const ns = 'console-bench-churn';
  await request(c, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  // Pods are refused until the namespace's default ServiceAccount exists, which its controller
  // makes late on a busy server: made here (a 409 if it is there already).
  await request(c, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
  const pool = await Promise.all(Array.from({ length: 8 }, () => FastConnection.open(tlsCreds(c))));
  const body = (name: string) =>
    JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'console-churn' } }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } });
  // Requests waiting for a connection (FastConnection has one in flight at a time).
  const queue: { method: string; path: string; body?: string; done: (status: number) => void }[] = [];
  let stopping = false;
  const made: { name: string; at: number }[] = [];
  let created = 0, deleted = 0, next = 0, failed = 0;
  const del = (name: string) => queue.push({ method: 'DELETE', path: `/api/v1/namespaces/${ns}/pods/${name}?gracePeriodSeconds=0`, done: (st) => void (st === 200 || st === 202 ? deleted++ : 0) });
  const senders = pool.map(async (fc) => {
    for (;;) {
      const job = queue.shift();
      if (!job) {
        if (stopping) return;
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const st = await fc.request(job.method, job.path, job.body).then((r) => (r.status >= 300 && failed++ < 3 && process.stderr.write(`console bench: churn ${job.method} ${r.status} ${r.body.toString().slice(0, 200)}\n`), r.status), (e) => (failed++ < 3 && process.stderr.write(`console bench: churn ${job.method}: ${e}\n`), 0));
      job.done(st);
    }
  });
  const t0 = performance.now();
  try {
    while (performance.now() - t0 < seconds * 1000) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      for (; next < due; next++) {
        const name = `churn-${tag}-${next}`;
        queue.push({ method: 'POST', path: `/api/v1/namespaces/${ns}/pods`, body: body(name), done: (st) => void (st === 201 && (created++, made.push({ name, at: performance.now() }))) });
      }
      while (made.length && performance.now() - made[0]!.at > 5000) del(made.shift()!.name);
      await new Promise((r) => setTimeout(r, 100));
    }
    // What is still queued is dropped; what was created goes.
    queue.length = 0;
    stopping = true;
    await Promise.all(senders);
    stopping = false;
    for (const m of made.splice(0)) del(m.name);
    const finish = pool.map(async (fc) => {
      for (let job = queue.shift(); job; job = queue.shift()) job.done(await fc.request(job.method, job.path).then((r) => r.status, () => 0));
    });
    await Promise.all(finish);
  } finally {
    stopping = true;
    for (const fc of pool) fc.close();
  }
  // Nothing of the burst may stay: the next load waits for exactly the bench's pods.
  for (const t1 = Date.now(); Date.now() - t1 < 120_000; ) {
    const left = (JSON.parse((await request(c, 'GET', `/api/v1/namespaces/${ns}/pods`)).body).items ?? []) as any[];
    if (!left.length) break;
    process.stderr.write(`console bench: ${left.length} churn pods left, deleting\n`);
    for (const p of left) await request(c, 'DELETE', `/api/v1/namespaces/${ns}/pods/${p.metadata.name}?gracePeriodSeconds=0`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const ev = JSON.parse((await request(c, 'GET', `/api/v1/namespaces/${ns}/events`)).body);
  return { created, deleted, bound: (ev.items ?? []).filter((e: any) => e.reason === 'Scheduled' && String(e.involvedObject?.name).startsWith(`churn-${tag}-`)).length };
}

/**
 * One first visit, tried again when Chromium drops it because the host's network changed (other
 * work on this machine makes interfaces and namespaces; Chromium then aborts loads in flight).
 */
async function loadOnce(...args: Parameters<typeof loadOnceTry>): Promise<Run> {
  for (let i = 0; ; i++) {
    try {
      return await loadOnceTry(...args);
    } catch (e) {
      if (i >= 2 || !/ERR_NETWORK_CHANGED|chrome-error:/.test(String(e))) throw e;
      process.stderr.write(`console bench: the load was dropped (${/ERR_\w+|chrome-error:\S*/.exec(String(e))?.[0]}): again\n`);
    }
  }
}

/** One first visit: a fresh context opens a new login link; times as the page saw them. */
async function loadOnceTry(c: BenchCluster, browser: Awaited<ReturnType<typeof launchBrowser>>, build: string, nNodes: number, nPods: number, steady: boolean, timeoutMs: number, profileFile?: string, timeline?: string, burst?: { rate: number; seconds: number; tag: string }): Promise<Run> {
  const code = JSON.parse((await request(c, 'POST', '/ui/login-codes')).body);
  const ctx = await newContext(browser);
  try {
    // A string, not a function: tsx would wrap the function's inner functions in a helper that
    // does not exist in the page.
    await ctx.addInitScript(`(() => {
      const nodes = ${nNodes}, pods = ${nPods};
      const w = window;
      w.__long = [];
      w.__t = {};
      // How late each key's handler ran: the input's own timestamp to now (see pressKeys).
      w.__keys = [];
      addEventListener('keydown', (e) => w.__keys.push({ at: e.timeStamp, delay: performance.now() - e.timeStamp }), true);
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) w.__long.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
      // Checked at every frame: what is on screen at that frame.
      const tick = () => {
        const t = w.__t;
        const now = performance.now();
        if (t.shell === undefined && document.querySelector('header')) t.shell = now;
        // First load: the canvas holds a cell for every node (builds that say so with data-draws;
        // older ones: the canvas is in the page with every node counted).
        if (t.nodes === undefined) {
          const box = document.querySelector('[data-testid=node-canvas][data-nodes="' + nodes + '"]');
          if (box && (!box.hasAttribute('data-draws') || box.querySelector('canvas[data-drawn="' + nodes + '"]'))) t.nodes = now;
        }
        if (t.heartbeats === undefined) {
          const m = performance.getEntriesByName('mizzen:map').find((e) => e.detail && e.detail.nodes === nodes && e.detail.loaded.split(' ').includes('nodes') && e.detail.loaded.split(' ').includes('leases'));
          if (m) t.heartbeats = m.startTime;
        }
        if (t.complete === undefined && t.nodes !== undefined && document.querySelector('[data-testid=component-apiserver][data-pods="' + pods + '"][data-synced=true]')) t.complete = now;
        if (t.complete === undefined) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    })();`);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => process.stderr.write(`console bench: page error: ${e.message}\n`));
    const cdp = profileFile ? await ctx.newCDPSession(page) : undefined;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
      await cdp.send('Profiler.start');
    }
    const t0 = performance.now();
    let rssPeak = 0;
    // Progress on stderr while the page loads (a large cluster takes a while on a busy machine).
    const progress = setInterval(() => {
      rssPeak = Math.max(rssPeak, tabRssMB() ?? 0);
      page
        .evaluate(() => {
          const a = document.querySelector('[data-testid=component-apiserver]');
          const t = JSON.stringify((window as any).__t);
          return a ? `${t} nodes ${a.getAttribute('data-nodes')} pods ${a.getAttribute('data-pods')} synced ${a.getAttribute('data-synced')} ${document.querySelector('[data-testid=connection]')?.textContent ?? ''}` : `${t} page loading`;
        })
        .then((m) => process.stderr.write(`console bench: ${build} ${Math.round((performance.now() - t0) / 1000)}s ${m} tab ${rssPeak} MB peak\n`), () => {});
    }, 10_000);
    let loaded = false;
    try {
      await page.goto(new URL(code.path, c.url).toString());
      const typing = pressKeys(page, () => loaded);
      await page.waitForFunction(() => (window as any).__t?.complete !== undefined, undefined, { timeout: timeoutMs, polling: 200 }).finally(() => (loaded = true));
      await typing;
    } finally {
      loaded = true;
      clearInterval(progress);
    }
    const wallMs = performance.now() - t0;
    // CONSOLE_BENCH_SCREENSHOTS=DIR: the map as each load left it (to see the canvas is right).
    const shots = process.env.CONSOLE_BENCH_SCREENSHOTS;
    if (shots) await page.screenshot({ path: path.join(shots, `${build}-${Date.now()}.png`) });
    const t = await page.evaluate(() => (window as any).__t);
    let long: { start: number; duration: number }[] = await page.evaluate(() => (window as any).__long);
    const run: Run = {
      build,
      wallMs: Math.round(wallMs),
      shellMs: Math.round(t.shell),
      firstLoadMs: Math.round(t.nodes),
      heartbeatsMs: t.heartbeats === undefined ? undefined : Math.round(t.heartbeats),
      completeMs: Math.round(t.complete),
      longTasksDuringLoad: sum(long.filter((l) => l.start <= t.complete)),
      longTasksBeforeFirstLoad: { ...sum(long.filter((l) => l.start <= t.nodes)), list: long.filter((l) => l.start <= t.nodes).map((l) => `${Math.round(l.duration)}@${Math.round(l.start)}`) },
      breakdown: await page.evaluate(BREAKDOWN),
    };
    if (timeline) {
      // The server writes its records every 100 ms.
      await new Promise((r) => setTimeout(r, 250));
      run.server = serverSide(timeline, await page.evaluate(() => performance.timeOrigin), t.nodes);
    }
    const keys: { at: number; delay: number }[] = await page.evaluate(() => (window as any).__keys);
    run.inputDuringLoad = delays(keys.filter((k) => k.at <= t.complete).map((k) => k.delay));
    if (burst) {
      // A burst of pod changes on the loaded page: its long tasks and how soon it answers keys.
      const from = await page.evaluate(() => performance.now());
      let over = false;
      const typing = pressKeys(page, () => over);
      const t1 = performance.now();
      const did = await churn(c, burst.tag, burst.rate, burst.seconds).finally(() => (over = true));
      await typing;
      // The changes' last batches reach the page after the last request.
      await page.waitForTimeout(2000);
      const to = await page.evaluate(() => performance.now());
      const long2: { start: number; duration: number }[] = await page.evaluate(() => (window as any).__long);
      const keys2: { at: number; delay: number }[] = await page.evaluate(() => (window as any).__keys);
      run.churn = {
        seconds: Math.round((performance.now() - t1) / 100) / 10,
        ...did,
        longTasks: sum(long2.filter((l) => l.start >= from && l.start <= to)),
        input: delays(keys2.filter((k) => k.at >= from && k.at <= to).map((k) => k.delay)),
      };
    }
    run.tabRssPeakMB = Math.max(rssPeak, tabRssMB() ?? 0) || undefined;
    if (cdp && profileFile) writeFileSync(profileFile, JSON.stringify((await cdp.send('Profiler.stop')).profile));
    if (steady) {
      const from = await page.evaluate(() => performance.now());
      await page.waitForTimeout(10_000);
      long = await page.evaluate(() => (window as any).__long);
      run.longTasksSteady10s = sum(long.filter((l) => l.start > from));
      run.pageHeapMB = Math.round((await page.evaluate(() => (performance as any).memory?.usedJSHeapSize ?? 0)) / 1e6);
      run.tabRssMB = tabRssMB();
    }
    process.stderr.write(`console bench: ${JSON.stringify(run)}\n`);
    return run;
  } finally {
    await ctx.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

/** The value at or below which a fraction q of xs lie (nearest rank: p90 of 10 runs is the 9th). */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.max(0, Math.ceil(q * s.length) - 1)]! : NaN;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { nodes: { type: 'string' }, pods: { type: 'string' }, 'churn-rate': { type: 'string' }, 'churn-seconds': { type: 'string' }, clients: { type: 'string' }, runs: { type: 'string' }, compare: { type: 'string' }, 'timeout-seconds': { type: 'string' }, 'page-profile': { type: 'string' }, 'server-timeline': { type: 'boolean' } },
  });
  const nNodes = Number(values.nodes ?? 5000);
  const nPods = Number(values.pods ?? 50000);
  const clients = Number(values.clients ?? 16);
  const runs = Number(values.runs ?? 3);
  const timeoutMs = Number(values['timeout-seconds'] ?? 600) * 1000;
  const churnSeconds = Number(values['churn-seconds'] ?? 0);
  const churnRate = Number(values['churn-rate'] ?? 200);
  const missing = await browserMissing();
  if (missing) throw new Error(`console bench needs a browser: ${missing}`);
  const cal0 = calibrationMs();
  // The server reads the console from a symlink, pointed at one build or the other between runs.
  const builds: Record<string, string> = { this: path.resolve(import.meta.dirname, '..', 'dist', 'console') };
  if (values.compare) builds.compare = path.resolve(values.compare);
  for (const [name, dir] of Object.entries(builds)) if (!existsSync(path.join(dir, 'index.html'))) throw new Error(`no built console (${name}) in ${dir}`);
  const linkDir = mkdtempSync(path.join(os.tmpdir(), 'mizzen-console-bench-'));
  const link = path.join(linkDir, 'console');
  const point = (dir: string) => {
    rmSync(link, { force: true });
    symlinkSync(dir, link);
  };
  point(builds.this!);
  process.env.MIZZEN_CONSOLE_DIR = link;
  // --server-timeline: the API server records its side of each load (a 1 ms timer on its main
  // thread, so off by default).
  const timeline = values['server-timeline'] ? path.join(linkDir, 'server-timeline.jsonl') : undefined;
  if (timeline) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${consoleServerPreload(timeline)}`;
  const capacity = `cpu=64,memory=256Gi,pods=${Math.max(110, Math.ceil((nPods / nNodes) * 1.2))}`;
  const c = await startCluster(['--simulated-nodes', String(nNodes), '--simulated-nodes-heartbeat-only', '--simulated-node-capacity', capacity]);
  const browser = await launchBrowser();
  try {
    process.stderr.write(`console bench: cluster up, waiting for ${nNodes} nodes\n`);
    const tNodes = performance.now();
    const names = await waitNodes(c, nNodes, 600_000);
    const nodesReadySeconds = (performance.now() - tNodes) / 1000;
    process.stderr.write(`console bench: creating ${nPods} pods\n`);
    const createPerSec = await createPods(c, names, nPods, clients);
    // One load not counted: the first page a browser opens pays for starting its processes.
    process.stderr.write(`console bench: a warm-up load\n`);
    await loadOnce(c, browser, 'warm-up', nNodes, nPods, false, timeoutMs);
    const all: Run[] = [];
    const order = Object.keys(builds);
    if (timeline) process.stderr.write(`console bench: the server's timeline in ${timeline}\n`);
    for (let i = 0; i < runs; i++) {
      // Alternate which build goes first, so neither always follows the other.
      for (const name of i % 2 ? [...order].reverse() : order) {
        point(builds[name]!);
        const prof = values['page-profile'] ? path.join(values['page-profile'], `${name}-${i + 1}.cpuprofile`) : undefined;
        if (prof) mkdirSync(path.dirname(prof), { recursive: true });
        const burst = churnSeconds > 0 ? { rate: churnRate, seconds: churnSeconds, tag: `${name}-${i}` } : undefined;
        all.push(await loadOnce(c, browser, name, nNodes, nPods, i === runs - 1, timeoutMs, prof, timeline, burst));
      }
    }
    const medians: Record<string, Record<string, number>> = {};
    // The first load over every run, not only its median: the target holds for every load.
    const firstLoad: Record<string, Record<string, number | number[]>> = {};
    for (const name of order) {
      const mine = all.filter((r) => r.build === name);
      const fl = mine.map((r) => r.firstLoadMs);
      firstLoad[name] = { runs: fl.length, min: Math.min(...fl), median: median(fl), p90: quantile(fl, 0.9), max: Math.max(...fl), over1s: fl.filter((x) => x > 1000).length, sorted: [...fl].sort((a, b) => a - b) };
      medians[name] = {
        shellMs: median(mine.map((r) => r.shellMs)),
        firstLoadMs: median(mine.map((r) => r.firstLoadMs)),
        ...(mine.every((r) => r.heartbeatsMs !== undefined) ? { heartbeatsMs: median(mine.map((r) => r.heartbeatsMs!)) } : {}),
        completeMs: median(mine.map((r) => r.completeMs)),
        longTaskMaxMs: median(mine.map((r) => r.longTasksDuringLoad.maxMs)),
        longTasksOver200: median(mine.map((r) => r.longTasksDuringLoad.over200)),
        inputP95Ms: median(mine.map((r) => r.inputDuringLoad?.p95Ms ?? NaN)),
        ...(mine.every((r) => r.churn) ? { churnLongTaskMaxMs: median(mine.map((r) => r.churn!.longTasks.maxMs)), churnOver200: median(mine.map((r) => r.churn!.longTasks.over200)), churnInputMaxMs: median(mine.map((r) => r.churn!.input.maxMs)) } : {}),
      };
    }
    console.log(
      JSON.stringify({
        bench: 'console',
        nodes: nNodes,
        pods: nPods,
        nodesReadySeconds: Math.round(nodesReadySeconds * 10) / 10,
        createPerSec: Math.round(createPerSec),
        firstLoad,
        medians,
        runs: all,
        serverRssMB: Math.round(rssMB(c.proc.pid!)),
        loadAverage: os.loadavg().map((x) => Math.round(x * 10) / 10),
        targets: { firstLoadMs: 1000, note: 'no long task of several hundred ms (a freeze)' },
        calibration: calibration(cal0),
      }),
    );
  } finally {
    await browser.close();
    await c.stop();
    rmSync(linkDir, { recursive: true, force: true });
  }
}
