#!/usr/bin/env node
// The `mizzen` command. The sources are TypeScript; for a fast start they run from one bundle
// (dist/cli/main.mjs) that is rebuilt with esbuild whenever a source file is newer. If the
// bundle cannot be built, the sources run through tsx instead (slower to start).
import { readdirSync, statSync, renameSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = path.join(root, 'dist', 'cli', 'main.mjs');

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function bundleIsFresh() {
  try {
    return statSync(bundle).mtimeMs >= newestMtime(path.join(root, 'src'));
  } catch {
    return false;
  }
}

async function buildBundle() {
  const esbuild = await import('esbuild');
  mkdirSync(path.dirname(bundle), { recursive: true });
  // Build to a private file and rename, so concurrent starts never load a half-written bundle.
  const tmp = `${bundle}.${process.pid}.tmp.mjs`;
  await esbuild.build({
    entryPoints: [path.join(root, 'src', 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: tmp,
    logLevel: 'silent',
  });
  renameSync(tmp, bundle);
}

let main;
if (process.env.MIZZEN_NO_BUNDLE !== '1') {
  try {
    if (!bundleIsFresh()) await buildBundle();
    ({ main } = await import(bundle));
  } catch {
    main = undefined;
  }
}
if (!main) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
// Exit explicitly: after a clean shutdown nothing else should keep the process alive.
process.exit(await main(process.argv.slice(2)));
