import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicWrite, readProjection, validatePath, type Payload } from './atomic-writer.ts';

const payload = (entries: Record<string, string | [string, number]>): Payload =>
  new Map(Object.entries(entries).map(([k, v]) => [k, Array.isArray(v) ? { data: Buffer.from(v[0]), mode: v[1] } : { data: Buffer.from(v), mode: 0o644 }]));

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mizzen-atomic-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('validatePath as upstream', () => {
  const bad: [string, RegExp][] = [
    ['', /must not be empty/],
    ['/abs', /must be relative path/],
    ['a/../b', /must not contain '\.\.'/],
    ['..hidden', /must not start with '\.\.'/],
    ['x'.repeat(256), /filenames must be less than or equal to 255 characters/],
  ];
  for (const [p, re] of bad) assert.throws(() => validatePath(p), re, p);
  for (const p of ['a', 'a/b/c', '.dot', '..', 'a..b']) {
    if (p === '..') assert.throws(() => validatePath(p));
    else assert.doesNotThrow(() => validatePath(p), p);
  }
});

test('atomicWrite: layout, modes, updates swap ..data and prune removed paths', async () => {
  await withDir(async (dir) => {
    assert.equal(await atomicWrite(dir, payload({ a: 'one', 'sub/b': ['two', 0o400] })), true);
    const first = await readlink(join(dir, '..data'));
    assert.match(first, /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\w+$/);
    assert.equal(await readlink(join(dir, 'a')), '..data/a');
    assert.equal(await readlink(join(dir, 'sub')), '..data/sub');
    assert.equal(await readFile(join(dir, 'a'), 'utf8'), 'one');
    assert.equal(await readFile(join(dir, 'sub/b'), 'utf8'), 'two');
    assert.equal((await stat(join(dir, 'sub/b'))).mode & 0o777, 0o400);
    assert.equal((await stat(join(dir, first))).mode & 0o777, 0o755);

    // Same content: nothing written.
    assert.equal(await atomicWrite(dir, payload({ a: 'one', 'sub/b': ['two', 0o400] })), false);
    assert.equal(await readlink(join(dir, '..data')), first);

    // Change one file, drop the subdirectory, add a file.
    assert.equal(await atomicWrite(dir, payload({ a: 'uno', c: 'three' })), true);
    const second = await readlink(join(dir, '..data'));
    assert.notEqual(second, first);
    const names = (await readdir(dir)).sort();
    assert.deepEqual(names, ['..data', second, 'a', 'c'].sort());
    assert.deepEqual(Object.fromEntries([...(await readProjection(dir))].map(([k, v]) => [k, v.toString()])), { a: 'uno', c: 'three' });

    // A mode change alone is an update too.
    assert.equal(await atomicWrite(dir, payload({ a: ['uno', 0o600], c: 'three' })), true);
    assert.equal((await stat(join(dir, 'a'))).mode & 0o777, 0o600);

    // Empty payload empties the volume.
    assert.equal(await atomicWrite(dir, new Map()), true);
    assert.deepEqual((await readdir(dir)).filter((n) => !n.startsWith('..')), []);
  });
});

test('atomicWrite: a reader never sees a mix of two versions', async () => {
  await withDir(async (dir) => {
    const version = (n: number) => payload({ x: `v${n}`, y: `v${n}` });
    await atomicWrite(dir, version(0));
    let stop = false;
    let mixed = 0;
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        // Resolve ..data once, then read both files through it, as a consumer following the link would.
        try {
          const ts = await readlink(join(dir, '..data'));
          const [x, y] = await Promise.all([readFile(join(dir, ts, 'x'), 'utf8'), readFile(join(dir, ts, 'y'), 'utf8')]);
          reads++;
          if (x !== y) mixed++;
        } catch {
          // the old directory was removed between readlink and read: a retry sees the new one
        }
      }
    })();
    for (let i = 1; i <= 30; i++) await atomicWrite(dir, version(i));
    stop = true;
    await reader;
    assert.equal(mixed, 0);
    assert.ok(reads > 0);
    assert.equal(await readFile(join(dir, 'x'), 'utf8'), 'v30');
  });
});

test('atomicWrite rejects invalid payload paths before touching the directory', async () => {
  await withDir(async (dir) => {
    await assert.rejects(atomicWrite(dir, payload({ '../escape': 'x' })), /must not contain '\.\.'/);
    assert.deepEqual(await readdir(dir), []);
  });
});
