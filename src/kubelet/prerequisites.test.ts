import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPrerequisites, ensurePrerequisites } from './prerequisites.ts';
import { isStaticElf } from './images/node-images.ts';

const PROGRAMS = ['containerd', 'containerd-shim-runc-v2', 'ctr', 'runc', 'iptables', 'ip'];
const PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'];

function fakeMachine(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-prereq-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'bin');
  const cni = join(dir, 'cni');
  mkdirSync(bin);
  mkdirSync(cni);
  const exe = (p: string) => {
    writeFileSync(p, '#!/bin/sh\nexit 0\n');
    chmodSync(p, 0o755);
  };
  const staticBusybox = join(dir, 'busybox');
  return { dir, bin, cni, exe, staticBusybox, env: { path: bin, cniDirs: [cni], busyboxPaths: [staticBusybox] } };
}

function staticElfAvailable(): string | undefined {
  try {
    return isStaticElf(readFileSync('/bin/busybox')) ? undefined : 'needs a static /bin/busybox to copy';
  } catch {
    return 'needs a static /bin/busybox to copy';
  }
}

test('everything missing: one message naming each thing and the apt-get command', (t) => {
  const m = fakeMachine(t);
  const r = checkPrerequisites(m.env);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(
    r.message,
    `no local node: missing containerd, containerd-shim-runc-v2, ctr, runc, iptables, ip, CNI plugins (bridge, host-local, loopback, portmap) in ${m.cni}, a statically linked busybox (/bin/busybox); install with: apt-get install containerd runc iptables iproute2 containernetworking-plugins busybox-static`,
  );
});

test('all present: the paths of each program', { skip: staticElfAvailable() }, (t) => {
  const m = fakeMachine(t);
  for (const p of PROGRAMS) m.exe(join(m.bin, p));
  for (const p of PLUGINS) m.exe(join(m.cni, p));
  copyFileSync('/bin/busybox', m.staticBusybox);
  const r = checkPrerequisites(m.env);
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.equal(r.paths.runc, join(m.bin, 'runc'));
  assert.equal(r.paths.cniBinDir, m.cni);
  assert.equal(r.paths.busybox, m.staticBusybox);
});

test('a dynamically linked busybox does not count', (t) => {
  const m = fakeMachine(t);
  copyFileSync(process.execPath, m.staticBusybox); // any dynamic ELF
  const r = checkPrerequisites(m.env);
  assert.ok(!r.ok && r.missing.some((x) => x.aptPackage === 'busybox-static'));
});

test('without root or apt-get: the message says why Mizzen did not install them', async (t) => {
  const m = fakeMachine(t);
  for (const p of PROGRAMS.filter((p) => p !== 'runc')) m.exe(join(m.bin, p));
  for (const p of PLUGINS) m.exe(join(m.cni, p));
  const logs: string[] = [];
  const r = await ensurePrerequisites({ log: (l) => logs.push(l), aptLogFile: join(m.dir, 'apt.log'), env: { ...m.env, isRoot: false, hasApt: true } });
  assert.ok(!r.ok);
  if (!r.ok) assert.match(r.message, /missing runc, a statically linked busybox .*install with: apt-get install runc busybox-static \(not running as root, so Mizzen cannot install them itself\)$/);
  const r2 = await ensurePrerequisites({ log: (l) => logs.push(l), aptLogFile: join(m.dir, 'apt.log'), env: { ...m.env, isRoot: true, hasApt: false } });
  assert.ok(!r2.ok && /apt-get is not available/.test(r2.message));
  assert.deepEqual(logs, [], 'nothing logged when nothing is installed');
});

test('as root with apt-get: installs the missing packages, saying so in one line', { skip: staticElfAvailable() }, async (t) => {
  const m = fakeMachine(t);
  for (const p of PROGRAMS.filter((p) => p !== 'runc')) m.exe(join(m.bin, p));
  for (const p of PLUGINS) m.exe(join(m.cni, p));
  // A stand-in apt-get: fails once (stale lists), then "installs" runc and busybox-static.
  const fakeApt = join(m.dir, 'fake-apt');
  mkdirSync(fakeApt);
  writeFileSync(
    join(fakeApt, 'apt-get'),
    `#!/bin/sh
echo "apt-get $*"
if [ "$1" = update ]; then touch ${m.dir}/updated; exit 0; fi
[ -e ${m.dir}/updated ] || { echo "E: Unable to locate package runc"; exit 100; }
printf '#!/bin/sh\\n' > ${m.bin}/runc; chmod 755 ${m.bin}/runc
cp /bin/busybox ${m.staticBusybox}
`,
  );
  chmodSync(join(fakeApt, 'apt-get'), 0o755);
  const savedPath = process.env.PATH;
  process.env.PATH = `${fakeApt}:${savedPath}`;
  t.after(() => (process.env.PATH = savedPath));
  const logs: string[] = [];
  const aptLog = join(m.dir, 'apt.log');
  const r = await ensurePrerequisites({ log: (l) => logs.push(l), aptLogFile: aptLog, env: { ...m.env, isRoot: true, hasApt: true } });
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.deepEqual(r.installed, ['runc', 'busybox-static']);
  assert.deepEqual(logs, [`installing runc busybox-static with apt-get for the local node (output in ${aptLog})`]);
  const aptOut = readFileSync(aptLog, 'utf8');
  assert.match(aptOut, /apt-get install -y --no-install-recommends runc busybox-static\n[\s\S]*apt-get update\n[\s\S]*apt-get install/);
  assert.ok(existsSync(join(m.bin, 'runc')));
});
