#!/usr/bin/env node
// Builds the web console (console/ → dist/console) with Vite when its sources are newer than the
// build. Run by `npm install` / `npm ci` (the package's prepare script), by `npm run
// build:console` (--force), and by bin/mizzen.js before starting, so a fresh clone's `npm install
// && npm start` serves it and an edited source is rebuilt on the next start.
//
// Vite and Preact are development dependencies: where they are not installed (`npm ci
// --omit=dev`), this says so and leaves the console unbuilt; the API server then answers /ui/
// with a page that says how to build it.

import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const consoleDir = path.join(root, 'console');
const outDir = path.join(root, 'dist', 'console');

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (!e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Whether dist/console is at least as new as every console source. */
export function consoleIsFresh() {
  try {
    return statSync(path.join(outDir, 'index.html')).mtimeMs >= newestSource(consoleDir);
  } catch {
    return false;
  }
}

/**
 * Build unless fresh. Returns 'fresh', 'built' or 'unavailable' (no Vite). Builds into a private
 * directory and swaps it in, so a server never reads a half-written build.
 */
export async function ensureConsoleBuilt({ force = false, log = () => {} } = {}) {
  if (!force && consoleIsFresh()) return 'fresh';
  let vite;
  try {
    vite = await import('vite');
  } catch {
    log('the web console is not built: Vite is not installed (it is a development dependency; run npm install)');
    return 'unavailable';
  }
  const tmp = `${outDir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  log('building the web console…');
  await vite.build({ configFile: path.join(consoleDir, 'vite.config.ts'), build: { outDir: tmp, emptyOutDir: true }, logLevel: 'warn' });
  inlineFirstLoad(tmp, await firstPaintScript(vite));
  const old = `${outDir}.${process.pid}.old`;
  if (existsSync(outDir)) renameSync(outDir, old);
  renameSync(tmp, outDir);
  rmSync(old, { recursive: true, force: true });
  return 'built';
}

/**
 * src/first-paint/main.ts bundled on its own as a classic script that defines `__mizzenPaint`
 * (no Preact, no module loading: it runs inline in index.html).
 */
async function firstPaintScript(vite) {
  const out = await vite.build({
    configFile: false,
    root: consoleDir,
    logLevel: 'warn',
    build: {
      write: false,
      target: 'es2022',
      minify: true,
      reportCompressedSize: false,
      lib: { entry: path.join(consoleDir, 'src', 'first-paint', 'main.ts'), formats: ['iife'], name: '__mizzenPaint' },
    },
  });
  const chunk = (Array.isArray(out) ? out : [out]).flatMap((o) => o.output).find((o) => o.type === 'chunk');
  return chunk?.code.trim();
}

/**
 * index.html after Vite: the first paint's script inlined, its stylesheet inlined (one request less before the map's Table: a
 * browser's first connection to a busy API server carries the page's requests one after another),
 * and the data worker's and the app's hashed scripts named in the inline script, which asks for
 * them after the first paint.
 */
export function inlineFirstLoad(dir, firstPaint) {
  const file = path.join(dir, 'index.html');
  let html = readFileSync(file, 'utf8');
  // The first paint's code, inline (no request of its own: it must be there when the Table is).
  if (firstPaint && !firstPaint.includes('</')) html = html.replace('<script>/*%FIRST_PAINT%*/</script>', `<script>${firstPaint}</script>`);
  html = html.replace(/<link rel="stylesheet"[^>]*href="\/ui\/(assets\/[\w.-]+\.css)"[^>]*>/g, (link, rel) => {
    const css = readFileSync(path.join(dir, rel), 'utf8');
    return css.includes('</') ? link : `<style>${css}</style>`;
  });
  const app = /src="\/ui\/(assets\/index-[\w-]+\.js)"/.exec(html);
  const worker = app && /new Worker\(new URL\(`(\/ui\/assets\/[\w-]+\.js)`/.exec(readFileSync(path.join(dir, app[1]), 'utf8'));
  if (worker) html = html.replace("'%WORKER%'", `'${worker[1]}'`);
  // The app's script tag out of the page, its name into the inline script that asks for it after
  // the Table (one tag, no preloads of other chunks: checked, or the page is left as Vite made it).
  // The check looks for Vite's <link rel="modulepreload"> tags, not the word: the inline script
  // says it too (it makes the app's own preload), and a check for the word left the tag in every
  // build since (the app then ran as soon as it came, under the first paint).
  const tags = html.match(/<script type="module"[^>]*><\/script>/g) ?? [];
  if (app && tags.length === 1 && tags[0].includes(`/ui/${app[1]}`) && !/<link[^>]*rel="?modulepreload/.test(html)) {
    html = html.replace(tags[0], '').replace("'%APP%'", `'/ui/${app[1]}'`);
  }
  writeFileSync(file, html);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const force = process.argv.includes('--force');
  try {
    const r = await ensureConsoleBuilt({ force, log: (m) => console.error(`console: ${m}`) });
    if (r === 'built') console.error(`console: built into ${path.relative(root, outDir)}/`);
  } catch (e) {
    console.error(`console: build failed: ${e?.stack ?? e}`);
    process.exit(1);
  }
}
