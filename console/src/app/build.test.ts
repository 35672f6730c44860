// build.mjs rewrites Vite's index.html for the first load: the app's script tag out of the page
// (the inline script asks for it after the nodes' Table and runs it after the first paint), the
// data worker's and the app's hashed names into the inline script, the stylesheet inline.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// @ts-expect-error: a plain ES module without types
import { inlineFirstLoad } from '../../build.mjs';

/** A dist/console as Vite leaves it, from the real index.html; `extraHead` goes in its head. */
function viteOutput(extraHead = ''): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mizzen-console-build-'));
  mkdirSync(path.join(dir, 'assets'));
  const src = readFileSync(new URL('../../index.html', import.meta.url), 'utf8');
  const html = src
    .replace('<script type="module" src="./src/app/main.tsx"></script>', '')
    .replace('</head>', `<script type="module" crossorigin src="/ui/assets/index-Ab1.js"></script>\n<link rel="stylesheet" crossorigin href="/ui/assets/index-Cc3.css">${extraHead}\n</head>`);
  writeFileSync(path.join(dir, 'index.html'), html);
  writeFileSync(path.join(dir, 'assets', 'index-Ab1.js'), 'const w = new Worker(new URL(`/ui/assets/main-Wk2.js`,``+import.meta.url),{type:"module"});');
  writeFileSync(path.join(dir, 'assets', 'index-Cc3.css'), 'body{margin:0}');
  return dir;
}

test('the app script tag is taken out of the page and named in the inline script', () => {
  const dir = viteOutput();
  try {
    inlineFirstLoad(dir, undefined);
    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    // The inline script's own words (comments) may name a preload: the check is for Vite's tags.
    assert.ok(html.includes('modulepreload'), 'the inline script says modulepreload');
    assert.doesNotMatch(html, /<script type="module"/, 'no script tag for the app: the browser would run it as soon as it came');
    assert.ok(html.includes("var app = '/ui/assets/index-Ab1.js'"), 'the app named in the inline script');
    assert.ok(html.includes("var worker = '/ui/assets/main-Wk2.js'"), 'the worker named in the inline script');
    assert.ok(html.includes('<style>body{margin:0}</style>'), 'the stylesheet inline');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("with Vite's own preloads of other chunks the page is left to load the app as Vite made it", () => {
  const dir = viteOutput('<link rel="modulepreload" crossorigin href="/ui/assets/chunk-Dd4.js">');
  try {
    inlineFirstLoad(dir, undefined);
    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    assert.match(html, /<script type="module" crossorigin src="\/ui\/assets\/index-Ab1.js"><\/script>/);
    assert.ok(html.includes("var app = '%APP%'"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
