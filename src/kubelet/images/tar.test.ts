import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, statSync, readlinkSync, rmSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTar, type TarEntry } from './tar.ts';
import { TarFile } from './tar-reader.ts';

const longDir = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(30)}`; // > 100 bytes: ustar prefix + name
const veryLong = `${'x'.repeat(120)}/${'y'.repeat(120)}/${'z'.repeat(120)}.txt`; // > 255: pax path
const entries: TarEntry[] = [
  { path: 'bin', type: 'directory' },
  { path: 'bin/busybox', type: 'file', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
  { path: 'bin/sh', type: 'symlink', linkTarget: '/bin/busybox' },
  { path: 'bin/ash', type: 'hardlink', linkTarget: 'bin/busybox' },
  { path: 'tmp', type: 'directory', mode: 0o1777 },
  { path: 'etc/passwd', type: 'file', data: Buffer.from('root:x:0:0:root:/root:/bin/sh\n') },
  { path: 'empty', type: 'file' },
  { path: `${longDir}/file.txt`, type: 'file', data: Buffer.from('long') },
  { path: veryLong, type: 'file', data: Buffer.alloc(1000, 0x61) },
  { path: 'link-far', type: 'symlink', linkTarget: `/${'t'.repeat(150)}` },
  { path: 'grüße.txt', type: 'file', data: Buffer.from('utf8 name') },
  { path: 'owned', type: 'file', data: Buffer.from('x'), uid: 1000, gid: 1000, uname: 'user', gname: 'user', mtime: 1_700_000_000 },
];

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'mizzen-tar-'));
}

test('tar -tvf lists every entry with type, mode, owner and size', (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a.tar');
  writeFileSync(file, createTar(entries));
  const lines = execFileSync('tar', ['--numeric-owner', '-tvf', file], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(lines.length, entries.length);
  const line = (name: string) => lines.find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} `));
  assert.match(line('bin/')!, /^drwxr-xr-x 0\/0 +0 1970-01-01 00:00 bin\/$/);
  assert.match(line('bin/busybox')!, /^-rwxr-xr-x 0\/0 +18 1970-01-01 00:00 bin\/busybox$/);
  assert.match(line('bin/sh')!, /^lrwxrwxrwx 0\/0 +0 .* bin\/sh -> \/bin\/busybox$/);
  assert.match(line('bin/ash')!, /^hrw-r--r-- 0\/0 +0 .* bin\/ash link to bin\/busybox$/);
  assert.match(line('tmp/')!, /^drwxrwxrwt 0\/0 /);
  assert.match(line('owned')!, /^-rw-r--r-- 1000\/1000 +1 2023-11-14/);
  assert.ok(line(`${longDir}/file.txt`), 'prefix-split long name');
  assert.ok(line(veryLong), 'pax long name');
  assert.ok(lines.some((l) => l.includes(`link-far -> /${'t'.repeat(150)}`)), 'pax long link target');
  assert.ok(lines.some((l) => l.endsWith('grüße.txt')), 'UTF-8 name through pax');
});

test('tar -xf restores contents, modes and links', (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a.tar');
  writeFileSync(file, createTar(entries));
  const out = join(dir, 'out');
  execFileSync('mkdir', [out]);
  execFileSync('tar', ['--no-same-owner', '-xf', file, '-C', out]);
  assert.equal(readFileSync(join(out, 'bin/busybox'), 'utf8'), '#!/bin/sh\necho hi\n');
  assert.equal(statSync(join(out, 'bin/busybox')).mode & 0o777, 0o755);
  assert.equal(readlinkSync(join(out, 'bin/sh')), '/bin/busybox');
  assert.equal(statSync(join(out, 'bin/ash')).ino, statSync(join(out, 'bin/busybox')).ino);
  assert.equal(lstatSync(join(out, 'tmp')).mode & 0o7777, 0o1777);
  assert.equal(readFileSync(join(out, veryLong)).length, 1000);
  assert.equal(readFileSync(join(out, `${longDir}/file.txt`), 'utf8'), 'long');
  assert.equal(readFileSync(join(out, 'grüße.txt'), 'utf8'), 'utf8 name');
  assert.equal(readFileSync(join(out, 'empty')).length, 0);
});

test('the same entries give the same bytes (layers hash the same everywhere)', () => {
  assert.ok(createTar(entries).equals(createTar(entries)));
  assert.equal(createTar(entries).length % 512, 0);
  assert.ok(!createTar(entries).equals(createTar(entries, { mtime: 1 })));
});

test('TarFile reads the table of contents and members back, pax names included', (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a.tar');
  writeFileSync(file, createTar(entries));
  const tar = new TarFile(file);
  try {
    const members = tar.members();
    assert.deepEqual(
      members.map((m) => m.path),
      entries.map((e) => e.path),
    );
    const big = members.find((m) => m.path === veryLong)!;
    assert.equal(tar.readMember(big).length, 1000);
    assert.equal(tar.readMember(members.find((m) => m.path === 'etc/passwd')!).toString(), 'root:x:0:0:root:/root:/bin/sh\n');
  } finally {
    tar.close();
  }
  // And an archive written by GNU tar.
  const src = join(dir, 'src');
  execFileSync('mkdir', ['-p', join(src, veryLong.split('/').slice(0, -1).join('/'))]);
  writeFileSync(join(src, veryLong), 'gnu');
  execFileSync('tar', ['-cf', join(dir, 'gnu.tar'), '-C', src, '.']);
  const gnu = new TarFile(join(dir, 'gnu.tar'));
  try {
    const m = gnu.members().find((x) => x.path === veryLong);
    assert.ok(m, 'GNU long name read');
    assert.equal(gnu.readMember(m).toString(), 'gnu');
  } finally {
    gnu.close();
  }
});

test('TarFile refuses a file that is not a tar archive', (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'x.tar'), Buffer.alloc(1024, 0x41));
  const tar = new TarFile(join(dir, 'x.tar'));
  try {
    assert.throws(() => tar.members(), /not a tar archive/);
  } finally {
    tar.close();
  }
});
