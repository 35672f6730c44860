// A StatefulSet's data surviving its pods on a real node: `mizzen up` with its local kubelet (root,
// containerd & co), the documentation's "web" StatefulSet (e2e/fixtures/storage), its claims
// provisioned by the built-in local-path provisioner as directories under the data dir. As the
// tutorial does, each pod's hostname is written into its volume, the pods are deleted, and the
// replacements (new pods, same names) serve the same files; deleting the claims removes the
// volumes and their directories (reclaimPolicy Delete).
// Host-global names (node, bridge, cgroup root, CIDRs) are the test's own; no service proxy and no
// cluster DNS (not needed here).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasKubectl, startRealNodeCluster, type RealNodeCluster } from './harness.ts';
import { localNodeSkipReason } from '../src/kubelet/testing/local-node.ts';
import { poll } from '../src/testing/poll.ts';
import { httpGet } from '../src/testing/http-get.ts';

const skip = !hasKubectl ? 'needs /usr/bin/kubectl' : localNodeSkipReason();
const MANIFEST = fileURLToPath(new URL('./fixtures/storage/web-statefulset-node.yaml', import.meta.url));

describe('a StatefulSet on a real node keeps its data across pod restarts', { skip, timeout: 900_000 }, () => {
  let c: RealNodeCluster;

  const kubectl = (args: string[], input?: string) => c.kubectl(['-n', 'web', ...args], { input });
  const json = async (args: string[]) => JSON.parse((await kubectl([...args, '-o', 'json'])).stdout);
  /** The set's pods once both run and are Ready, with none of `oldUids` among them. */
  const readyPods = (oldUids: string[] = []) =>
    poll(
      async () => {
        const pods = (await json(['get', 'pods', '-l', 'app=nginx'])).items as any[];
        const ready = pods.filter((p) => !oldUids.includes(p.metadata.uid) && !p.metadata.deletionTimestamp && p.status?.podIP && p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True'));
        return ready.length === 2 ? ready.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1)) : undefined;
      },
      { what: `web-0 and web-1 Running and Ready${oldUids.length ? ' (new pods)' : ''}\n${c.logs().slice(-3000)}`, timeoutMs: 240_000, intervalMs: 1000 },
    ) as Promise<any[]>;
  const served = (podIP: string) => poll(() => httpGet(`http://${podIP}:80/`, 3000), { what: `HTTP from ${podIP}:80`, timeoutMs: 30_000 });

  before(async () => {
    c = await startRealNodeCluster('ss');
    await c.kubectl(['create', 'namespace', 'web']);
  });

  after(async () => {
    if (!c) return;
    await c.kubectl(['-n', 'web', 'delete', 'statefulset', 'web', '--ignore-not-found', '--wait=true', '--timeout=60s'], { allowFail: true }).catch(() => {});
    await c.stop();
  });

  let volumes: { claim: string; pv: string; dir: string }[] = [];

  test('the claims are provisioned on the node as directories under the data dir and mounted', async () => {
    await kubectl(['apply', '-f', MANIFEST]);
    const pods = await readyPods();
    for (const p of pods) assert.equal(p.spec.nodeName, c.nodeName);
    for (const name of ['web-0', 'web-1']) {
      const claim = await json(['get', 'pvc', `www-${name}`]);
      assert.equal(claim.status.phase, 'Bound');
      assert.equal(claim.spec.storageClassName, 'local-path');
      const pv = JSON.parse((await c.kubectl(['get', 'pv', claim.spec.volumeName, '-o', 'json'])).stdout);
      const dir = join(c.dataDir, 'storage', `${pv.metadata.name}_web_www-${name}`);
      assert.equal(pv.spec.hostPath.path, dir);
      assert.equal(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0], c.nodeName);
      assert.ok(existsSync(dir), `${dir} exists on the node`);
      volumes.push({ claim: claim.metadata.name, pv: pv.metadata.name, dir });
    }
  });

  test("each pod's hostname, written into its volume, is there again in its replacement", async () => {
    // As the tutorial: `for i in 0 1; do kubectl exec "web-$i" -- sh -c 'echo "$(hostname)" > /usr/share/nginx/html/index.html'; done`
    for (const name of ['web-0', 'web-1']) await kubectl(['exec', name, '--', 'sh', '-c', `echo "$(hostname) ${c.id}" > /usr/share/nginx/html/index.html`]);
    const before = await readyPods();
    for (const p of before) assert.equal((await served(p.status.podIP)).body, `${p.metadata.name} ${c.id}\n`);
    // On the node, in the claim's directory.
    assert.equal(readFileSync(join(volumes[0]!.dir, 'index.html'), 'utf8'), `web-0 ${c.id}\n`);

    await kubectl(['delete', 'pod', '-l', 'app=nginx']);
    const after = await readyPods(before.map((p) => p.metadata.uid));
    assert.deepEqual(after.map((p) => p.metadata.name), ['web-0', 'web-1']);
    for (const p of after) {
      assert.equal((await kubectl(['exec', p.metadata.name, '--', 'cat', '/usr/share/nginx/html/index.html'])).stdout, `${p.metadata.name} ${c.id}\n`);
      assert.equal((await served(p.status.podIP)).body, `${p.metadata.name} ${c.id}\n`);
      const claimVolume = p.spec.volumes.find((v: any) => v.name === 'www');
      assert.equal(claimVolume.persistentVolumeClaim.claimName, `www-${p.metadata.name}`);
    }
  });

  test('deleting the set and then the claims deletes the volumes and their directories', async () => {
    await kubectl(['delete', 'statefulset', 'web', '--wait=true', '--timeout=120s']);
    await poll(async () => (await json(['get', 'pods', '-l', 'app=nginx'])).items.length === 0, { what: 'the pods gone', timeoutMs: 120_000, intervalMs: 1000 });
    await kubectl(['delete', 'pvc', '--all', '--wait=true', '--timeout=120s']);
    await poll(
      async () => {
        const left = (await c.kubectl(['get', 'pv', '-o', 'name'])).stdout;
        return volumes.every((v) => !left.includes(v.pv) && !existsSync(v.dir));
      },
      { what: `volumes and directories deleted\n${c.logs().slice(-3000)}`, timeoutMs: 60_000, intervalMs: 1000 },
    );
  });
});
