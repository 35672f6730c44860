// Small control-plane files: absent is undefined, other read errors are thrown; an atomic write
// replaces the file whole, with the mode asked for, and leaves no temporary file behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from './files.ts';

test('readFileIfExists and writeFileAtomic', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-review-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a.key');
  assert.equal(await readFileIfExists(file), undefined);
  await assert.rejects(readFileIfExists(dir), /EISDIR/);

  writeFileSync(file, 'old', { mode: 0o644 });
  await writeFileAtomic(file, 'new', 0o600);
  assert.equal(readFileSync(file, 'utf8'), 'new');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(await readFileIfExists(file), 'new');
  assert.deepEqual(readdirSync(dir), ['a.key']);
});
