import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storageClasses } from './storage-class.ts';
import { csiDrivers, csiNodes } from './csi.ts';
import { volumeAttachments } from './volume-attachment.ts';

const fields = (errs: { field: string }[]) => errs.map((e) => e.field);
const now = Date.parse('2024-01-01T00:00:07Z');
const meta = (name: string, extra: any = {}) => ({ name, creationTimestamp: '2024-01-01T00:00:00Z', ...extra });

test('storage class: defaults, validation, immutability, "(default)" in the name column', () => {
  const sc: any = { metadata: meta('fast', { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }), provisioner: 'rancher.io/local-path' };
  storageClasses.strategy.defaults!(sc);
  assert.equal(sc.reclaimPolicy, 'Delete');
  assert.equal(sc.volumeBindingMode, 'Immediate');
  assert.deepEqual(storageClasses.strategy.validate!(sc), []);
  assert.deepEqual(storageClasses.table!.row(sc, now), ['fast (default)', 'rancher.io/local-path', 'Delete', 'Immediate', false, '7s']);
  assert.deepEqual(fields(storageClasses.strategy.validate!({ ...sc, provisioner: '' })), ['provisioner']);
  assert.deepEqual(fields(storageClasses.strategy.validate!({ ...sc, reclaimPolicy: 'Recycle' })), ['reclaimPolicy']);
  assert.deepEqual(fields(storageClasses.strategy.validate!({ ...sc, volumeBindingMode: 'Later' })), ['volumeBindingMode']);
  assert.deepEqual(fields(storageClasses.strategy.validate!({ ...sc, allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: [] }] }] })), ['allowedTopologies[0].matchLabelExpressions[0].values']);
  const upd = { ...sc, parameters: { a: 'b' }, provisioner: 'x.io/y', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' };
  const errs = storageClasses.strategy.validateUpdate!(upd, sc);
  assert.deepEqual(fields(errs), ['parameters', 'provisioner', 'reclaimPolicy', 'volumeBindingMode']);
  assert.equal(errs[0].detail, 'Forbidden: updates to parameters are forbidden.');
  const beta = { ...sc, metadata: meta('old', { annotations: { 'storageclass.beta.kubernetes.io/is-default-class': 'true' } }) };
  assert.equal(storageClasses.table!.row(beta, now)[0], 'old (default)');
});

test('CSI driver defaults and validation; CSI node drivers', () => {
  const d: any = { metadata: meta('hostpath.csi.k8s.io'), spec: {} };
  csiDrivers.strategy.defaults!(d);
  assert.deepEqual(d.spec, {
    attachRequired: true,
    podInfoOnMount: false,
    storageCapacity: false,
    fsGroupPolicy: 'ReadWriteOnceWithFSType',
    requiresRepublish: false,
    seLinuxMount: false,
    volumeLifecycleModes: ['Persistent'],
  });
  assert.deepEqual(csiDrivers.strategy.validate!(d), []);
  assert.deepEqual(csiDrivers.table!.row(d, now), ['hostpath.csi.k8s.io', true, false, false, '<unset>', false, 'Persistent', '7s']);
  assert.deepEqual(fields(csiDrivers.strategy.validate!({ ...d, spec: { ...d.spec, volumeLifecycleModes: ['Forever'], tokenRequests: [{ audience: 'a', expirationSeconds: 60 }, { audience: 'a' }] } })), [
    'spec.volumeLifecycleModes[0]',
    'spec.tokenRequests[0].expirationSeconds',
    'spec.tokenRequests[1].audience',
  ]);
  assert.deepEqual(fields(csiDrivers.strategy.validateUpdate!({ ...d, spec: { ...d.spec, attachRequired: false } }, d)), ['spec.attachRequired']);

  const n: any = { metadata: meta('node-1'), spec: { drivers: [{ name: 'hostpath.csi.k8s.io', nodeID: 'node-1', topologyKeys: ['topology.hostpath.csi/node'] }] } };
  assert.deepEqual(csiNodes.strategy.validate!(n), []);
  assert.deepEqual(csiNodes.table!.row(n, now), ['node-1', 1, '7s']);
  assert.deepEqual(fields(csiNodes.strategy.validate!({ ...n, spec: { drivers: [{ name: 'a.b', nodeID: '' }, { name: 'a.b', nodeID: 'x' }] } })), ['spec.drivers[0].nodeID', 'spec.drivers[1].name']);
  const moved = structuredClone(n);
  moved.spec.drivers[0].nodeID = 'other';
  assert.deepEqual(fields(csiNodes.strategy.validateUpdate!(moved, n)), ['spec.drivers[0].nodeID']);
});

test('volume attachment: exactly one source, immutable spec, printer', () => {
  const va: any = { metadata: meta('csi-123'), spec: { attacher: 'hostpath.csi.k8s.io', nodeName: 'node-1', source: { persistentVolumeName: 'pv-1' } }, status: { attached: true } };
  assert.deepEqual(volumeAttachments.strategy.validate!(va), []);
  assert.deepEqual(volumeAttachments.table!.row(va, now), ['csi-123', 'hostpath.csi.k8s.io', 'pv-1', 'node-1', true, '7s']);
  assert.deepEqual(fields(volumeAttachments.strategy.validate!({ ...va, spec: { ...va.spec, source: {} } })), ['spec.source']);
  assert.deepEqual(fields(volumeAttachments.strategy.validate!({ ...va, spec: { ...va.spec, source: { persistentVolumeName: 'a', inlineVolumeSpec: { csi: {} } } } })), ['spec.source']);
  assert.deepEqual(fields(volumeAttachments.strategy.validateUpdate!({ ...va, spec: { ...va.spec, nodeName: 'node-2' } }, va)), ['spec']);
  assert.deepEqual(fields(volumeAttachments.status!.validateUpdate!({ ...va, status: { attachError: { message: 'x'.repeat(2000) } } }, va)), ['status.attachError.message']);
});
