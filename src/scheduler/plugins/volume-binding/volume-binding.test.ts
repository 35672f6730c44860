import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../api/types.ts';
import { nodeInfoWith } from '../../framework/node-info.ts';
import { CycleState, type VolumeListers } from '../../framework/types.ts';
import { Code } from '../../framework/status.ts';
import { fakeHandle, mkNode, mkPod } from '../../framework/testing.ts';
import { ERR_BIND_CONFLICT, ERR_NODE_CONFLICT, ERR_PV_NOT_EXIST, ERR_UNBOUND_IMMEDIATE, VolumeBinding, podClaimNames } from './volume-binding.ts';

const classes: Record<string, KObject> = {
  wffc: { metadata: { name: 'wffc' }, provisioner: 'rancher.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' },
  manual: { metadata: { name: 'manual' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' },
  immediate: { metadata: { name: 'immediate' }, provisioner: 'example.com/x', volumeBindingMode: 'Immediate' },
  zoned: { metadata: { name: 'zoned' }, provisioner: 'example.com/x', volumeBindingMode: 'WaitForFirstConsumer', allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['a'] }] }] },
};
const claim = (name: string, cls: string, extra: any = {}): KObject => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}`, annotations: extra.annotations },
  spec: { storageClassName: cls, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: extra.volumeName },
  status: { phase: extra.volumeName ? 'Bound' : 'Pending' },
});
const localPV = (name: string, node: string, cls = 'manual', size = '5Gi'): KObject => ({
  metadata: { name },
  spec: {
    storageClassName: cls,
    capacity: { storage: size },
    accessModes: ['ReadWriteOnce'],
    local: { path: '/mnt/disk' },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
  },
  status: { phase: 'Available' },
});

function listers(claims: KObject[], pvs: KObject[]): VolumeListers {
  return {
    claim: (ns, name) => claims.find((c) => c.metadata.namespace === ns && c.metadata.name === name),
    volume: (name) => pvs.find((p) => p.metadata.name === name),
    volumes: () => pvs,
    storageClass: (name) => classes[name],
  };
}

const podWith = (...claimNames: string[]) => mkPod('p', { spec: { volumes: claimNames.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })) } });
const nodes = [mkNode('node-a', undefined, { labels: { zone: 'a' } }), mkNode('node-b', undefined, { labels: { zone: 'b' } })].map((n) => nodeInfoWith(n, []));

function plugin(claims: KObject[], pvs: KObject[], client?: any): VolumeBinding {
  const h = { ...fakeHandle(nodes), volumeListers: () => listers(claims, pvs), apiClient: () => client };
  return new VolumeBinding(h, 2000);
}

/** PreFilter then Filter on both nodes: node name -> reasons ([] = feasible). */
function run(claims: KObject[], pvs: KObject[], ...names: string[]): { pre?: string[]; nodes: Record<string, string[]> } {
  const pl = plugin(claims, pvs);
  const st = new CycleState();
  const [, pre] = pl.preFilter(st, podWith(...names));
  if (pre && pre.code !== Code.Skip) return { pre: pre.reasons, nodes: {} };
  const out: Record<string, string[]> = {};
  for (const ni of nodes) out[ni.name] = pl.filter(st, podWith(...names), ni)?.reasons ?? [];
  return { nodes: out };
}

describe('VolumeBinding', () => {
  it('pods without claims are skipped', () => {
    const [, s] = plugin([], []).preFilter(new CycleState(), mkPod('p'));
    assert.equal(s?.code, Code.Skip);
  });
  it('claims named by volumes and generic ephemeral volumes', () => {
    assert.deepEqual(podClaimNames(mkPod('web-0', { spec: { volumes: [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } }, { name: 'scratch', ephemeral: {} }, { name: 'cfg', configMap: { name: 'x' } }] } })), ['www-web-0', 'web-0-scratch']);
  });
  it('a missing or unbound immediate claim keeps the pod off every node', () => {
    assert.deepEqual(run([], [], 'nope').pre, ['persistentvolumeclaim "nope" not found']);
    assert.deepEqual(run([claim('c', 'immediate')], [], 'c').pre, [ERR_UNBOUND_IMMEDIATE]);
  });
  it('a bound local volume pins the pod to its node', () => {
    const r = run([claim('c', 'manual', { volumeName: 'pv-a' })], [localPV('pv-a', 'node-a')], 'c');
    assert.deepEqual(r.nodes, { 'node-a': [], 'node-b': [ERR_NODE_CONFLICT] });
    assert.deepEqual(run([claim('c', 'manual', { volumeName: 'gone' })], [], 'c').nodes['node-a'], [ERR_PV_NOT_EXIST]);
  });
  it('WaitForFirstConsumer: an available local volume on the node, else the provisioner', () => {
    assert.deepEqual(run([claim('c', 'manual')], [localPV('pv-b', 'node-b')], 'c').nodes, { 'node-a': [ERR_BIND_CONFLICT], 'node-b': [] });
    assert.deepEqual(run([claim('c', 'wffc')], [], 'c').nodes, { 'node-a': [], 'node-b': [] });
    assert.deepEqual(run([claim('c', 'zoned')], [], 'c').nodes, { 'node-a': [], 'node-b': [ERR_BIND_CONFLICT] });
    // Provisioning already under way for node-a: only node-a.
    assert.deepEqual(run([claim('c', 'wffc', { annotations: { 'volume.kubernetes.io/selected-node': 'node-a' } })], [], 'c').nodes, { 'node-a': [], 'node-b': [ERR_BIND_CONFLICT] });
  });
  it('two claims of one pod do not take the same volume', () => {
    const r = run([claim('c1', 'manual'), claim('c2', 'manual')], [localPV('pv-a1', 'node-a'), localPV('pv-a2', 'node-a'), localPV('pv-b1', 'node-b')], 'c1', 'c2');
    assert.deepEqual(r.nodes, { 'node-a': [], 'node-b': [ERR_BIND_CONFLICT] });
  });

  it('PreBind writes the selected node or the claimRef, then waits for the claims to bind', async () => {
    const c1 = claim('c1', 'wffc');
    const c2 = claim('c2', 'manual');
    const pvs = [localPV('pv-a', 'node-a')];
    const writes: string[] = [];
    const client = {
      async get(ref: any) {
        return structuredClone(ref.resource === 'persistentvolumes' ? pvs.find((p) => p.metadata.name === ref.name) : [c1, c2].find((c) => c.metadata.name === ref.name));
      },
      async update(ref: any, obj: KObject) {
        writes.push(`${ref.resource}/${ref.name}`);
        // Stand in for the PersistentVolume controller and the provisioner finishing the job.
        setTimeout(() => {
          if (ref.resource === 'persistentvolumeclaims') {
            assert.equal(obj.metadata.annotations!['volume.kubernetes.io/selected-node'], 'node-a');
            pvs.push({ metadata: { name: 'pvc-uid-c1' }, spec: {}, status: { phase: 'Bound' } });
            Object.assign(c1.spec, { volumeName: 'pvc-uid-c1' });
            c1.metadata.annotations = { 'pv.kubernetes.io/bind-completed': 'yes' };
          } else {
            assert.equal(obj.spec.claimRef.uid, 'uid-c2');
            Object.assign(c2.spec, { volumeName: 'pv-a' });
            c2.metadata.annotations = { 'pv.kubernetes.io/bind-completed': 'yes' };
          }
        }, 20);
        return obj;
      },
    };
    const pl = plugin([c1, c2], pvs, client);
    const st = new CycleState();
    const pod = podWith('c1', 'c2');
    pl.preFilter(st, pod);
    for (const ni of nodes) pl.filter(st, pod, ni);
    assert.equal(pl.reserve(st, pod, 'node-a'), undefined);
    assert.equal(await pl.preBind(st, pod, 'node-a'), undefined);
    assert.deepEqual(writes.sort(), ['persistentvolumeclaims/c1', 'persistentvolumes/pv-a']);
  });

  it('PreBind fails when the provisioner gives the claim back', async () => {
    const c1 = claim('c1', 'wffc');
    const client = {
      get: async () => structuredClone(c1),
      update: async (_ref: any, obj: KObject) => {
        c1.metadata.annotations = { ...obj.metadata.annotations };
        setTimeout(() => delete c1.metadata.annotations!['volume.kubernetes.io/selected-node'], 20);
        return obj;
      },
    };
    const pl = plugin([c1], [], client);
    const st = new CycleState();
    const pod = podWith('c1');
    pl.preFilter(st, pod);
    pl.filter(st, pod, nodes[0]);
    pl.reserve(st, pod, 'node-a');
    const s = await pl.preBind(st, pod, 'node-a');
    assert.equal(s?.code, Code.Error);
    assert.match(s!.message(), /provisioning failed for PVC "c1"/);
  });
});
