// Headless Chromium for the console's tests and benchmark: Debian's chromium driven by
// playwright-core (which downloads no browser of its own). The flags keep Chromium from reaching
// for Google's hosts (this machine has no network beyond its package registries).

import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
];

/** Why browser tests cannot run here, or undefined when they can. */
export async function browserMissing(): Promise<string | undefined> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found (apt-get install chromium)`;
  try {
    await import('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
  return undefined;
}

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // playwright gives each launch a fresh temporary profile (--user-data-dir) of its own.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** A context that trusts the cluster's private CA (by ignoring certificate errors, as a user who proceeds would). */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 1000 } });
  const newPage = ctx.newPage.bind(ctx);
  ctx.newPage = async () => retryOnNetworkChange(await newPage());
  return ctx;
}

/**
 * Chromium drops a navigation with ERR_NETWORK_CHANGED when any interface of the host changes, and
 * the node suites running beside the browser tests create and delete bridges and veths: such a
 * navigation is tried again (twice at most), as a user would reload.
 */
function retryOnNetworkChange(page: Page): Page {
  const goto = page.goto.bind(page);
  page.goto = async (url, options) => {
    for (let i = 0; ; i++) {
      try {
        return await goto(url, options);
      } catch (e) {
        if (i >= 2 || !/ERR_NETWORK_CHANGED/.test(String(e))) throw e;
      }
    }
  };
  return page;
}
