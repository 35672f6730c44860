import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareTerminationMessageFile, readLastLogText, readTerminationMessage } from './termination-message.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mizzen-termlog-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const criLog = (lines: [string, string, string][]) => lines.map(([stream, tag, text]) => `2024-01-01T00:00:00.000000000Z ${stream} ${tag} ${text}`).join('\n') + '\n';

test('prepareTerminationMessageFile: an empty 0666 file per container instance', async () => {
  const a = await prepareTerminationMessageFile(join(dir, 'containers/app'), { name: 'app', terminationMessagePath: '/dev/termination-log' });
  const b = await prepareTerminationMessageFile(join(dir, 'containers/app'), { name: 'app', terminationMessagePath: '/dev/termination-log' });
  assert.ok(a && b);
  assert.equal(a.containerPath, '/dev/termination-log');
  assert.notEqual(a.hostPath, b.hostPath);
  const st = await stat(a.hostPath);
  assert.equal(st.size, 0);
  assert.equal(st.mode & 0o777, 0o666);
  assert.equal(await prepareTerminationMessageFile(join(dir, 'containers/app'), { name: 'app' }), undefined);
});

test('readTerminationMessage: file, 4 KiB tail, FallbackToLogsOnError', async () => {
  const msgFile = join(dir, 'msg');
  const logFile = join(dir, 'app.log');
  await writeFile(logFile, criLog([['stdout', 'F', 'starting'], ['stderr', 'P', 'fatal: '], ['stderr', 'F', 'disk full']]));
  const mounts = [{ containerPath: '/dev/termination-log', hostPath: msgFile }];
  const read = (exitCode: number, policy = 'File', content?: string) =>
    (content === undefined ? Promise.resolve() : writeFile(msgFile, content)).then(() =>
      readTerminationMessage({ terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: policy, exitCode, mounts, logPath: logFile }),
    );
  assert.equal(await read(0, 'File', 'all good'), 'all good');
  assert.equal(await read(1, 'FallbackToLogsOnError', 'explicit'), 'explicit');
  assert.equal(await read(1, 'FallbackToLogsOnError', ''), 'starting\nfatal: disk full\n');
  assert.equal(await read(0, 'FallbackToLogsOnError', ''), '');
  assert.equal(await read(1, 'File', ''), '');
  const big = 'x'.repeat(5000) + 'END';
  assert.equal((await read(0, 'File', big)).length, 4096);
  assert.ok((await read(0, 'File', big)).endsWith('END'));
  // No file mounted (e.g. the path was not set): fall back only if asked.
  assert.equal(await readTerminationMessage({ terminationMessagePath: '/x', terminationMessagePolicy: 'FallbackToLogsOnError', exitCode: 2, mounts: [], logPath: logFile }), 'starting\nfatal: disk full\n');
});

test('readLastLogText: last 80 lines, at most 2 KiB', async () => {
  const logFile = join(dir, 'long.log');
  const lines: [string, string, string][] = [];
  for (let i = 0; i < 200; i++) lines.push(['stdout', 'F', `line ${i}`]);
  await writeFile(logFile, criLog(lines));
  const text = await readLastLogText(logFile);
  const got = text.trimEnd().split('\n');
  assert.equal(got.length, 80);
  assert.equal(got[0], 'line 120');
  assert.equal(got[79], 'line 199');
  const wide: [string, string, string][] = [];
  for (let i = 0; i < 50; i++) wide.push(['stdout', 'F', `${i}:${'y'.repeat(100)}`]);
  await writeFile(logFile, criLog(wide));
  const cut = await readLastLogText(logFile);
  assert.equal(Buffer.byteLength(cut), 2048);
  assert.ok(cut.endsWith(`49:${'y'.repeat(100)}\n`));
  assert.match(await readLastLogText(join(dir, 'nope.log')), /^Error on reading termination message from logs: /);
});
