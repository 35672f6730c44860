// A real pod's logs in the console, in a real browser (Debian's chromium, headless,
// playwright-core) against `mizzen up` with its real local node (root, containerd & co; the
// busybox image the node imports at start): a pod that prints known lines, its page's Logs tab
// shows them as the kubelet serves them (through the API server, as `kubectl logs`), and with
// "follow" a line written later appears without reading the page again. Host-global names (node,
// bridge, cgroup root, CIDRs) are the test's own; the node runs with neither service proxy nor
// cluster DNS (not needed here). Screenshots go to dist/screenshots (or $CONSOLE_SCREENSHOTS).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runMizzen, startRealNodeCluster, type RealNodeCluster } from './harness.ts';
import { launchBrowser, newContext } from './browser.ts';
import { consoleTestsMissing, SHOTS } from './console-setup.ts';
import { localNodeSkipReason } from '../src/kubelet/testing/local-node.ts';
import { poll } from '../src/testing/poll.ts';

const missing = (await consoleTestsMissing()) ?? localNodeSkipReason();

const POD = `apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: talk
    image: busybox:1.35
    command: [sh, -c, 'echo "first line from talker"; echo "second line from talker"; exec sleep 3600']
`;

describe('a real pod\'s logs in the console, read and followed', { skip: missing, timeout: 600_000 }, () => {
  let c: RealNodeCluster;
  let browser: Browser;
  let page: Page;
  const failures: string[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    c = await startRealNodeCluster('cl');
    await c.kubectl(['apply', '-f', '-'], { input: POD });
    await c.kubectl(['wait', '--for=condition=Ready', 'pod/talker', '--timeout=120s']);
    // As kubectl reads them first: the page must show the same.
    await poll(async () => (await c.kubectl(['logs', 'talker'])).stdout, { what: 'talker\'s two lines in kubectl logs', done: (s) => s.includes('second line from talker'), timeoutMs: 30_000 });
    browser = await launchBrowser();
    const ctx = await newContext(browser);
    page = await ctx.newPage();
    page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
    const r = await runMizzen(['ui-url', '--data-dir', c.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    await page.goto(r.stdout.trim());
    await page.waitForSelector(`[data-node="${c.nodeName}"][data-health="Ready"]`, { timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    await c?.kubectl(['delete', 'pod', 'talker', '--wait=false'], { allowFail: true }).catch(() => {});
    await c?.stop();
  });

  const logs = () => page.textContent('[data-testid=logs]').then((t) => t ?? '');

  test('the pod\'s page: its Logs tab shows the lines the container printed', { timeout: 60_000 }, async () => {
    await page.goto(`${c.url}/ui/#/object/core/v1/pods/default/talker`);
    await page.click('button.tab:has-text("Logs")');
    await page.waitForFunction(() => /second line from talker/.test(document.querySelector('[data-testid=logs]')?.textContent ?? ''), null, { timeout: 20_000 });
    assert.equal((await logs()).trim(), 'first line from talker\nsecond line from talker');
  });

  test('follow: a line the container writes later appears as it is written', { timeout: 90_000 }, async () => {
    await page.check('[data-testid=logs-follow]');
    await page.waitForSelector('[data-testid=logs][data-following=true]');
    await page.waitForFunction(() => /second line from talker/.test(document.querySelector('[data-testid=logs]')?.textContent ?? ''), null, { timeout: 20_000 });
    // Written to the container's own output (its PID 1's stdout) from a shell exec'd into it.
    const marker = `written later ${Date.now()}`;
    await c.kubectl(['exec', 'talker', '--', 'sh', '-c', `echo "${marker}" > /proc/1/fd/1`]);
    await page.waitForFunction((m) => (document.querySelector('[data-testid=logs]')?.textContent ?? '').includes(m), marker, { timeout: 20_000 });
    assert.equal((await logs()).trim(), `first line from talker\nsecond line from talker\n${marker}`);
    assert.equal(await page.getAttribute('[data-testid=logs]', 'data-following'), 'true', 'the stream is still open');
    await page.screenshot({ path: join(SHOTS, 'console-logs-real-pod.png'), fullPage: true });
    // And as kubectl reads it.
    assert.match((await c.kubectl(['logs', 'talker'])).stdout, new RegExp(`${marker}\\n$`));
    assert.deepEqual(failures, []);
  });
});
