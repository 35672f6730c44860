// The web console in a real browser (Debian's chromium, headless, driven by playwright-core)
// against a real cluster of three simulated nodes: log in with `mizzen ui-url`'s link, see the
// nodes, follow a Deployment from kubectl to Running pods on the map, read a pod's page (YAML,
// events, owner chain, logs) and the filtered event stream, see why a pod is Pending,
// delete a node and see its pods replaced, survive an API server restart; and a page on another
// origin cannot use the console's session. Screenshots go to dist/screenshots (or
// $CONSOLE_SCREENSHOTS).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { runMizzen, startCluster, type Cluster } from './harness.ts';
import { launchBrowser, newContext } from './browser.ts';
import { consoleTestsMissing, SHOTS } from './console-setup.ts';

const missing = await consoleTestsMissing();

describe('web console in a browser', { skip: missing }, () => {
  let c: Cluster;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  const failures: string[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // A generous start-up time: the browser tests share the machine with everything else.
    // --pod-gc-period 2s: a deleted node's pods are collected after 4 s instead of upstream's 40-60 s.
    c = await startCluster({ extraArgs: ['--simulated-nodes', '3', '--simulated-node-capacity', 'cpu=4,memory=16Gi,pods=110', '--pod-gc-period', '2s'], readyTimeoutMs: 120_000 });
    browser = await launchBrowser();
    ctx = await newContext(browser);
    page = await ctx.newPage();
    page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  });
  after(async () => {
    await browser?.close();
    await c?.stop();
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const base = () => `${c.url}/ui/`;

  async function loginLink(): Promise<string> {
    const r = await runMizzen(['ui-url', '--data-dir', c.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  }

  /** Pods of a name prefix drawn on node cards, by phase. */
  function podsOnNodes(prefix: string) {
    return page.evaluate((p) => [...document.querySelectorAll(`.node-cards [data-pod^="${p}"]`)].map((e) => ({ name: e.getAttribute('data-pod'), phase: e.getAttribute('data-phase'), node: e.closest('[data-node]')?.getAttribute('data-node') })), prefix);
  }

  test('without credentials the login page says how to log in; a bad token is refused with the reason', async () => {
    const fresh = await newContext(browser);
    const p = await fresh.newPage();
    await p.goto(base());
    await p.waitForSelector('#token');
    assert.match((await p.textContent('.login'))!, /mizzen ui-url/);
    await p.fill('#token', 'not-a-token');
    await p.click('[data-testid=login-submit]');
    await p.waitForSelector('[data-testid=login-reason]');
    assert.match((await p.textContent('[data-testid=login-reason]'))!, /did not accept this token/);
    // A used or unknown link says why, on the login page.
    await p.goto(`${c.url}/ui/login?code=bogus`);
    await p.waitForSelector('[data-testid=login-reason]');
    assert.match((await p.textContent('[data-testid=login-reason]'))!, /not valid/);
    await fresh.close();
  });

  test('a ServiceAccount token from kubectl create token: sees what RBAC lets it, the rest shown as forbidden; revoked, back to the login page with the reason', async () => {
    await c.kubectl(['create', 'serviceaccount', 'console-viewer']);
    await c.kubectl(['create', 'clusterrole', 'console-nodes', '--verb=get,list,watch', '--resource=nodes,leases.coordination.k8s.io']);
    await c.kubectl(['create', 'clusterrolebinding', 'console-viewer-nodes', '--clusterrole=console-nodes', '--serviceaccount=default:console-viewer']);
    const token = (await c.kubectl(['create', 'token', 'console-viewer'])).stdout.trim();
    const fresh = await newContext(browser);
    try {
      const p = await fresh.newPage();
      await p.goto(base());
      await p.fill('#token', token);
      await p.click('[data-testid=login-submit]');
      await p.waitForSelector('[data-node="sim-2"][data-health="Ready"]', { timeout: 20_000 });
      await p.waitForFunction(() => /system:serviceaccount:default:console-viewer/.test(document.querySelector('header .user')?.textContent ?? ''), null, { timeout: 10_000 });
      // Pods and events are not this identity's to read: said so, not shown as none.
      await p.waitForSelector('[data-testid=forbidden-pods]', { timeout: 20_000 });
      assert.match((await p.textContent('[data-testid=forbidden-pods]'))!, /forbidden.*cannot (list|watch) resource "pods"/);
      assert.ok(await p.$('[data-testid=forbidden-events]'));
      assert.equal(await p.$('[data-testid=forbidden-nodes]'), null);
      // Not counted as none on the map either.
      assert.match((await p.textContent('[data-testid=pods-forbidden]'))!, /not readable/);
      assert.match((await p.textContent('[data-testid=component-apiserver]'))!, /pods forbidden/);
      await p.screenshot({ path: join(SHOTS, 'console-forbidden.png'), fullPage: true });
      // The ServiceAccount deleted: its token is no longer accepted, and the page says why.
      await c.kubectl(['delete', 'serviceaccount', 'console-viewer']);
      await p.reload();
      await p.waitForSelector('[data-testid=login-reason]', { timeout: 20_000 });
      assert.match((await p.textContent('[data-testid=login-reason]'))!, /did not accept this token \(.+\)/);
    } finally {
      await fresh.close();
    }
  });

  test('logs in with the one-time link and shows the master node and the three nodes', async () => {
    const link = await loginLink();
    await page.goto(link);
    await page.waitForSelector('[data-node="sim-2"][data-health="Ready"]', { timeout: 20_000 });
    for (const n of ['sim-0', 'sim-1', 'sim-2']) assert.ok(await page.$(`[data-node="${n}"][data-health="Ready"]`), n);
    assert.equal(new URL(page.url()).search, '', 'the code is gone from the address bar');
    await page.waitForSelector('[data-testid=component-scheduler].ok');
    await page.waitForSelector('[data-testid=component-controller-manager].ok');
    assert.ok(await page.$('[data-testid=component-apiserver].ok'));
    // The cloud controller manager too, and each box names its Lease's holder as the API has it.
    await page.waitForSelector('[data-testid=component-cloud-controller-manager].ok');
    for (const [id, lease] of [['scheduler', 'kube-scheduler'], ['controller-manager', 'kube-controller-manager'], ['cloud-controller-manager', 'cloud-controller-manager']]) {
      const holder = (await c.kubectl(['get', 'lease', '-n', 'kube-system', lease!, '-o', 'jsonpath={.spec.holderIdentity}'])).stdout.trim();
      assert.ok(holder, lease);
      assert.match((await page.textContent(`[data-testid=component-${id}]`))!, new RegExp(`leader ${holder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} · renewed`), id);
    }
    // The API server's box lists its /readyz checks.
    await page.waitForFunction(() => /\[\+\]etcd ok|\[\+\]ping ok/.test(document.querySelector('[data-testid=component-apiserver] .checks')?.textContent ?? ''), null, { timeout: 10_000 });
    // The link was for one use only.
    const other = await newContext(browser);
    const p2 = await other.newPage();
    await p2.goto(link);
    await p2.waitForSelector('[data-testid=login-reason]');
    assert.match((await p2.textContent('[data-testid=login-reason]'))!, /already used/);
    await other.close();
  });

  test('a Deployment made with kubectl: followed from its creation to Running pods on the map', async () => {
    await page.goto(`${base()}#/flow`);
    await page.click('[data-testid=follow-next]');
    await c.kubectl(['create', 'deployment', 'web', '--image=nginx', '--replicas=3']);
    // The flow opens by itself on the new Deployment and shows each pod's steps.
    await page.waitForFunction(() => location.hash.startsWith('#/flow/Deployment/default/web'), null, { timeout: 15_000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-kind=Pod] [data-step=Ready]').length === 3, null, { timeout: 15_000 });
    const steps = await page.$$eval('[data-kind=Pod]', (lanes) => lanes.map((l) => [...l.querySelectorAll('[data-step]')].map((s) => s.getAttribute('data-step'))));
    for (const s of steps) {
      assert.ok(s.some((x) => x?.startsWith('pod created')), JSON.stringify(s));
      assert.ok(s.some((x) => x?.startsWith('assigned to sim-')), JSON.stringify(s));
      assert.ok(s.includes('containers started'), JSON.stringify(s));
    }
    assert.ok(await page.$('[data-kind=ReplicaSet]'));
    await shot('console-flow');
    await page.goto(`${base()}#/map`);
    await page.waitForFunction(() => document.querySelectorAll('.node-cards [data-pod^="web-"][data-phase="Running"]').length === 3, null, { timeout: 15_000 });
    await shot('console-map');
  });

  test('any object\'s page: YAML, events, owner chain, logs; the event stream filtered', async () => {
    const pod = JSON.parse((await c.kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])).stdout).items[0];
    const name: string = pod.metadata.name;
    await page.goto(`${base()}#/object/core/v1/pods/default/${name}`);
    await page.waitForFunction((n) => new RegExp(`name: ${n}\\b`).test(document.querySelector('pre.yaml')?.textContent ?? ''), name, { timeout: 15_000 });
    assert.match((await page.textContent('pre.yaml'))!, /nodeName: sim-\d/);
    await page.click('button.tab:has-text("Events")');
    await page.waitForFunction((n) => new RegExp(`Successfully assigned default/${n} to sim-\\d`).test(document.querySelector('.object')?.textContent ?? ''), name, { timeout: 15_000 });
    await page.click('button.tab:has-text("Owner chain")');
    await page.waitForFunction(() => /owned by Deployment web/.test(document.querySelector('ol.owners')?.textContent ?? ''), null, { timeout: 15_000 });
    const owners = await page.$$eval('ol.owners li', (li) => li.map((l) => l.textContent?.trim()));
    assert.match(owners[0]!, new RegExp(`^Pod ${name} \\(this object\\)`));
    assert.match(owners[1]!, /^owned by ReplicaSet web-[a-z0-9]+$/);
    assert.equal(owners[2], 'owned by Deployment web');
    // A simulated node runs no containers: the logs tab says so rather than showing nothing.
    await page.click('button.tab:has-text("Logs")');
    await page.waitForFunction(() => /cannot be read: .*simulated/.test(document.querySelector('[data-testid=logs]')?.textContent ?? ''), null, { timeout: 15_000 });
    await shot('console-object');

    await page.goto(`${base()}#/events`);
    await page.waitForSelector('[data-testid=events] .row.event', { timeout: 15_000 });
    await page.fill('input[placeholder=reason]', 'ScalingReplicaSet');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid=events] .row.event')];
      return rows.length > 0 && rows.every((r) => r.querySelector('.col-reason-short')?.textContent === 'ScalingReplicaSet');
    }, null, { timeout: 15_000 });
    assert.match((await page.textContent('[data-testid=events]'))!, /deployment\/web\s*Scaled up replica set web-[a-z0-9]+ (to|from 0 to) 3/);
    // A filter nothing matches says so.
    await page.fill('input[placeholder=reason]', 'NoSuchReason');
    await page.waitForSelector('[data-testid=events-empty]', { timeout: 15_000 });
    // The next test reads the scheduler's queue on the map.
    await page.goto(`${base()}#/map`);
  });

  test('a pod that fits nowhere: waiting for the scheduler, with its reason', async () => {
    const overrides = JSON.stringify({ spec: { containers: [{ name: 'big', image: 'nginx', resources: { requests: { cpu: '100' } } }] } });
    await c.kubectl(['run', 'big', '--image=nginx', `--overrides=${overrides}`]);
    await page.waitForSelector('[data-testid=scheduler-queue] [data-pod=big]', { timeout: 15_000 });
    await page.goto(`${base()}#/pending`);
    await page.waitForFunction(() => /Insufficient cpu/.test(document.querySelector('[data-testid=unscheduled] [data-pod=big]')?.textContent ?? ''), null, { timeout: 15_000 });
    const reason = await page.textContent('[data-testid=unscheduled] [data-pod=big] [data-testid=pending-reason]');
    assert.match(reason!, /^Unschedulable: 0\/3 nodes are available: 3 Insufficient cpu/);
    await shot('console-pending');
    await c.kubectl(['delete', 'pod', 'big', '--wait=false']);
  });

  test('a node deleted: its pods are replaced on the others', { timeout: 200_000 }, async () => {
    await page.goto(`${base()}#/map`);
    await page.waitForFunction(() => document.querySelectorAll('.node-cards [data-pod^="web-"][data-phase="Running"]').length === 3);
    const before = await podsOnNodes('web-');
    const victim = before[0]!.node!;
    const lost = before.filter((p) => p.node === victim).map((p) => p.name);
    await c.kubectl(['delete', 'node', victim]);
    await page.waitForFunction((n) => !document.querySelector(`.node-cards [data-node="${n}"]`), victim, { timeout: 15_000 });
    // Its pods wait on the map as orphans until the pod garbage collector deletes them (upstream:
    // 40 s after the node went; 4 s with this cluster's --pod-gc-period), then the ReplicaSet makes
    // new ones, placed on the other nodes.
    await page.waitForFunction(
      ({ lost, victim }) => {
        const pods = [...document.querySelectorAll('.node-cards [data-pod^="web-"]')];
        const running = pods.filter((e) => e.getAttribute('data-phase') === 'Running' && e.closest('[data-node]')?.getAttribute('data-node') !== victim);
        return running.length === 3 && !pods.some((e) => lost.includes(e.getAttribute('data-pod')!)) && !document.querySelector('[data-testid=orphans]');
      },
      { lost, victim },
      { timeout: 150_000, polling: 500 },
    );
    const now = await podsOnNodes('web-');
    assert.equal(now.length, 3);
    for (const p of now) assert.notEqual(p.node, victim);
    await shot('console-node-replaced');
  });

  test('an API server restart: the page says the connection is lost, then watches again', { timeout: 120_000 }, async () => {
    await page.goto(`${base()}#/map`);
    await page.waitForSelector('.conn.ok');
    const lost = page.waitForSelector('.conn.lost', { timeout: 30_000 });
    await c.restart();
    await lost;
    await page.waitForSelector('.conn.ok', { timeout: 30_000 });
    await c.kubectl(['create', 'deployment', 'after', '--image=nginx', '--replicas=2']);
    await page.waitForFunction(() => document.querySelectorAll('.node-cards [data-pod^="after-"][data-phase="Running"]').length === 2, null, { timeout: 20_000 });
  });

  test('a page of another origin cannot use the session cookie', async () => {
    // Same site (https://127.0.0.1), other port: the browser sends the SameSite=Strict cookie, so
    // it is the server's own checks that must refuse.
    const tls = { cert: readFileSync(join(c.dataDir, 'pki', 'server.crt')), key: readFileSync(join(c.dataDir, 'pki', 'server.key')) };
    const evil = https.createServer(tls, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>elsewhere</title>');
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    try {
      const p = await ctx.newPage();
      const seen: { url: string; status: number; method: string }[] = [];
      const pending: Promise<unknown>[] = [];
      p.on('response', (r) => {
        if (!r.url().startsWith(c.url)) return;
        pending.push(Promise.resolve(seen.push({ url: r.url(), status: r.status(), method: r.request().method() })));
      });
      await p.goto(`https://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      const out = await p.evaluate(async (api) => {
        const res: string[] = [];
        await fetch(`${api}/api/v1/namespaces`, { mode: 'no-cors', credentials: 'include' }).then(() => res.push('no-cors: opaque'), (e) => res.push(`no-cors: ${e}`));
        await fetch(`${api}/api/v1/namespaces`, { credentials: 'include', headers: { 'X-Mizzen-UI': '1' } }).then((r) => res.push(`cors: ${r.status}`), (e) => res.push(`cors: failed ${e}`));
        return res;
      }, c.url);
      assert.match(out[1]!, /^cors: failed/);
      await Promise.all(pending);
      const get = seen.find((s) => s.method === 'GET' && s.url.endsWith('/api/v1/namespaces'));
      assert.ok(get, JSON.stringify(seen));
      // 403, not 401: the cookie arrived (same site) and the server refused it without the console's header.
      assert.equal(get.status, 403);
      // The preflight for the header was answered without permission, so no GET with it was sent.
      assert.equal(seen.filter((s) => s.method === 'GET').length, 1, JSON.stringify(seen));
      await p.close();
    } finally {
      evil.close();
    }
    assert.deepEqual(failures, []);
  });

  test('more nodes than cards: the page draws them from the Table before its app runs, then the app takes over', async () => {
    // 70 Node objects with no kubelet (no Ready condition: Unknown), so the map draws canvas cells.
    const items = Array.from({ length: 70 }, (_, i) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: `paint-${i}`, labels: { 'console-first-paint': '1' } } }));
    await c.kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
    const total = JSON.parse((await c.kubectl(['get', 'nodes', '-o', 'json'])).stdout).items.length as number;
    const other = await newContext(browser);
    try {
      const p = await other.newPage();
      p.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
      await p.goto(await loginLink());
      await p.waitForSelector(`[data-testid=component-apiserver][data-nodes="${total}"]`, { timeout: 30_000 });
      await p.waitForSelector(`[data-testid=node-canvas] canvas[data-drawn="${total}"]`);
      const seen = await p.evaluate((total) => ({
        firstPaint: performance.getEntriesByName('mizzen:map').some((e: any) => e.detail?.firstPaint && e.detail.nodes === total),
        appMap: performance.getEntriesByName('mizzen:map').some((e: any) => !e.detail?.firstPaint && e.detail?.nodes === total),
        left: !!document.getElementById('first-paint'),
        canvases: document.querySelectorAll('[data-testid=node-canvas]').length,
        headers: document.querySelectorAll('header').length,
      }), total);
      assert.deepEqual(seen, { firstPaint: true, appMap: true, left: false, canvases: 1, headers: 1 });
      assert.match((await p.textContent('section.nodes h2'))!, new RegExp(`, 70 Unknown of ${total}`));
      await p.screenshot({ path: join(SHOTS, 'console-first-paint-taken-over.png'), fullPage: true });
    } finally {
      await other.close();
      await c.kubectl(['delete', 'nodes', '-l', 'console-first-paint=1', '--wait=false']);
    }
    assert.deepEqual(failures, []);
  });
});
