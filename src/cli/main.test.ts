import { test } from 'node:test';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from './main.ts';
import { memoryIO } from './io.ts';
import { COMMANDS } from './commands.ts';
import { serveOptions, firstServiceIP, UsageError, defaultDataDir, upOptions } from './options.ts';
import { clientComponentGroups } from './components.ts';
import { nodeNameFromHost } from '../kubelet/node/host-node-name.ts';
import { clientURL, servingHostsFor } from './serving.ts';

test('--help and no arguments print the command list and exit 0', async () => {
  for (const argv of [[], ['--help'], ['-h'], ['help']]) {
    const io = memoryIO();
    assert.equal(await main(argv, io), 0, argv.join(' '));
    const text = io.stdout.join('\n');
    for (const c of COMMANDS) assert.match(text, new RegExp(`\\b${c.name}\\b`));
  }
});

test('per-command help via `help CMD` and `CMD --help`', async () => {
  for (const argv of [['help', 'up'], ['up', '--help'], ['up', '-h']]) {
    const io = memoryIO();
    assert.equal(await main(argv, io), 0);
    assert.match(io.stdout.join('\n'), /Usage: mizzen up/);
    assert.match(io.stdout.join('\n'), /--bind-address/);
  }
  const io = memoryIO();
  assert.equal(await main(['apiserver', '--help'], io), 0);
  assert.match(io.stdout.join('\n'), /--tls-private-key-file/);
});

test('version prints the package version', async () => {
  for (const argv of [['version'], ['--version']]) {
    const io = memoryIO();
    assert.equal(await main(argv, io), 0);
    assert.match(io.stdout.join(''), /^mizzen v\d+\.\d+\.\d+/);
  }
});

test('unknown commands and flags fail with exit 2 and usage', async () => {
  const cases: Array<[string[], RegExp, RegExp]> = [
    [['frobnicate'], /unknown command "frobnicate"/, /Usage: mizzen COMMAND/],
    [['--frob'], /unknown flag "--frob"/, /Usage: mizzen COMMAND/],
    [['up', '--bogus'], /unknown option '--bogus'/, /Usage: mizzen up/],
    [['up', 'extra'], /unexpected argument 'extra'/, /Usage: mizzen up/],
    [['up', '--port'], /--port/, /Usage: mizzen up/],
    [['up', '--port', 'abc'], /invalid --port "abc"/, /Usage: mizzen up/],
    [['up', '--port', '70000'], /invalid --port "70000"/, /Usage: mizzen up/],
    [['apiserver', '--service-cluster-ip-range', 'nope'], /invalid --service-cluster-ip-range/, /Usage: mizzen apiserver/],
    [['help', 'nope'], /unknown command "nope"/, /Usage: mizzen help/],
  ];
  for (const [argv, message, usage] of cases) {
    const io = memoryIO();
    assert.equal(await main(argv, io), 2, argv.join(' '));
    assert.deepEqual(io.stdout, []);
    const err = io.stderr.join('\n');
    assert.match(err, message, argv.join(' '));
    assert.match(err, usage, argv.join(' '));
  }
});

test('serve options have defaults and accept overrides', () => {
  assert.deepEqual(serveOptions({}, 'up'), {
    dataDir: defaultDataDir(),
    port: 6443,
    bindAddress: '127.0.0.1',
    serviceCIDR: undefined,
  });
  assert.equal(defaultDataDir(), join(homedir(), '.mizzen'));
  const o = serveOptions(
    { 'data-dir': 'rel/dir', port: '0', 'bind-address': '[::1]', 'service-cluster-ip-range': '10.96.0.0/12' },
    'up',
  );
  assert.deepEqual(o, { dataDir: resolve('rel/dir'), port: 0, bindAddress: '::1', serviceCIDR: '10.96.0.0/12' });
  assert.equal(serveOptions({ 'data-dir': '~/x' }, 'up').dataDir, join(homedir(), 'x'));
  assert.throws(() => serveOptions({ 'data-dir': '' }, 'up'), UsageError);
});

test('--simulated-nodes-heartbeat-only reaches the simulated nodes component', () => {
  const specFor = (values: Record<string, string | boolean>) =>
    clientComponentGroups(upOptions(values), { rootCAPem: '' }).flatMap((g) => g.specs).find((s) => s.name === 'simulated-nodes')?.options as { heartbeatOnly?: boolean } | undefined;
  assert.equal(specFor({ 'simulated-nodes': '3' })?.heartbeatOnly, false);
  assert.equal(specFor({ 'simulated-nodes': '3', 'simulated-nodes-heartbeat-only': true })?.heartbeatOnly, true);
  assert.match(COMMANDS.find((c) => c.name === 'up')!.usage, /--simulated-nodes-heartbeat-only/);
  assert.throws(() => upOptions({ 'simulated-nodes-heartbeat-only': true }), /add --simulated-nodes N/);
});

test("the local-path provisioner knows the local node by --node-name (it makes that node's directories itself)", () => {
  const cmFor = (values: Record<string, string | boolean>) =>
    clientComponentGroups(upOptions(values), { rootCAPem: '' }).flatMap((g) => g.specs).find((s) => s.name === 'controller-manager')?.options as { localNodeName?: string } | undefined;
  assert.equal(cmFor({ 'node-name': 'worker-7' })?.localNodeName, 'worker-7');
  assert.equal(cmFor({})?.localNodeName, nodeNameFromHost());
  assert.equal(cmFor({ 'no-kubelet': true })?.localNodeName, undefined);
});

test('--configure-cloud-routes reaches the cloud controller manager (routes can be turned off on up, as on cloud-controller-manager)', () => {
  const ccmFor = (values: Record<string, string | boolean>) =>
    clientComponentGroups(upOptions(values), { rootCAPem: '' }).flatMap((g) => g.specs).find((s) => s.name === 'cloud-controller-manager')?.options as { configureCloudRoutes?: boolean } | undefined;
  assert.equal(ccmFor({})?.configureCloudRoutes, undefined);
  assert.equal(ccmFor({ 'configure-cloud-routes': 'false' })?.configureCloudRoutes, false);
  assert.equal(ccmFor({ 'configure-cloud-routes': 'true' })?.configureCloudRoutes, true);
  assert.throws(() => upOptions({ 'configure-cloud-routes': 'no' }), (e: unknown) => e instanceof UsageError && /invalid --configure-cloud-routes "no": must be true or false/.test(e.message));
  assert.match(COMMANDS.find((c) => c.name === 'up')!.usage, /--configure-cloud-routes BOOL/);
});

test('first service IP of a CIDR', () => {
  assert.equal(firstServiceIP('10.43.0.0/16'), '10.43.0.1');
  assert.equal(firstServiceIP('10.96.0.0/12'), '10.96.0.1');
  assert.equal(firstServiceIP('192.168.7.130/25'), '192.168.7.129');
});

test('client URL never names a wildcard address', () => {
  assert.equal(clientURL('127.0.0.1', 6443), 'https://127.0.0.1:6443');
  assert.equal(clientURL('0.0.0.0', 1), 'https://127.0.0.1:1');
  assert.equal(clientURL('::', 2), 'https://[::1]:2');
  assert.equal(clientURL('fd00::5', 3), 'https://[fd00::5]:3');
});

test('serving hosts include the bind address, or interface addresses for a wildcard bind', () => {
  assert.ok(servingHostsFor('192.0.2.4').includes('192.0.2.4'));
  assert.ok(!servingHostsFor('0.0.0.0').includes('0.0.0.0'));
  assert.ok(servingHostsFor('127.0.0.1', '10.96.0.0/12').includes('10.96.0.1'));
});
