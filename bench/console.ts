// The web console at size: `npm run bench -- console [--nodes 5000] [--pods 50000] [--clients 16]`.
//
// Starts `mizzen up` with heartbeat-only simulated nodes (their Leases renewed every 10 s, pods
// left as bound), creates the pods in bulk already bound to nodes (round robin, so the scheduler is
// not what is measured), then loads the console in headless Chromium through a login link and
// reports:
//   firstLoadMs   navigation → every node drawn on the map (the page, its worker, the nodes' list)
//   shellMs       navigation → the page's header drawn
//   allCountedMs  navigation → every node and pod counted (all four watches synced)
//   longTasks     main-thread tasks over 50 ms (count, total, max) during the load, and in 10 s of
//                 steady state after it (heartbeats arriving at nodes/10 per second)
// Prints one JSON line. The targets (issue 18): first load under 1 s, no freeze (no long task of
// several hundred ms) at 5,000 nodes and 150,000 pods.

import { parseArgs } from 'node:util';
import { startCluster, request, tlsCreds, type BenchCluster } from './lib/cluster.ts';
import { FastConnection } from './lib/fast-client.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { browserMissing, launchBrowser, newContext } from '../e2e/browser.ts';

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
  const pool = await Promise.all(Array.from({ length: conns }, () => FastConnection.open(tlsCreds(c))));
  const t0 = performance.now();
  let next = 0;
  try {
    await Promise.all(
      pool.map(async (fc) => {
        for (let i = next++; i < total; i = next++) {
          const body = JSON.stringify({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: `p-${i}`, labels: { app: `a-${i % 100}` } },
            spec: { nodeName: nodes[i % nodes.length], containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
          });
          const r = await fc.request('POST', `/api/v1/namespaces/${ns}/pods`, body);
          if (r.status !== 201) throw new Error(`create p-${i}: ${r.status} ${r.body.toString().slice(0, 200)}`);
        }
      }),
    );
  } finally {
    for (const fc of pool) fc.close();
  }
  return (total / (performance.now() - t0)) * 1000;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { nodes: { type: 'string' }, pods: { type: 'string' }, clients: { type: 'string' } } });
  const nNodes = Number(values.nodes ?? 5000);
  const nPods = Number(values.pods ?? 50000);
  const clients = Number(values.clients ?? 16);
  const missing = await browserMissing();
  if (missing) throw new Error(`console bench needs a browser: ${missing}`);
  const cal0 = calibrationMs();
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

    const code = JSON.parse((await request(c, 'POST', '/ui/login-codes')).body);
    const ctx = await newContext(browser);
    // Long tasks from the very start of the page.
    await ctx.addInitScript(() => {
      (window as any).__long = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) (window as any).__long.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    });
    const page = await ctx.newPage();
    // Progress on stderr while the page loads (a large cluster takes a while on a busy machine).
    const progress = setInterval(() => {
      page
        .evaluate(() => {
          const a = document.querySelector('[data-testid=component-apiserver]');
          return a ? `nodes ${a.getAttribute('data-nodes')} pods ${a.getAttribute('data-pods')} synced ${a.getAttribute('data-synced')} ${document.querySelector('[data-testid=connection]')?.textContent ?? ''}` : 'page loading';
        })
        .then((m) => process.stderr.write(`console bench: ${Math.round((performance.now() - t0) / 1000)}s ${m}\n`), () => {});
    }, 5000);
    const t0 = performance.now();
    await page.goto(new URL(code.path, c.url).toString());
    await page.waitForSelector('header', { timeout: 60_000 });
    const shellMs = performance.now() - t0;
    await page.waitForSelector(`[data-testid=node-canvas][data-nodes="${nNodes}"]`, { timeout: 300_000 });
    const firstLoadMs = performance.now() - t0;
    await page.waitForSelector(`[data-testid=component-apiserver][data-pods="${nPods}"][data-synced=true]`, { timeout: 600_000, polling: 100 } as any);
    const allCountedMs = performance.now() - t0;
    clearInterval(progress);
    const loadEnd = await page.evaluate(() => performance.now());
    await page.waitForTimeout(10_000);
    const long: { start: number; duration: number }[] = await page.evaluate(() => (window as any).__long);
    const sum = (xs: { duration: number }[]) => ({ count: xs.length, totalMs: Math.round(xs.reduce((n, x) => n + x.duration, 0)), maxMs: Math.round(Math.max(0, ...xs.map((x) => x.duration))) });
    const heap = await page.evaluate(() => (performance as any).memory?.usedJSHeapSize ?? 0);
    console.log(
      JSON.stringify({
        bench: 'console',
        nodes: nNodes,
        pods: nPods,
        nodesReadySeconds: Math.round(nodesReadySeconds * 10) / 10,
        createPerSec: Math.round(createPerSec),
        shellMs: Math.round(shellMs),
        firstLoadMs: Math.round(firstLoadMs),
        allCountedMs: Math.round(allCountedMs),
        longTasksDuringLoad: sum(long.filter((l) => l.start <= loadEnd)),
        longTasksSteady10s: sum(long.filter((l) => l.start > loadEnd)),
        pageHeapMB: Math.round(heap / 1e6),
        targets: { firstLoadMs: 1000, note: 'no long task of several hundred ms (a freeze)' },
        calibration: calibration(cal0),
      }),
    );
  } finally {
    await browser.close();
    await c.stop();
  }
}
