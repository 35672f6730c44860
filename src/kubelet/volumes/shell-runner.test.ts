import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShellRunner, shellQuote } from './shell-runner.ts';

test('commands run in order through one shell, with their output and exit codes', async () => {
  const sh = new ShellRunner();
  try {
    const [a, b, c] = await Promise.all([
      sh.run(['printf', '%s\\n%s', "it's", 'two lines']),
      sh.run(['sh', '-c', 'echo oops >&2; exit 3']),
      sh.run(['echo', '$HOME `id` $(id) ; rm -rf /nonexistent-mzkb']),
    ]);
    assert.deepEqual(a, { code: 0, output: "it's\ntwo lines" });
    assert.deepEqual(b, { code: 3, output: 'oops' });
    assert.deepEqual(c, { code: 0, output: '$HOME `id` $(id) ; rm -rf /nonexistent-mzkb' }, 'arguments are never interpreted');
    assert.equal((await sh.run(['true'])).output, '');
    assert.equal((await sh.run(['/nonexistent/command'])).code, 127);
    await assert.rejects(sh.run(['echo', 'a\nb']), /newline/);
  } finally {
    sh.close();
  }
});

test('a shell that died is replaced on the next command', async () => {
  const sh = new ShellRunner();
  try {
    // Kills the loop shell (the parent of the $(...) subshell that runs the command).
    await assert.rejects(sh.run(['sh', '-c', 'read -r _ _ _ pp _ < /proc/$PPID/stat; kill -9 $pp']));
    assert.deepEqual(await sh.run(['echo', 'back']), { code: 0, output: 'back' });
  } finally {
    sh.close();
  }
});

test('shellQuote', () => {
  assert.equal(shellQuote("a'b"), `'a'\\''b'`);
});
