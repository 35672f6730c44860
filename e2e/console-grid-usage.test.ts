// The map's node grid (the canvas drawn above 60 nodes) with each node's resource use from the
// metrics API, in a real browser (Debian's chromium, headless, playwright-core) against `mizzen up
// --simulated-nodes 64` plus one Node object with no kubelet (the metrics API reports no use for
// it). The use is read when first wanted (a cell hovered, a use fill chosen) and again on "read
// again", never on a timer;
// the cells fill to cpu or memory used against allocatable when asked, and a cell's tooltip gives
// the figures `kubectl top node` prints. Screenshots go to dist/screenshots (or $CONSOLE_SCREENSHOTS).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runMizzen, startCluster, type Cluster } from './harness.ts';
import { launchBrowser, newContext } from './browser.ts';
import { consoleTestsMissing, SHOTS } from './console-setup.ts';

const missing = await consoleTestsMissing();

const SIMULATED = 64;
/** The grid's order (natural sort by name): the bare node first, then sim-0 … sim-63. */
const ORDER = ['bare-0', ...Array.from({ length: SIMULATED }, (_, i) => `sim-${i}`)];
const CELL = 12;
const STEP = 14;

describe('the console\'s node grid above 60 nodes shows their use from the metrics API', { skip: missing }, () => {
  let c: Cluster;
  let browser: Browser;
  let page: Page;
  const failures: string[] = [];
  const metricsReads: number[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    c = await startCluster({
      extraArgs: ['--simulated-nodes', String(SIMULATED), '--simulated-node-capacity', 'cpu=4,memory=16Gi,pods=110', '--metric-resolution', '3s'],
      readyTimeoutMs: 180_000,
    });
    await c.kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'bare-0' } }) });
    // A busy pod on sim-5: 3 cpu and 12 GiB of the node's 4 and 16 (plus the node's own 25m and 256 MiB).
    await c.kubectl(['run', 'hot', '--image=nginx', '--overrides', JSON.stringify({ spec: { nodeName: 'sim-5' }, metadata: { annotations: { 'mizzen.dev/simulate-cpu': '3', 'mizzen.dev/simulate-memory': '12Gi' } } })]);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await c?.stop();
  });

  /** `kubectl top node NAME`'s cpu and memory columns, once they match. */
  async function top(name: string, want: RegExp): Promise<string> {
    let out = '';
    for (let i = 0; i < 60 && !want.test(out); i++) {
      out = (await c.kubectl(['top', 'node', name, '--no-headers'], { allowFail: true })).stdout;
      if (!want.test(out)) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.match(out, want);
    return out;
  }

  /** Where node `name`'s cell is on the page, and its pixels' alpha down the middle column. */
  async function cell(name: string): Promise<{ x: number; y: number; alphas: number[]; corner: number[] }> {
    const i = ORDER.indexOf(name);
    return page.$eval(
      '[data-testid=node-canvas] canvas',
      (canvas, { i, CELL, STEP }) => {
        const c = canvas as HTMLCanvasElement;
        const cols = Math.round(parseFloat(c.style.width) / STEP);
        const x = (i % cols) * STEP;
        const y = Math.floor(i / cols) * STEP;
        const dpr = c.width / parseFloat(c.style.width);
        // The cell's pixels at once (no named helper here: tsx would wrap it in a __name call the page lacks).
        const px = c.getContext('2d')!.getImageData(Math.floor(x * dpr), Math.floor(y * dpr), CELL * dpr, CELL * dpr);
        const mid = Math.floor((CELL / 2) * dpr);
        const corner = (Math.floor((CELL - 2) * dpr) * px.width + Math.floor(dpr)) * 4;
        const r = c.getBoundingClientRect();
        return {
          x: r.left + x + CELL / 2,
          y: r.top + y + CELL / 2,
          // Alpha of rows 0..11 of the cell's middle column (clear of the corner marks).
          alphas: Array.from({ length: CELL }, (_, row) => px.data[(Math.floor(row * dpr) * px.width + mid) * 4 + 3]!),
          // Alpha and red of the bottom-left corner, where a node without reported use is marked.
          corner: [px.data[corner + 3]!, px.data[corner]!],
        };
      },
      { i, CELL, STEP },
    );
  }

  /** How many rows of the cell are filled (opaque), counted from its bottom. */
  const filled = (alphas: number[]) => alphas.filter((a) => a > 200).length;

  async function tooltip(name: string): Promise<string> {
    const { x, y } = await cell(name);
    await page.mouse.move(x, y);
    await page.waitForFunction((n) => document.querySelector('.node-canvas .tip b')?.textContent === n, name, { timeout: 5000 });
    // Until the metrics API has answered, the tooltip says it is reading it.
    await page.waitForFunction(() => !/reading the metrics API/.test(document.querySelector('[data-testid=tip-usage]')?.textContent ?? ''), null, { timeout: 20_000 });
    return (await page.textContent('.node-canvas .tip'))!;
  }

  test('the grid reads the use once, fills its cells with cpu or memory used, and shows the figures on hover', { timeout: 240_000 }, async () => {
    // The metrics API reports the busy node and an idle one (after its first collections).
    await top('sim-5', /^sim-5\s+3025m\s+\S+\s+12544Mi\s/m);
    await top('sim-0', /^sim-0\s+25m\s+\S+\s+256Mi\s/m);

    const ctx = await newContext(browser);
    page = await ctx.newPage();
    page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
    ctx.on('request', (r) => {
      if (r.url().includes('/apis/metrics.k8s.io/')) metricsReads.push(Date.now());
    });
    const r = await runMizzen(['ui-url', '--data-dir', c.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    await page.goto(r.stdout.trim());
    const total = ORDER.length;
    await page.waitForSelector(`[data-testid=node-canvas] canvas[data-drawn="${total}"]`, { timeout: 60_000 });
    assert.equal(await page.$('.node-cards'), null, 'above 60 nodes the map draws the grid, not cards');
    // Pods fill the cells until asked otherwise: sim-5's one pod of 110 is no fill.
    assert.equal(await page.getAttribute('[data-testid=node-canvas]', 'data-fill'), 'pods');
    assert.equal(filled((await cell('sim-5')).alphas), 0);
    // The grid does not read the use with the map (its first load does not wait on it)...
    await page.waitForTimeout(3000);
    assert.equal(metricsReads.length, 0, 'the metrics API is not read before the use is wanted');
    // ... but when a cell is first hovered (or a use fill chosen): its tooltip then gives the figures.
    assert.match(await tooltip('sim-5'), /used cpu 3\.0 \(76%\) · memory 12Gi \(77%\)/);
    await page.waitForSelector(`[data-testid=node-canvas][data-usage-nodes="${SIMULATED}"]`);
    assert.match((await page.textContent('[data-testid=nodes-usage]'))!, /^Use from the metrics API, read (just now|\d+s ago) read again/);

    // cpu: sim-5 uses 3025m of 4 cpu (76 %: 9 of 12 rows), sim-0 25m (none); the bare node has no use reported.
    await page.click('[data-testid=cell-fill-cpu]');
    await page.waitForSelector('[data-testid=node-canvas][data-fill=cpu]');
    assert.match((await page.textContent('[data-testid=cell-fill-legend]'))!, /cpu use from the metrics API against its allocatable cpu; a dark corner: no use reported/);
    assert.equal(filled((await cell('sim-5')).alphas), 9);
    assert.equal(filled((await cell('sim-0')).alphas), 0);
    const bare = await cell('bare-0');
    assert.ok(bare.corner[0]! > 200 && bare.corner[1]! < 0x50, `the bare node's dark corner: ${JSON.stringify(bare)}`);
    assert.ok((await cell('sim-0')).corner[0]! < 200, 'a node with use reported has no dark corner');

    // The figures on hover, as kubectl top node prints them.
    assert.match(await tooltip('sim-5'), /used cpu 3\.0 \(76%\) · memory 12Gi \(77%\)/);
    assert.match(await tooltip('sim-0'), /used cpu 25m \(1%\) · memory 256Mi \(2%\)/);
    assert.match(await tooltip('bare-0'), /no use reported by the metrics API for this node/);
    await tooltip('sim-5');
    await page.screenshot({ path: join(SHOTS, 'console-grid-usage.png'), fullPage: true });

    // memory: sim-5 uses 12544Mi of 16Gi (77 %: 9 rows).
    await page.click('[data-testid=cell-fill-memory]');
    await page.waitForSelector('[data-testid=node-canvas][data-fill=memory]');
    assert.equal(filled((await cell('sim-5')).alphas), 9);

    // Read once since the page opened (at the first hover): no timer reads it again.
    await page.waitForTimeout(8000);
    assert.equal(metricsReads.length, 1, `the metrics API was read ${metricsReads.length} times`);

    // The busy pod gone: the grid shows it after "read again" (and only then).
    await c.kubectl(['delete', 'pod', 'hot', '--wait=false']);
    await top('sim-5', /^sim-5\s+25m\s/m);
    assert.equal(filled((await cell('sim-5')).alphas), 9, 'not read again by itself');
    await page.click('[data-testid=nodes-usage-again]');
    let rows = 9;
    for (let i = 0; i < 20 && rows !== 0; i++) {
      rows = filled((await cell('sim-5')).alphas);
      if (rows) await page.waitForTimeout(250);
    }
    assert.equal(rows, 0, 'sim-5 idle after reading again');
    assert.equal(metricsReads.length, 2);
    assert.match(await tooltip('sim-5'), /used cpu 25m \(1%\) · memory 256Mi \(2%\)/);
    assert.deepEqual(failures, []);
  });
});
