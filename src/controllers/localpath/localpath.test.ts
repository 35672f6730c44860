// The local-path provisioner with the PersistentVolume controller against a real API server: the
// default StorageClass, a volume per claim once a node is selected, its directory made and removed
// on this machine's node, a helper pod for another real node, nothing on disk for simulated ones.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { createNamespace, eventually, testControllerEnv, type TestControllerEnv } from '../test-support.ts';
import { persistentVolumeController } from '../persistentvolume/index.ts';
import { newLocalPathProvisioner } from './index.ts';
import { baseDirFor, defaultConfigMap } from './paths.ts';
import { isVolumeDir } from './local-dirs.ts';

let tc: TestCluster;
let env: TestControllerEnv;
let dir: string;
const PVS = { version: 'v1', resource: 'persistentvolumes' };
const NODES = { version: 'v1', resource: 'nodes' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mizzen-localpath-'));
  tc = await startTestCluster();
  for (const [name, labels] of [
    ['lp-local', {}],
    ['lp-remote', {}],
    ['lp-sim', { 'mizzen.dev/simulated': 'true' }],
  ] as const)
    await tc.client.create(NODES, { metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } } });
  env = testControllerEnv(tc.kubeconfig);
  await env.start(persistentVolumeController, newLocalPathProvisioner({ dir: join(dir, 'storage'), localNodeName: 'lp-local', helperPollMs: 100 }));
});
after(async () => {
  await env.stop();
  await tc.close();
  await rm(dir, { recursive: true, force: true });
});

const pvcs = (ns: string) => ({ version: 'v1', resource: 'persistentvolumeclaims', namespace: ns });
const exists = async (ref: any) => {
  try {
    return await tc.client.get<KObject>(ref);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
};

/** A claim of the default class, as the scheduler leaves it after picking `node`. */
async function claimOn(ns: string, name: string, node: string): Promise<KObject> {
  await tc.client.create(pvcs(ns), { metadata: { name, annotations: { 'volume.kubernetes.io/selected-node': node } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  return eventually(`${name} bound`, async () => {
    const c = await tc.client.get<KObject>({ ...pvcs(ns), name });
    return c.status?.phase === 'Bound' ? c : undefined;
  });
}

test("k3s's default StorageClass and config", async () => {
  const sc = await eventually('local-path class', () => exists({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', name: 'local-path' }));
  assert.deepEqual([sc.provisioner, sc.reclaimPolicy, sc.volumeBindingMode, sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class']], ['rancher.io/local-path', 'Delete', 'WaitForFirstConsumer', 'true']);
  const cm = await eventually('config', () => exists({ version: 'v1', resource: 'configmaps', namespace: 'kube-system', name: 'local-path-config' }));
  assert.deepEqual(JSON.parse(cm.data['config.json']), { nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [join(dir, 'storage')] }] });
});

test('on this machine: directory made for the claim, removed with the volume', async () => {
  const ns = await createNamespace(tc.client, 'lp-local');
  const c = await claimOn(ns, 'www-web-0', 'lp-local');
  assert.equal(c.spec.storageClassName, 'local-path');
  const pv = await tc.client.get<KObject>({ ...PVS, name: c.spec.volumeName });
  const path = join(dir, 'storage', `${pv.metadata.name}_${ns}_www-web-0`);
  assert.equal(pv.metadata.name, `pvc-${c.metadata.uid}`);
  assert.deepEqual(pv.spec.hostPath, { path, type: 'DirectoryOrCreate' });
  assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms, [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['lp-local'] }] }]);
  assert.deepEqual([pv.spec.persistentVolumeReclaimPolicy, pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by']], ['Delete', 'rancher.io/local-path']);
  const st = await stat(path);
  assert.ok(st.isDirectory());
  assert.equal(st.mode & 0o777, 0o777);
  await writeFile(join(path, 'index.html'), 'hello');

  await tc.client.delete({ ...pvcs(ns), name: 'www-web-0' });
  await eventually('volume deleted', async () => ((await exists({ ...PVS, name: pv.metadata.name })) ? undefined : true));
  await assert.rejects(stat(path), /ENOENT/);
});

test('on a simulated node: objects only; on another real node: a helper pod removes the directory', async () => {
  const ns = await createNamespace(tc.client, 'lp-other');
  const sim = await claimOn(ns, 'sim-claim', 'lp-sim');
  const simPV = await tc.client.get<KObject>({ ...PVS, name: sim.spec.volumeName });
  await assert.rejects(stat(simPV.spec.hostPath.path), /ENOENT/);
  await tc.client.delete({ ...pvcs(ns), name: 'sim-claim' });
  await eventually('simulated volume deleted', async () => ((await exists({ ...PVS, name: simPV.metadata.name })) ? undefined : true));

  const remote = await claimOn(ns, 'remote-claim', 'lp-remote');
  const remotePV = remote.spec.volumeName;
  await tc.client.delete({ ...pvcs(ns), name: 'remote-claim' });
  const podRef = { version: 'v1', resource: 'pods', namespace: 'kube-system', name: `helper-pod-delete-${remotePV}` };
  const pod = await eventually('helper pod', () => exists(podRef));
  assert.equal(pod.spec.nodeName, 'lp-remote');
  assert.deepEqual(pod.spec.volumes[0].hostPath, { path: join(dir, 'storage'), type: 'DirectoryOrCreate' });
  assert.deepEqual(pod.spec.containers[0].env, [{ name: 'VOL_DIR', value: `${remotePV}_${ns}_remote-claim` }]);
  // Its kubelet would run it; here the test reports it done.
  pod.status = { ...(pod.status ?? {}), phase: 'Succeeded' };
  await tc.client.updateStatus(podRef, pod);
  await eventually('remote volume deleted', async () => ((await exists({ ...PVS, name: remotePV })) ? undefined : true));
  await eventually('helper pod removed', async () => ((await exists(podRef))?.metadata.deletionTimestamp || !(await exists(podRef)) ? true : undefined));
});

test('base directory: node annotation, then per-node config, then the default', () => {
  const cm = defaultConfigMap('/default');
  cm.data!['config.json'] = JSON.stringify({ nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: ['/default'] }, { node: 'big', paths: ['/mnt/big'] }] });
  assert.equal(baseDirFor({ metadata: { name: 'n', annotations: { 'mizzen.dev/local-path-dir': '/var/lib/mine/storage' } } }, 'n', cm, '/fallback'), '/var/lib/mine/storage');
  assert.equal(baseDirFor({ metadata: { name: 'big' } }, 'big', cm, '/fallback'), '/mnt/big');
  assert.equal(baseDirFor({ metadata: { name: 'x' } }, 'x', cm, '/fallback'), '/default');
  assert.equal(baseDirFor(undefined, 'x', undefined, '/fallback'), '/fallback');
  assert.ok(isVolumeDir('/base/pvc-1_ns_c', '/base', 'pvc-1'));
  assert.ok(!isVolumeDir('/base/../etc', '/base', 'pvc-1'));
  assert.ok(!isVolumeDir('/base/pvc-2_ns_c', '/base', 'pvc-1'));
});
