#!/usr/bin/env -S node --max-semi-space-size=16 --v8-pool-size=1
// (The flags: one V8 helper thread instead of one per core keeps an idle control plane smaller;
// young-generation semi-spaces of up to 16 MB (they start at 1 MB and grow only under
// allocation pressure) keep garbage collection cheap when busy: at 2 MB, GC took a third of the
// CPU of a 10,000-pod scheduling run. `npm start` passes the same flags. Measured with
// `npm run bench -- apiserver` (idleRssMB) and `npm run bench -- scheduler` / `density`.)
// The `mizzen` command. The sources are TypeScript; for a fast start they run from one bundle
// (dist/cli/main.mjs) that is rebuilt with esbuild whenever a source file is newer. If the
// bundle cannot be built, the sources run through tsx instead (slower to start).
import { readdirSync, statSync, renameSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = path.join(root, 'dist', 'cli', 'main.mjs');
// Worker-thread scripts are separate entry points, emitted beside the bundle (the code finds them
// with new URL('./<name>.mjs', import.meta.url)).
const workers = [path.join(root, 'src', 'storage', 'sqlite', 'sqlite-writer.mjs'), path.join(root, 'src', 'cli', 'components-worker.ts'), path.join(root, 'src', 'dns', 'dns-worker.ts')];

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (/\.(ts|mjs)$/.test(e.name) && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
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
  const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'silent' };
  // Workers first: a fresh main bundle implies its workers are in place.
  for (const entry of workers) {
    const out = path.join(path.dirname(bundle), path.basename(entry).replace(/\.[^.]+$/, '.mjs'));
    const tmpOut = `${out}.${process.pid}.tmp.mjs`;
    await esbuild.build({ ...common, entryPoints: [entry], outfile: tmpOut });
    renameSync(tmpOut, out);
  }
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

// The web console's files (dist/console): rebuilt when its sources changed since `npm install`
// built them (only where Vite is installed; see console/build.mjs).
if (process.env.MIZZEN_NO_CONSOLE_BUILD !== '1') {
  try {
    const { ensureConsoleBuilt } = await import('../console/build.mjs');
    await ensureConsoleBuilt({ log: (m) => process.stderr.write(`mizzen: ${m}\n`) });
  } catch (e) {
    process.stderr.write(`mizzen: the web console could not be built: ${e?.message ?? e}\n`);
  }
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
