// The console's flow view for what changes or goes, and its idle network traffic, in a real
// browser (Debian's chromium, headless, playwright-core) against `mizzen up --simulated-nodes 3`:
// a rollout (`kubectl set image`: a new ReplicaSet, the old pods going), a deletion (a pod, then
// the Deployment), a node's death (its pods gone, new ones placed on the others) — each as lanes
// of steps with who acted and how long each took; a node's resource use from the metrics API on
// its page; and no polling: over ~10 s of an idle page,
// no list is asked for again, only the watches stay open. Screenshots go to dist/screenshots (or
// $CONSOLE_SCREENSHOTS).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runMizzen, startCluster, type Cluster } from './harness.ts';
import { launchBrowser, newContext } from './browser.ts';
import { consoleTestsMissing, SHOTS } from './console-setup.ts';

const missing = await consoleTestsMissing();

interface Lane {
  name: string;
  kind: string;
  state: string;
  gone: boolean;
  node: string;
  steps: { what: string; actor: string; at: string; took: string }[];
}

describe('the console\'s flows for a rollout, a deletion and a node\'s death; no polling', { skip: missing }, () => {
  let c: Cluster;
  let browser: Browser;
  let page: Page;
  const failures: string[] = [];
  const requests: { url: string; method: string; at: number }[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    c = await startCluster({ extraArgs: ['--simulated-nodes', '3', '--simulated-node-capacity', 'cpu=4,memory=16Gi,pods=110', '--pod-gc-period', '2s', '--metric-resolution', '3s'], readyTimeoutMs: 120_000 });
    browser = await launchBrowser();
    const ctx = await newContext(browser);
    page = await ctx.newPage();
    page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
    // Every request the page (and its worker) sends, with when.
    ctx.on('request', (r) => requests.push({ url: r.url(), method: r.method(), at: Date.now() }));
    const r = await runMizzen(['ui-url', '--data-dir', c.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    await page.goto(r.stdout.trim());
    await page.waitForSelector('[data-node="sim-2"][data-health="Ready"]', { timeout: 30_000 });
  });
  after(async () => {
    await browser?.close();
    await c?.stop();
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const base = () => `${c.url}/ui/`;

  function lanes(): Promise<Lane[]> {
    return page.$$eval('[data-testid=flow] .lane', (ls) =>
      ls.map((l) => ({
        name: l.getAttribute('data-lane') ?? '',
        kind: l.getAttribute('data-kind') ?? '',
        state: l.querySelector('.lane-state')?.textContent ?? '',
        gone: l.classList.contains('gone'),
        node: l.querySelector('.lane-head .muted')?.textContent?.replace(/^\s*on\s*/, '') ?? '',
        steps: [...l.querySelectorAll('[data-step]')].map((s) => ({
          what: s.getAttribute('data-step') ?? '',
          actor: s.querySelector('.actor')?.textContent ?? '',
          at: s.querySelector('.at')?.textContent ?? '',
          took: s.querySelector('.took')?.textContent?.trim() ?? '',
        })),
      })),
    );
  }

  /** Every step says when it happened (from the flow's start) and, after the lane's first, how long it took. */
  function timed(l: Lane): void {
    assert.ok(l.steps.length > 0, JSON.stringify(l));
    for (const s of l.steps) assert.match(s.at, /^\+\d/, JSON.stringify(l));
    for (const s of l.steps.slice(1)) assert.match(s.took, /^took /, JSON.stringify(l));
  }

  test('no polling: an idle page asks for no list again; only its watches stay open', { timeout: 60_000 }, async () => {
    // Let the first load finish (every list in, the user's name, /readyz), then watch 10 s of quiet.
    await page.waitForSelector('.conn.ok', { timeout: 20_000 });
    await page.waitForFunction(() => !!document.querySelector('header .user')?.textContent, null, { timeout: 20_000 });
    await page.waitForTimeout(3000);
    const from = Date.now();
    await page.waitForTimeout(10_000);
    const idle = requests.filter((r) => r.at >= from && r.url.startsWith(c.url));
    const isWatch = (u: string) => /[?&]watch=(true|1)\b/.test(u);
    // The recording does see the page's and its worker's requests (else the rest would be empty by mistake).
    assert.ok(requests.some((r) => r.url.startsWith(c.url) && isWatch(r.url)), 'the watches were recorded');
    const lists = idle.filter((r) => r.method === 'GET' && !isWatch(r.url));
    assert.deepEqual(lists.map((r) => r.url), [], 'no GET but watches while idle');
    // A watch that is asked for again within 10 s would be polling in disguise (a stream that
    // ends at once); each resource's watch is opened at most once in the window.
    const watches = idle.filter((r) => isWatch(r.url)).map((r) => new URL(r.url).pathname);
    assert.equal(new Set(watches).size, watches.length, JSON.stringify(watches));
    // And over the whole load, no list path was read more than once (the pods' pages differ by their continue token).
    const all = requests.filter((r) => r.url.startsWith(c.url) && r.method === 'GET' && !isWatch(r.url) && new URL(r.url).pathname.match(/^\/apis?\//));
    const keys = all.map((r) => {
      const u = new URL(r.url);
      return `${u.pathname}?${u.searchParams.get('continue') ?? ''}${u.searchParams.get('includeObject') ?? ''}`;
    });
    assert.equal(new Set(keys).size, keys.length, JSON.stringify(keys));
  });

  test('nodes\' resource use from the metrics API on a node\'s page and the map\'s cards, as kubectl top reads it', { timeout: 90_000 }, async () => {
    // A simulated node with no pods uses 25m cpu and 256 MiB for its system (docs/metrics.md).
    let top = '';
    for (let i = 0; i < 30 && !/^sim-1\s+25m\s/m.test(top); i++) {
      top = (await c.kubectl(['top', 'node', 'sim-1', '--no-headers'])).stdout;
      if (!/^sim-1\s+25m\s/m.test(top)) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.match(top, /^sim-1\s+25m\s+\S+\s+256Mi\s/m);
    await page.goto(`${base()}#/node/sim-1`);
    await page.waitForFunction(() => /used cpu/.test(document.querySelector('[data-testid=node-usage]')?.textContent ?? ''), null, { timeout: 20_000 });
    assert.match((await page.textContent('[data-testid=node-usage]'))!, /^used cpu 25m · memory 256Mi \(metrics API, (.+ ago|just now), over \d+(\.\d+)?s\)/);
    // Read when asked, not on a timer: a pod started on the node shows after "read again".
    await c.kubectl(['run', 'busy', '--image=nginx', '--overrides', JSON.stringify({ spec: { nodeName: 'sim-1' }, metadata: { annotations: { 'mizzen.dev/simulate-cpu': '500m' } } })]);
    let usage = '';
    for (let i = 0; i < 30 && !/used cpu 525m/.test(usage); i++) {
      await page.click('[data-testid=node-usage-again]');
      await page.waitForTimeout(1000);
      usage = (await page.textContent('[data-testid=node-usage]')) ?? '';
    }
    assert.match(usage, /^used cpu 525m · memory /);
    await shot('console-node-usage');
    // The map's node cards show it too (read when the map opens, and on "read again").
    await page.goto(`${base()}#/map`);
    let card = '';
    for (let i = 0; i < 30 && !/used cpu 525m/.test(card); i++) {
      await page.waitForSelector('[data-testid=nodes-usage-again]', { timeout: 20_000 });
      if (i) await page.click('[data-testid=nodes-usage-again]');
      await page.waitForTimeout(1000);
      card = (await page.textContent('[data-node="sim-1"] [data-testid=node-card-usage]').catch(() => null)) ?? '';
    }
    assert.match(card, /^used cpu 525m · memory \d/);
    assert.match((await page.textContent('[data-node="sim-0"] [data-testid=node-card-usage]'))!, /^used cpu 25m · memory 256Mi$/);
    await shot('console-map-usage');
    await c.kubectl(['delete', 'pod', 'busy', '--wait=false']);
  });

  test('a rollout: kubectl set image makes a new ReplicaSet, its pods come and the old ones go, each step timed', { timeout: 120_000 }, async () => {
    await c.kubectl(['create', 'deployment', 'roll', '--image=nginx', '--replicas=2']);
    await c.kubectl(['rollout', 'status', 'deployment/roll', '--timeout=60s']);
    await page.goto(`${base()}#/flow/Deployment/default/roll`);
    await page.waitForFunction(() => document.querySelectorAll('[data-kind=Pod] [data-step=Ready]').length === 2, null, { timeout: 20_000 });
    const oldRs = (await lanes()).find((l) => l.kind === 'ReplicaSet')!.name;
    const oldPods = (await lanes()).filter((l) => l.kind === 'Pod').map((l) => l.name);
    await c.kubectl(['set', 'image', 'deployment/roll', 'nginx=nginx:1.27']);
    // Two ReplicaSets; the new one's two pods Ready, the old ones gone.
    await page.waitForFunction(
      (old) => {
        const pods = [...document.querySelectorAll('[data-testid=flow] .lane[data-kind=Pod]')];
        const gone = pods.filter((l) => old.includes(l.getAttribute('data-lane')!) && l.classList.contains('gone'));
        const fresh = pods.filter((l) => !old.includes(l.getAttribute('data-lane')!) && l.querySelector('[data-step=Ready]'));
        return document.querySelectorAll('[data-testid=flow] .lane[data-kind=ReplicaSet]').length === 2 && gone.length === old.length && fresh.length === 2;
      },
      oldPods,
      { timeout: 60_000, polling: 500 },
    );
    // The Deployment's state follows its ReplicaSets' (read again as they change, though no event says so).
    await page.waitForFunction(() => document.querySelector('[data-testid=flow] .lane[data-kind=Deployment] .lane-state')?.textContent === '2/2 ready', null, { timeout: 20_000 });
    const ls = await lanes();
    const rs = ls.filter((l) => l.kind === 'ReplicaSet');
    const newRs = rs.find((l) => l.name !== oldRs)!;
    assert.match(newRs.steps[0]!.what, new RegExp(`^ReplicaSet ${newRs.name} created`));
    assert.ok(newRs.steps[0]!.took, 'the new ReplicaSet says how long after the Deployment it came');
    assert.ok(newRs.steps.some((s) => /^SuccessfulCreate: Created pod/.test(s.what)), JSON.stringify(newRs));
    const old = rs.find((l) => l.name === oldRs)!;
    assert.ok(old.steps.some((s) => /^SuccessfulDelete: Deleted pod/.test(s.what)), JSON.stringify(old));
    assert.match(old.state, /^0\/0 ready/);
    // The Deployment's own lane: the deployment controller scaling one up and the other down.
    const dep = ls.find((l) => l.kind === 'Deployment')!;
    assert.ok(dep.steps.some((s) => new RegExp(`ScalingReplicaSet: Scaled up replica set ${newRs.name}`).test(s.what)), JSON.stringify(dep));
    assert.ok(dep.steps.some((s) => new RegExp(`ScalingReplicaSet: Scaled down replica set ${oldRs}`).test(s.what)), JSON.stringify(dep));
    for (const p of ls.filter((l) => l.kind === 'Pod' && oldPods.includes(l.name))) {
      assert.ok(p.steps.some((s) => s.what === 'deletion asked (terminating)'), JSON.stringify(p));
      assert.ok(p.steps.some((s) => s.what === 'gone'), JSON.stringify(p));
      assert.equal(p.state, 'gone');
      timed(p);
    }
    for (const p of ls.filter((l) => l.kind === 'Pod' && !oldPods.includes(l.name))) {
      assert.ok(p.steps.some((s) => s.what === `pod created for ReplicaSet ${newRs.name}`), JSON.stringify(p));
      assert.ok(p.steps.some((s) => /^assigned to sim-\d$/.test(s.what) && s.actor === 'scheduler'), JSON.stringify(p));
      assert.ok(p.steps.some((s) => s.what === 'Ready' && /^kubelet on sim-\d$/.test(s.actor)), JSON.stringify(p));
      timed(p);
    }
    await shot('console-flow-rollout');
  });

  test('a rollout restart: a third ReplicaSet, the pods replaced again', { timeout: 120_000 }, async () => {
    const before = (await lanes()).filter((l) => l.kind === 'Pod' && !l.gone).map((l) => l.name);
    await c.kubectl(['rollout', 'restart', 'deployment/roll']);
    await page.waitForFunction(
      (prev) => {
        const pods = [...document.querySelectorAll('[data-testid=flow] .lane[data-kind=Pod]')];
        return (
          document.querySelectorAll('[data-testid=flow] .lane[data-kind=ReplicaSet]').length === 3 &&
          prev.every((n) => pods.some((l) => l.getAttribute('data-lane') === n && l.classList.contains('gone'))) &&
          pods.filter((l) => !l.classList.contains('gone') && l.querySelector('[data-step=Ready]')).length === 2
        );
      },
      before,
      { timeout: 60_000, polling: 500 },
    );
  });

  test('a deletion: a pod deleted is shown going and replaced; the Deployment deleted, its ReplicaSets and pods go', { timeout: 120_000 }, async () => {
    const victim = (await lanes()).find((l) => l.kind === 'Pod' && !l.gone)!.name;
    await c.kubectl(['delete', 'pod', victim, '--wait=false']);
    await page.waitForFunction(
      (v) => {
        const pods = [...document.querySelectorAll('[data-testid=flow] .lane[data-kind=Pod]')];
        return pods.some((l) => l.getAttribute('data-lane') === v && l.classList.contains('gone')) && pods.filter((l) => !l.classList.contains('gone') && l.querySelector('[data-step=Ready]')).length === 2;
      },
      victim,
      { timeout: 60_000, polling: 500 },
    );
    const lane = (await lanes()).find((l) => l.name === victim)!;
    assert.ok(lane.steps.some((s) => s.what === 'deletion asked (terminating)'), JSON.stringify(lane));
    assert.ok(lane.steps.some((s) => s.what === 'gone'), JSON.stringify(lane));
    timed(lane);

    await c.kubectl(['delete', 'deployment', 'roll', '--wait=false']);
    // The flow stays on what was there, every lane marked gone (not "not found").
    await page.waitForFunction(() => {
      const ls = [...document.querySelectorAll('[data-testid=flow] .lane')];
      return ls.length > 0 && ls.every((l) => l.classList.contains('gone'));
    }, null, { timeout: 60_000, polling: 500 });
    const ls = await lanes();
    const dep = ls.find((l) => l.kind === 'Deployment')!;
    assert.ok(dep.steps.some((s) => s.what === 'gone'), JSON.stringify(dep));
    timed(dep);
    for (const l of ls.filter((x) => x.kind === 'ReplicaSet')) assert.ok(l.steps.some((s) => s.what === 'gone'), JSON.stringify(l));
    await shot('console-flow-deletion');
  });

  test('a node\'s death: its pods shown gone with the node, new ones placed on the others; the node\'s own flow', { timeout: 200_000 }, async () => {
    await c.kubectl(['create', 'deployment', 'spread', '--image=nginx', '--replicas=6']);
    await c.kubectl(['rollout', 'status', 'deployment/spread', '--timeout=60s']);
    await page.goto(`${base()}#/flow/Deployment/default/spread`);
    await page.waitForFunction(() => document.querySelectorAll('[data-kind=Pod] [data-step=Ready]').length === 6, null, { timeout: 20_000 });
    const first = await lanes();
    const victim = first.find((l) => l.kind === 'Pod')!.node;
    assert.match(victim, /^sim-\d$/);
    const lost = first.filter((l) => l.kind === 'Pod' && l.node === victim).map((l) => l.name);
    await c.kubectl(['delete', 'node', victim]);
    await page.waitForFunction(
      ({ lost, victim }) => {
        const pods = [...document.querySelectorAll('[data-testid=flow] .lane[data-kind=Pod]')];
        const live = pods.filter((l) => !l.classList.contains('gone') && l.querySelector('[data-step=Ready]'));
        return lost.every((n) => pods.some((l) => l.getAttribute('data-lane') === n && l.classList.contains('gone'))) && live.length === 6 && live.every((l) => !l.querySelector(`[data-step="assigned to ${victim}"]`));
      },
      { lost, victim },
      { timeout: 150_000, polling: 500 },
    );
    const ls = await lanes();
    for (const p of ls.filter((l) => lost.includes(l.name))) {
      assert.equal(p.node, victim);
      assert.ok(p.steps.some((s) => s.what === 'gone'), JSON.stringify(p));
      timed(p);
    }
    const fresh = ls.filter((l) => l.kind === 'Pod' && !first.some((f) => f.name === l.name));
    assert.equal(fresh.length, lost.length);
    for (const p of fresh) {
      assert.notEqual(p.node, victim);
      assert.ok(p.steps.some((s) => s.what.startsWith('assigned to sim-')), JSON.stringify(p));
      timed(p);
    }
    await shot('console-flow-node-death');

    // The node's own flow: the node gone, and the pods that were on it.
    await page.goto(`${base()}#/flow/Node/-/${victim}`);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=flow] .lane[data-kind=Pod]').length >= n, lost.length, { timeout: 20_000 });
    const nl = await lanes();
    for (const n of lost) assert.ok(nl.some((l) => l.name === n && l.gone), JSON.stringify(nl.map((l) => [l.name, l.gone])));
    assert.deepEqual(failures, []);
  });
});
