import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseSnapshotter, mayLowerOomScore, renderContainerdConfig } from './config.ts';
import { tomlString } from './toml.ts';
import { nodePaths } from './paths.ts';

const base = {
  root: '/data/containerd/root',
  state: '/data/containerd/state',
  socketPath: '/data/containerd/containerd.sock',
  sandboxImage: 'mizzen.local/pause:1',
  cniBinDir: '/usr/lib/cni',
  cniConfDir: '/data/cni/net.d',
  restrictOomScoreAdj: true,
};

test('renders its own socket, root, state, pause image, CNI dirs and runc with cgroupfs', () => {
  const toml = renderContainerdConfig(base);
  for (const line of [
    'version = 2',
    'root = "/data/containerd/root"',
    'state = "/data/containerd/state"',
    '  address = "/data/containerd/containerd.sock"',
    '  sandbox_image = "mizzen.local/pause:1"',
    '  restrict_oom_score_adj = true',
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    '  snapshotter = "overlayfs"',
    '  runtime_type = "io.containerd.runc.v2"',
    '  SystemdCgroup = false',
    '  bin_dir = "/usr/lib/cni"',
    '  conf_dir = "/data/cni/net.d"',
    '  max_conf_num = 1',
  ]) {
    assert.ok(toml.split('\n').includes(line), `missing: ${line}\n${toml}`);
  }
  assert.match(toml, /disabled_plugins = \[.*"io\.containerd\.internal\.v1\.opt"/);
  assert.doesNotMatch(toml, /runtime\.v1\.linux/, 'the 1.6 tasks service needs the v1 runtime plugin');
  assert.doesNotMatch(toml, /registry/);
  assert.match(renderContainerdConfig({ ...base, restrictOomScoreAdj: false }), /restrict_oom_score_adj = false/);
});

test('registry config_path and auth tables are added when given', () => {
  const auth = '[plugins."io.containerd.grpc.v1.cri".registry.configs."r.io".auth]\n  username = "u"\n';
  const toml = renderContainerdConfig({ ...base, registryConfigPath: '/data/containerd/certs.d', registryAuthToml: auth });
  assert.match(toml, /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\]\n {2}config_path = "\/data\/containerd\/certs\.d"\n/);
  assert.ok(toml.endsWith(auth), toml);
});

test('the config text is valid TOML for containerd (its own parser checks it)', { skip: process.getuid?.() !== 0 ? 'needs root' : undefined }, async () => {
  // `containerd config dump` parses the file and prints the merged config without starting.
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  let hasContainerd = true;
  try {
    execFileSync('containerd', ['--version'], { stdio: 'ignore' });
  } catch {
    hasContainerd = false;
  }
  if (!hasContainerd) return;
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-ctd-'));
  try {
    const file = join(dir, 'config.toml');
    const auth = '[plugins."io.containerd.grpc.v1.cri".registry.configs."127.0.0.1:5000".auth]\n  username = "a\\"b"\n';
    writeFileSync(file, renderContainerdConfig({ ...base, root: join(dir, 'root'), state: join(dir, 'state'), registryConfigPath: join(dir, 'certs.d'), registryAuthToml: auth }));
    const dump = execFileSync('containerd', ['--config', file, 'config', 'dump'], { encoding: 'utf8' });
    assert.match(dump, /sandbox_image = "mizzen\.local\/pause:1"/);
    assert.match(dump, /username = "a\\"b"/);
    assert.match(dump, /config_path = ".*certs\.d"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tomlString escapes quotes, backslashes and control characters', () => {
  assert.equal(tomlString('a"b\\c\nd\u0001'), '"a\\"b\\\\c\\nd\\u0001"');
  assert.equal(tomlString('ünïcode'), '"ünïcode"');
});

test('mayLowerOomScore answers without changing our own score', async () => {
  const { readFileSync } = await import('node:fs');
  const before = readFileSync('/proc/self/oom_score_adj', 'utf8');
  assert.equal(typeof mayLowerOomScore(), 'boolean');
  assert.equal(readFileSync('/proc/self/oom_score_adj', 'utf8'), before);
});

test('chooseSnapshotter picks overlayfs on an ordinary filesystem', () => {
  assert.equal(chooseSnapshotter('/nonexistent/dir'), 'overlayfs');
});

test('node paths live under the data dir; a socket path too long moves under /run/mizzen', () => {
  const p = nodePaths('/var/lib/mizzen');
  assert.equal(p.socketPath, '/var/lib/mizzen/containerd/containerd.sock');
  assert.equal(p.cniConfDir, '/var/lib/mizzen/cni/net.d');
  assert.equal(p.imagesDir, '/var/lib/mizzen/images');
  const long = nodePaths(`/tmp/${'x'.repeat(100)}`);
  assert.match(long.socketPath, /^\/run\/mizzen\/[0-9a-f]{12}\/containerd\.sock$/);
  assert.equal(nodePaths(`/tmp/${'x'.repeat(100)}`).socketPath, long.socketPath, 'stable per data dir');
});
