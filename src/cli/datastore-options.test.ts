import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { main } from './main.ts';
import { memoryIO } from './io.ts';
import { agentOptions, datastoreOptions, upOptions, UsageError } from './options.ts';

test('etcd flags: k3s names or kube-apiserver names, TLS files, compaction interval', () => {
  assert.equal(datastoreOptions({}, 'up'), undefined);
  assert.deepEqual(datastoreOptions({ 'datastore-endpoint': 'https://10.0.0.1:2379, https://10.0.0.2:2379' }, 'up'), { endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'] });
  assert.deepEqual(
    datastoreOptions({ 'etcd-servers': 'https://a:2379', 'etcd-cafile': 'ca.crt', 'etcd-certfile': 'c.crt', 'etcd-keyfile': 'c.key', 'etcd-compaction-interval': '10m' }, 'apiserver'),
    { endpoints: ['https://a:2379'], caFile: resolve('ca.crt'), certFile: resolve('c.crt'), keyFile: resolve('c.key'), compactIntervalMs: 600_000 },
  );
  assert.equal(datastoreOptions({ 'datastore-endpoint': 'http://a:2379', 'etcd-compaction-interval': '0' }, 'up')!.compactIntervalMs, 0);
  for (const bad of [
    { 'datastore-endpoint': 'https://a:2379', 'etcd-servers': 'https://b:2379' },
    { 'datastore-cafile': 'ca.crt' },
    { 'datastore-endpoint': 'a' },
    { 'datastore-endpoint': 'ftp://a:2379' },
    { 'datastore-endpoint': 'https://a:2379', 'datastore-certfile': 'c.crt' },
    { 'datastore-endpoint': 'https://a:2379', 'etcd-compaction-interval': 'often' },
  ]) {
    assert.throws(() => datastoreOptions(bad, 'up'), UsageError, JSON.stringify(bad));
  }
});

test('join and agent flags', () => {
  const o = upOptions({ join: 'https://10.0.0.1:6443', token: `MZ10${'a'.repeat(64)}::server:${'b'.repeat(32)}` });
  assert.equal(o.join?.server, 'https://10.0.0.1:6443');
  assert.throws(() => upOptions({ join: 'https://10.0.0.1:6443' }), /--join needs --token/);
  assert.throws(() => upOptions({ token: 'x' }), /--token goes with --join/);
  assert.throws(() => upOptions({ join: 'http://10.0.0.1:6443', token: 'x' }), /invalid --join/);
  assert.deepEqual(upOptions({ 'leader-elect-lease-duration': '30s' }).leaderElection, { leaseDurationSeconds: 30 });
  assert.throws(() => upOptions({ 'leader-elect-lease-duration': '5s' }), /longer than --leader-elect-renew-deadline/);

  const a = agentOptions({ server: 'https://10.0.0.1:6443,https://10.0.0.2:6443', token: 't', 'node-name': 'Worker-1', 'lb-port': '0' });
  assert.deepEqual(a.servers, ['https://10.0.0.1:6443', 'https://10.0.0.2:6443']);
  assert.equal(a.nodeName, 'worker-1');
  assert.equal(a.lbPort, 0);
  assert.throws(() => agentOptions({ token: 't' }), /--server is required/);
  assert.throws(() => agentOptions({ server: 'https://a:6443' }), /--token or --token-file is required/);
  assert.throws(() => agentOptions({ server: 'https://a:6443', token: 't', 'lb-port': '99999' }), /invalid --lb-port/);
});

test('commands report bad etcd and join flags with exit 2', async () => {
  for (const argv of [
    ['apiserver', '--etcd-cafile', 'x'],
    ['migrate'],
    ['agent', '--server', 'https://a:6443'],
    ['up', '--join', 'https://a:6443'],
  ]) {
    const io = memoryIO();
    assert.equal(await main(argv, io), 2, argv.join(' '));
  }
});
