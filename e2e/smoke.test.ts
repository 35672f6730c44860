// Smoke test of the real binary with the real kubectl: start, talk, lock, restart, stop.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { freePort, hasKubectl, runMizzen, startCluster, type Cluster } from './harness.ts';

describe('mizzen up (smoke)', { skip: hasKubectl ? false : 'kubectl is not installed at /usr/bin/kubectl' }, () => {
  let cluster: Cluster;

  before(async () => {
    cluster = await startCluster();
  });
  after(async () => {
    await cluster?.stop();
    if (cluster) assert.equal(existsSync(cluster.dataDir), false, 'stop() removes the data dir');
  });

  test('prints one ready line naming the URL and kubeconfig', () => {
    const ready = cluster.logs().split('\n').filter((l) => l.includes('is ready'));
    assert.equal(ready.length, 1, cluster.logs());
    assert.ok(ready[0]!.includes(cluster.url), ready[0]);
    assert.ok(ready[0]!.includes(`export KUBECONFIG=${cluster.kubeconfig}`), ready[0]);
    assert.ok(existsSync(cluster.kubeconfig));
  });

  test('kubectl version shows the server version', async () => {
    const { stdout } = await cluster.kubectl(['version', '-o', 'json']);
    const v = JSON.parse(stdout) as { serverVersion?: { gitVersion?: string; major?: string; minor?: string } };
    assert.ok(v.serverVersion, stdout);
    assert.match(v.serverVersion.gitVersion ?? '', /^v1\.\d+/);
    assert.equal(v.serverVersion.major, '1');
  });

  test('kubectl get ns lists the system namespaces', async () => {
    const { stdout } = await cluster.kubectl(['get', 'ns', '-o', 'name']);
    const names = stdout.trim().split('\n').sort();
    for (const ns of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) {
      assert.ok(names.includes(`namespace/${ns}`), `missing ${ns} in:\n${stdout}`);
    }
  });

  test('a second up on the same data dir fails with the in-use message', async () => {
    const res = await runMizzen(['up', '--data-dir', cluster.dataDir, '--port', String(await freePort())]);
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stderr, /data directory is in use: .* is locked by process \d+/);
    assert.doesNotMatch(res.stdout, /is ready/);
  });

  test('SIGTERM exits cleanly and data survives a restart', async () => {
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: smoke\ndata:\n  greeting: hello\n';
    await cluster.kubectl(['create', '-f', '-'], { input: manifest });
    await cluster.restart(); // rejects unless the old process exited 0 after SIGTERM
    const { stdout } = await cluster.kubectl(['get', 'configmap', 'smoke', '-o', 'jsonpath={.data.greeting}']);
    assert.equal(stdout, 'hello');
  });

  test("a restart keeps what the user set in the kubeconfig with kubectl config", async () => {
    await cluster.kubectl(['create', 'namespace', 'foo']);
    await cluster.kubectl(['create', 'configmap', 'in-foo', '-n', 'foo']);
    await cluster.kubectl(['config', 'set-context', '--current', '--namespace=foo']);
    await cluster.restart();
    const { stdout } = await cluster.kubectl(['get', 'configmaps', '-o', 'name']);
    assert.match(stdout, /^configmap\/in-foo$/m);
    assert.equal((await cluster.kubectl(['config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].context.namespace}'])).stdout, 'foo');
  });
});
