import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, appendFile, rename, rm, symlink, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCriLine, parseLogTime, readContainerLog, tailStart, type LogReadOptions, type LogFollow } from './container-logs.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'mizzen-logs-'));
}

async function read(path: string, opts: Partial<LogReadOptions> = {}, follow?: LogFollow, signal?: AbortSignal): Promise<string> {
  const out: Buffer[] = [];
  await readContainerLog(path, { timestamps: false, follow: false, ...opts }, async (b) => void out.push(Buffer.from(b)), follow, signal);
  return Buffer.concat(out).toString();
}

const lines = [
  '2024-05-01T10:00:00.000000001Z stdout F one',
  '2024-05-01T10:00:01.5Z stderr F two',
  '2024-05-01T10:00:02.123456789Z stdout P thr',
  '2024-05-01T10:00:02.223456789Z stdout F ee',
  '2024-05-01T12:00:03+02:00 stdout F four',
];
const file = lines.join('\n') + '\n';

test('CRI lines: time, stream, partial tag', () => {
  const m = parseCriLine(Buffer.from('2016-10-06T00:17:09.669794202Z stdout P log content 1\n'))!;
  assert.equal(m.stream, 'stdout');
  assert.equal(m.text.toString(), 'log content 1');
  assert.equal(m.stamp, '2016-10-06T00:17:09.669794202Z');
  assert.equal(parseCriLine(Buffer.from('2016-10-06T00:17:09Z stderr F:x,y full\n'))!.text.toString(), 'full\n');
  assert.equal(parseCriLine(Buffer.from('nonsense stdout F x\n')), undefined);
  assert.equal(parseCriLine(Buffer.from('2016-10-06T00:17:09Z stdin F x\n')), undefined);
  assert.equal(parseLogTime('2024-05-01T12:00:03+02:00')!.stamp, '2024-05-01T12:00:03.000000000+02:00');
  assert.equal(parseLogTime('2024-05-01T12:00:03.5+00:00')!.stamp, '2024-05-01T12:00:03.500000000Z');
});

test('the whole log, with partial lines joined and both streams', async () => {
  const dir = await tempDir();
  try {
    const p = join(dir, '0.log');
    await writeFile(p, file);
    assert.equal(await read(p), 'one\ntwo\nthree\nfour\n');
    assert.equal(await read(p, { streams: { stdout: false, stderr: true } }), 'two\n');
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('timestamps are printed with nine fractional digits and the line\'s own zone', async () => {
  const dir = await tempDir();
  try {
    const p = join(dir, '0.log');
    await writeFile(p, file);
    assert.equal(
      await read(p, { timestamps: true }),
      [
        '2024-05-01T10:00:00.000000001Z one',
        '2024-05-01T10:00:01.500000000Z two',
        '2024-05-01T10:00:02.123456789Z thr2024-05-01T10:00:02.223456789Z ee',
        '2024-05-01T12:00:03.000000000+02:00 four',
        '',
      ].join('\n'),
    );
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('tail counts file lines from the end; tail 0 is nothing', async () => {
  const dir = await tempDir();
  try {
    const p = join(dir, '0.log');
    await writeFile(p, file);
    assert.equal(await read(p, { tail: 1 }), 'four\n');
    assert.equal(await read(p, { tail: 2 }), 'ee\nfour\n');
    assert.equal(await read(p, { tail: 0 }), '');
    assert.equal(await read(p, { tail: 100 }), 'one\ntwo\nthree\nfour\n');
    const fh = await open(p);
    assert.equal(await tailStart(fh, 0), Buffer.byteLength(file));
    assert.equal(await tailStart(fh, 5), 0);
    await fh.close();
    // Across blocks of the backwards scan.
    const big = Array.from({ length: 20000 }, (_, i) => `2024-05-01T10:00:00Z stdout F line ${i}`).join('\n') + '\n';
    await writeFile(p, big);
    assert.equal(await read(p, { tail: 3 }), 'line 19997\nline 19998\nline 19999\n');
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('since skips older lines; limitBytes cuts the output', async () => {
  const dir = await tempDir();
  try {
    const p = join(dir, '0.log');
    await writeFile(p, file);
    assert.equal(await read(p, { sinceMs: Date.parse('2024-05-01T10:00:01.5Z') }), 'two\nthree\nfour\n');
    assert.equal(await read(p, { sinceMs: Date.parse('2024-05-01T10:00:03Z') }), 'four\n');
    assert.equal(await read(p, { limitBytes: 6 }), 'one\ntw');
    assert.equal(await read(p, { limitBytes: 4, timestamps: true }), '2024');
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('Docker JSON logs and a symlinked path are read too; an incomplete last line is shown', async () => {
  const dir = await tempDir();
  try {
    const p = join(dir, 'json.log');
    await writeFile(p, '{"log":"hello\\n","stream":"stdout","time":"2024-05-01T10:00:00.1Z"}\n{"log":"err\\n","stream":"stderr","time":"2024-05-01T10:00:01Z"}\n');
    await symlink(p, join(dir, 'link.log'));
    assert.equal(await read(join(dir, 'link.log'), { timestamps: true }), '2024-05-01T10:00:00.100000000Z hello\n2024-05-01T10:00:01.000000000Z err\n');
    const q = join(dir, 'cut.log');
    await writeFile(q, '2024-05-01T10:00:00Z stdout F done\n2024-05-01T10:00:01Z stdout F half');
    assert.equal(await read(q), 'done\nhalf');
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('a missing file is a clear error', async () => {
  await assert.rejects(read('/nonexistent/mizzen/0.log'), /failed to try resolving symlinks in path "\/nonexistent\/mizzen\/0.log"/);
});

test('follow waits for new lines and ends when the container stops', async () => {
  const dir = await tempDir();
  try {
    const p = join(dir, '0.log');
    await writeFile(p, lines[0] + '\n');
    let running = true;
    const got: string[] = [];
    const done = readContainerLog(p, { timestamps: false, follow: true }, async (b) => void got.push(b.toString()), { isRunning: async () => running, pollMs: 50 });
    await until(() => got.join('') === 'one\n');
    await appendFile(p, '2024-05-01T10:00:05Z stdout F later\n');
    await until(() => got.join('') === 'one\nlater\n');
    await appendFile(p, '2024-05-01T10:00:06Z stdout F last words\n');
    running = false;
    await done;
    assert.equal(got.join(''), 'one\nlater\nlast words\n');
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('follow reopens a rotated log file and stops when asked', async () => {
  const dir = await tempDir();
  try {
    const p = join(dir, '0.log');
    await writeFile(p, lines[0] + '\n');
    const got: string[] = [];
    const ac = new AbortController();
    const done = readContainerLog(p, { timestamps: false, follow: true, tail: 10 }, async (b) => void got.push(b.toString()), { isRunning: async () => true, pollMs: 50 }, ac.signal);
    await until(() => got.join('') === 'one\n');
    await appendFile(p, '2024-05-01T10:00:05Z stdout F before rotation\n');
    await rename(p, `${p}.20240501-100006`);
    await writeFile(p, '2024-05-01T10:00:07Z stdout F after rotation\n');
    await until(() => got.join('') === 'one\nbefore rotation\nafter rotation\n');
    ac.abort();
    await done;
  } finally {
    await rm(dir, { recursive: true });
  }
});

async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(pred(), 'condition not reached');
}
