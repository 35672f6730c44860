// package.json says what runs: every npm package the running product loads (the esbuild bundle's
// external imports, the packages resolved at run time, the ones bin/mizzen.js loads) is a
// runtime dependency; a package only tests use is a devDependency; nothing is listed that
// nothing uses.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const deps = new Set(Object.keys(pkg.dependencies ?? {}));
const devDeps = new Set(Object.keys(pkg.devDependencies ?? {}));

/**
 * Dependencies added for code being written on other branches (the CRI and etcd gRPC clients,
 * WebSocket streams for exec/attach/port-forward). Remove a name once something imports it.
 */
const awaitingUse = new Set(['@grpc/grpc-js', '@grpc/proto-loader', 'ws']);

function packageOf(spec: string): string | undefined {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (/\.(ts|tsx|mjs|js)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Packages a file names in import/export/import()/import.meta.resolve. */
function packagesIn(file: string): Set<string> {
  const text = readFileSync(file, 'utf8');
  const out = new Set<string>();
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|import\.meta\.resolve\(\s*|--import['"],\s*)['"]([^'"]+)['"]/g)) {
    const p = packageOf(m[1]);
    if (p) out.add(p);
  }
  if (/['"]--import['"],\s*['"]tsx['"]/.test(text)) out.add('tsx');
  return out;
}

const isTestOnly = (f: string) => f.endsWith('.test.ts') || /fake-api-server\.ts$|store-suite\.ts$|test-support\.ts$|test-cluster\.ts$|encode-for-tests\.ts$|[/\\]testing[/\\]/.test(f);

test('every package the bundle or the command loads is a runtime dependency', async () => {
  const entries = ['src/cli/main.ts', 'src/cli/components-worker.ts', 'src/storage/sqlite/sqlite-writer.mjs'].map((e) => path.join(root, e));
  const r = await build({ entryPoints: entries, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', write: false, outdir: path.join(root, 'dist', 'deps-check'), metafile: true, logLevel: 'silent' });
  const needed = new Set<string>();
  for (const out of Object.values(r.metafile.outputs)) for (const i of out.imports) if (i.external) needed.add(packageOf(i.path) ?? '');
  needed.delete('');
  // Resolved at run time, which a bundler cannot see.
  for (const f of files(path.join(root, 'src')).filter((f) => !isTestOnly(f))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/import\.meta\.resolve\(\s*['"]([^'"]+)['"]/g)) needed.add(packageOf(m[1])!);
  }
  for (const p of packagesIn(path.join(root, 'bin', 'mizzen.js'))) needed.add(p);
  const missing = [...needed].filter((p) => !deps.has(p)).sort();
  assert.deepEqual(missing, [], `loaded at run time but not in "dependencies": ${missing.join(', ')}`);
});

test('no dependency is there only for tests, and none is unused', () => {
  const runtime = new Set<string>();
  const testing = new Set<string>();
  for (const f of [...files(path.join(root, 'src')), ...files(path.join(root, 'bin'))]) {
    for (const p of packagesIn(f)) (isTestOnly(f) ? testing : runtime).add(p);
  }
  for (const f of [...files(path.join(root, 'e2e')), ...files(path.join(root, 'bench'))]) for (const p of packagesIn(f)) testing.add(p);
  // The web console is built (npm's prepare step) from console/: its packages are build-time ones.
  for (const f of files(path.join(root, 'console'))) for (const p of packagesIn(f)) testing.add(p);
  const onlyTests = [...deps].filter((d) => !runtime.has(d) && testing.has(d));
  assert.deepEqual(onlyTests, [], `only tests or benchmarks use these; make them devDependencies: ${onlyTests.join(', ')}`);
  const unused = [...deps, ...devDeps].filter((d) => !d.startsWith('@types/') && d !== 'typescript' && !runtime.has(d) && !testing.has(d) && !awaitingUse.has(d));
  assert.deepEqual(unused, [], `nothing imports these: ${unused.join(', ')}`);
  const devAtRuntime = [...devDeps].filter((d) => runtime.has(d));
  assert.deepEqual(devAtRuntime, [], `the product loads these devDependencies: ${devAtRuntime.join(', ')}`);
});
