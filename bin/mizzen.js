#!/bin/sh
":" //; if [ "$1" = kubelet ]; then export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX-2}" MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_-65536}" MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_-65536}" MALLOC_TOP_PAD_="${MALLOC_TOP_PAD_-0}"
":" //;   exec node --lite-mode --no-expose-wasm --max-semi-space-size=1 --v8-pool-size=1 --heap-growing-percent=30 "$0" "$@"; fi
":" //; exec node --max-semi-space-size=16 --v8-pool-size=1 --heap-growing-percent=30 "$0" "$@"
// The three lines above are both shell and JavaScript: executed, /bin/sh runs them and replaces
// itself with node (exec: same pid, signals, stdio and exit status), with flags for the command;
// run as `node bin/mizzen.js`, they are three string statements and comments. A shebang cannot
// choose flags per command, and node 20 cannot exec itself again.
// (The server's flags: one V8 helper thread instead of one per core keeps an idle control plane
// smaller; young-generation semi-spaces of up to 16 MB (they start at 1 MB and grow only under
// allocation pressure) keep garbage collection cheap when busy: at 2 MB, GC took a third of the
// CPU of a 10,000-pod scheduling run. `npm start` passes the same flags. Measured with
// `npm run bench -- apiserver` (idleRssMB) and `npm run bench -- scheduler` / `density`.
// The old generation may grow 30 % past what the last full collection left (V8's own factor goes
// up to 4): RSS follows each heap's high mark, and in a 5,000-node scale run the components
// thread's old space was twice its live size (replaced informer objects not yet collected);
// docs/scale.md, `npm run bench -- scale`.)
// (`mizzen kubelet`'s flags, for a small agent that mostly waits: V8's lite mode (no optimizing
// or baseline compiler, feedback allocated lazily; --no-expose-wasm because it implies
// --jitless, which has no WebAssembly and would print a warning) leaves TurboFan's code in the
// node binary untouched and JIT code out of the heap, a young generation of 1 MB semi-spaces,
// and malloc settings that glibc reads only at process start: two arenas, blocks of 64 KB and
// more mmapped (given back when freed: the HTTP/2 and TLS read buffers), the heap's top trimmed
// past 64 KB. Each is kept unless set already. Measured with `npm run bench --
// kubelet-footprint`; docs/kubelet-node.md "Footprint, seventh pass".)
// The `mizzen` command. The sources are TypeScript; for a fast start they run from a bundle
// (dist/cli/main.mjs and the chunks it imports) that is rebuilt with esbuild whenever a source
// file is newer. If the bundle cannot be built, the sources run through tsx instead (slower to start).
import { existsSync, readdirSync, statSync, renameSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
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

/**
 * Non-ASCII characters as \uXXXX escapes: V8 keeps a module's source text in memory, and one
 * such character anywhere (a comment's arrow, a regex's µ) makes the whole text two bytes per
 * character. esbuild's `charset: 'ascii'` leaves comments and regular expressions alone. The
 * escape means the same in strings, templates, regular expressions (surrogate pairs included)
 * and identifiers, and nothing in comments.
 */
function asciiOnly(text) {
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

async function buildBundle() {
  const esbuild = await import('esbuild');
  const dir = path.dirname(bundle);
  mkdirSync(dir, { recursive: true });
  const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'silent', charset: 'ascii', write: false };
  // Each file is written to a private name and renamed, so concurrent starts never load a
  // half-written one. Workers first, the entry (main.mjs) last: a fresh entry implies the rest.
  const put = (file, text) => {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, asciiOnly(text));
    renameSync(tmp, file);
  };
  for (const entry of workers) {
    const r = await esbuild.build({ ...common, entryPoints: [entry], outfile: path.join(dir, path.basename(entry).replace(/\.[^.]+$/, '.mjs')) });
    put(r.outputFiles[0].path, r.outputFiles[0].text);
  }
  // The commands' code in chunks: main.mjs dispatches with import(), so a command loads only
  // the chunks (and npm packages) it uses (`mizzen kubelet` neither the API server nor the
  // controllers). Chunk names carry a content hash; the entry refers to the current ones.
  const r = await esbuild.build({
    ...common,
    entryPoints: [path.join(root, 'src', 'cli', 'main.ts')],
    splitting: true,
    outdir: dir,
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
  });
  const main = r.outputFiles.find((f) => f.path === bundle);
  for (const f of r.outputFiles) if (f !== main && !existsSync(f.path)) put(f.path, f.text);
  put(main.path, main.text);
  // Chunks of earlier builds: kept a day for processes still running an older build.
  const current = new Set(r.outputFiles.map((f) => path.basename(f.path)));
  for (const name of readdirSync(dir)) {
    if (!/-[A-Z0-9]{8}\.mjs$/.test(name) || current.has(name)) continue;
    try {
      if (Date.now() - statSync(path.join(dir, name)).mtimeMs > 86_400_000) unlinkSync(path.join(dir, name));
    } catch {}
  }
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
    if (!bundleIsFresh()) {
      await buildBundle();
      // esbuild's service process and module would otherwise live as long as this command.
      (await import('esbuild')).stop?.();
    }
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
