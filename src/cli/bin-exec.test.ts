// bin/mizzen.js's first lines are shell as well as JavaScript: executed, /bin/sh picks node's flags
// (and, for `mizzen kubelet`, malloc settings) and execs node. Checked with a stand-in `node` on
// PATH that prints what it was given, so no real command runs; and once for real (`--version`).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const bin = resolve(import.meta.dirname, '../../bin/mizzen.js');
const run = promisify(execFile);

async function asExecuted(args: string[], env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mz-bin-exec-'));
  try {
    // Prints its pid, each argument on a line, then the malloc variables it got.
    writeFileSync(join(dir, 'node'), '#!/bin/sh\necho "pid $$"\nfor a in "$@"; do echo "arg $a"; done\nenv | grep ^MALLOC_ | sort\n');
    chmodSync(join(dir, 'node'), 0o755);
    let pid: number | undefined;
    const stdout = await new Promise<string>((res, rej) => {
      pid = execFile(bin, args, { env: { PATH: `${dir}:/usr/bin:/bin`, ...env } }, (err, out) => (err ? rej(err) : res(out))).pid;
    });
    const lines = stdout.trim().split('\n');
    // exec, not a child: the process people start (and signal) is the one that runs node.
    assert.equal(lines[0], `pid ${pid}`);
    return {
      args: lines.filter((l) => l.startsWith('arg ')).map((l) => l.slice(4)),
      env: Object.fromEntries(lines.filter((l) => l.startsWith('MALLOC_')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('mizzen kubelet gets the small agent\'s node flags and malloc settings; its arguments pass unchanged', async () => {
  const r = await asExecuted(['kubelet', '--node-name', 'a b', '$(false)', '']);
  const script = r.args.indexOf(bin);
  assert.ok(script > 0, r.args.join(' '));
  assert.deepEqual(r.args.slice(script + 1), ['kubelet', '--node-name', 'a b', '$(false)', '']);
  const flags = r.args.slice(0, script);
  for (const f of ['--lite-mode', '--no-expose-wasm', '--max-semi-space-size=1']) assert.ok(flags.includes(f), flags.join(' '));
  assert.deepEqual(r.env, { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_TOP_PAD_: '0', MALLOC_TRIM_THRESHOLD_: '65536' });
});

test('a malloc setting already in the environment is kept', async () => {
  const r = await asExecuted(['kubelet'], { MALLOC_ARENA_MAX: '4' });
  assert.equal(r.env.MALLOC_ARENA_MAX, '4');
  assert.equal(r.env.MALLOC_MMAP_THRESHOLD_, '65536');
});

test('every other command gets the server\'s flags and no malloc settings', async () => {
  for (const args of [['up', '--data-dir', '/x y'], ['agent'], []]) {
    const r = await asExecuted(args);
    const script = r.args.indexOf(bin);
    assert.deepEqual(r.args.slice(script + 1), args);
    const flags = r.args.slice(0, script);
    assert.ok(flags.includes('--max-semi-space-size=16') && !flags.includes('--lite-mode'), flags.join(' '));
    assert.deepEqual(r.env, {});
  }
});

test('executed for real, and run as `node bin/mizzen.js` (the shell lines are then plain statements)', async () => {
  for (const [file, args] of [[bin, ['--version']], [process.execPath, [bin, '--version']]] as const) {
    const { stdout } = await run(file, [...args]);
    assert.match(stdout, /^mizzen v/);
  }
});
