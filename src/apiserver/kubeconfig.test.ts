// `mizzen up` rewrites DATA_DIR/kubeconfig on every start: what the user set in it with the real
// kubectl (a namespace on the current context, their own clusters, users and contexts, another
// current-context) survives, and the file is left alone when Mizzen's entries have not changed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { writeKubeconfig, type KubeconfigOptions } from './kubeconfig.ts';

const run = promisify(execFile);
const KUBECTL = '/usr/bin/kubectl';
const skip = existsSync(KUBECTL) ? false : 'kubectl is not installed at /usr/bin/kubectl';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mizzen-kubeconfig-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const creds = (server: string): KubeconfigOptions => ({ server, caPem: 'CA PEM', clientCertPem: 'CERT PEM', clientKeyPem: 'KEY PEM' });
const kubectl = (file: string, ...args: string[]) => run(KUBECTL, ['--kubeconfig', file, ...args]).then((r) => r.stdout.trim());

test("a restart keeps what the user set with kubectl config, and updates only Mizzen's own entries", { skip }, async () => {
  const file = join(dir, 'kubeconfig');
  await writeKubeconfig(file, creds('https://127.0.0.1:6443'));
  await kubectl(file, 'config', 'set-context', '--current', '--namespace=foo');
  await kubectl(file, 'config', 'set-cluster', 'other', '--server=https://other.example:6443');
  await kubectl(file, 'config', 'set-credentials', 'someone', '--token=abc');
  await kubectl(file, 'config', 'set-context', 'elsewhere', '--cluster=other', '--user=someone');
  const edited = await readFile(file, 'utf8');
  const before = (await stat(file)).mtimeMs;

  // Same server and credentials: the file is not rewritten.
  await writeKubeconfig(file, creds('https://127.0.0.1:6443'));
  assert.equal(await readFile(file, 'utf8'), edited);
  assert.equal((await stat(file)).mtimeMs, before);
  assert.equal(await kubectl(file, 'config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].context.namespace}'), 'foo');

  // A new port (as `--port 0` gives) and a switched current-context.
  await kubectl(file, 'config', 'use-context', 'elsewhere');
  await writeKubeconfig(file, creds('https://127.0.0.1:7443'));
  assert.equal(await kubectl(file, 'config', 'current-context'), 'elsewhere');
  assert.equal(await kubectl(file, 'config', 'view', '-o', 'jsonpath={.clusters[?(@.name=="mizzen")].cluster.server}'), 'https://127.0.0.1:7443');
  assert.equal(await kubectl(file, 'config', 'view', '-o', 'jsonpath={.clusters[?(@.name=="other")].cluster.server}'), 'https://other.example:6443');
  assert.equal(await kubectl(file, 'config', 'view', '-o', 'jsonpath={.contexts[?(@.name=="mizzen")].context.namespace}'), 'foo');
  assert.equal(await kubectl(file, 'config', 'view', '-o', 'jsonpath={.users[?(@.name=="someone")].user.token}'), 'REDACTED');
  const doc = parse(await readFile(file, 'utf8'));
  assert.equal(doc.users.find((u: any) => u.name === 'admin').user['client-key-data'], Buffer.from('KEY PEM').toString('base64'));
  assert.equal((await stat(file)).mode & 0o777, 0o600);
});

test('a missing or unreadable kubeconfig is written afresh', async () => {
  const file = join(dir, 'fresh', 'kubeconfig');
  await writeKubeconfig(file, creds('https://127.0.0.1:6443'));
  const doc = parse(await readFile(file, 'utf8'));
  assert.equal(doc['current-context'], 'mizzen');
  assert.equal(doc.clusters[0].cluster.server, 'https://127.0.0.1:6443');
});
