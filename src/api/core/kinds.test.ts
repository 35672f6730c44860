import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject, ResourceDef } from '../types.ts';
import { resources } from './index.ts';

const created = '2024-01-01T00:00:00Z';
const now = Date.parse(created) + 90_000;
const def = (plural: string): ResourceDef => resources.find((r) => r.plural === plural)!;

function created_(plural: string, obj: any): KObject {
  const o: KObject = { metadata: { creationTimestamp: created, ...obj.metadata }, ...obj };
  o.metadata = { creationTimestamp: created, ...obj.metadata };
  const d = def(plural);
  d.strategy.defaults?.(o);
  d.strategy.prepareForCreate?.(o, {});
  return o;
}

test('every kind has a model, table and unique plural', () => {
  const plurals = new Set(resources.map((r) => r.plural));
  assert.equal(plurals.size, resources.length);
  for (const r of resources) {
    assert.ok(r.model, r.plural);
    assert.ok(r.table, r.plural);
  }
});

test('namespaces', () => {
  const ns = created_('namespaces', { metadata: { name: 'team-a' } });
  assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(ns.status, { phase: 'Active' });
  assert.equal(ns.metadata.labels!['kubernetes.io/metadata.name'], 'team-a');
  assert.deepEqual(def('namespaces').table!.row(ns, now), ['team-a', 'Active', '90s']);
  const bad = created_('namespaces', { metadata: { name: 'a.b' } });
  assert.equal(def('namespaces').strategy.validate!(bad)[0]?.field, 'metadata.name');
});

test('nodes table', () => {
  const node = created_('nodes', {
    metadata: { name: 'n1', labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/master': '' } },
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      nodeInfo: { kubeletVersion: 'v1.34.0', osImage: 'Ubuntu', kernelVersion: '6.1', containerRuntimeVersion: 'containerd://1.7' },
      capacity: { cpu: '4', memory: '8Gi' },
    },
  });
  assert.deepEqual(node.status.allocatable, { cpu: '4', memory: '8Gi' });
  assert.deepEqual(def('nodes').table!.row(node, now), ['n1', 'Ready,SchedulingDisabled', 'control-plane,master', '90s', 'v1.34.0', '10.0.0.1', '<none>', 'Ubuntu', '6.1', 'containerd://1.7']);
  const bare = created_('nodes', { metadata: { name: 'n2' } });
  assert.deepEqual(def('nodes').table!.row(bare, now).slice(1, 3), ['Unknown', '<none>']);
  assert.equal(def('nodes').fieldSelectors!['spec.unschedulable'](node), 'true');
  // The struct fields Go always serialises, zero-valued where unset (clients require them).
  assert.equal(node.status.nodeInfo.kubeProxyVersion, '');
  assert.equal(node.status.nodeInfo.kubeletVersion, 'v1.34.0');
  assert.equal(bare.status.nodeInfo.machineID, '');
  assert.deepEqual(bare.status.daemonEndpoints, { kubeletEndpoint: { Port: 0 } });
});

test('configmaps and secrets', () => {
  const cm = created_('configmaps', { metadata: { name: 'c' }, data: { 'good.key': 'v', 'bad key': 'v' } });
  assert.deepEqual(def('configmaps').strategy.validate!(cm).map((e) => e.field), ['data[bad key]']);
  const frozen = created_('configmaps', { metadata: { name: 'c' }, data: { a: '1' }, immutable: true });
  const changed = { ...structuredClone(frozen), data: { a: '2' } };
  assert.deepEqual(def('configmaps').strategy.validateUpdate!(changed, frozen).map((e) => e.detail), ['Forbidden: field is immutable when `immutable` is set']);
  assert.deepEqual(def('configmaps').table!.row(cm, now), ['c', 2, '90s']);

  const s = created_('secrets', { metadata: { name: 's' }, stringData: { user: 'admin' } });
  assert.equal(s.type, 'Opaque');
  assert.deepEqual(s.data, { user: Buffer.from('admin').toString('base64') });
  assert.equal(s.stringData, undefined);
  assert.deepEqual(def('secrets').strategy.validate!(s), []);
  const bad = created_('secrets', { metadata: { name: 's' }, data: { k: 'not base64!' } });
  assert.equal(def('secrets').strategy.validate!(bad)[0]?.field, 'data[k]');
  const tls = created_('secrets', { metadata: { name: 't' }, type: 'kubernetes.io/tls', data: {} });
  assert.deepEqual(def('secrets').strategy.validate!(tls).map((e) => e.field), ['data[tls.crt]', 'data[tls.key]']);
  const retyped = { ...structuredClone(s), type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } };
  assert.ok(def('secrets').strategy.validateUpdate!(retyped, s).some((e) => e.field === 'type'));
  assert.deepEqual(def('secrets').table!.row(s, now), ['s', 'Opaque', 1, '90s']);
});

test('events table', () => {
  const ev = created_('events', {
    metadata: { name: 'p.1', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'p', namespace: 'default', fieldPath: 'spec.containers{c}' },
    reason: 'Pulled',
    message: 'pulled ',
    type: 'Normal',
    source: { component: 'kubelet', host: 'n1' },
    firstTimestamp: '2024-01-01T00:00:00Z',
    lastTimestamp: '2024-01-01T00:01:00Z',
    count: 3,
  });
  assert.deepEqual(def('events').table!.row(ev, now), ['30s', 'Normal', 'Pulled', 'pod/p', 'spec.containers{c}', 'kubelet, n1', 'pulled', '90s', 3, 'p.1']);
  const wrong = created_('events', { metadata: { name: 'x', namespace: 'a' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'b' } });
  assert.equal(def('events').strategy.validate!(wrong)[0]?.field, 'involvedObject.namespace');
});

test('endpoints table', () => {
  const ep = created_('endpoints', { metadata: { name: 'e' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80 }, { port: 443 }] }] });
  assert.equal(ep.subsets[0].ports[0].protocol, 'TCP');
  assert.deepEqual(def('endpoints').table!.row(ep, now), ['e', '10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...', '90s']);
  assert.equal(def('endpoints').table!.row(created_('endpoints', { metadata: { name: 'e' } }), now)[1], '<none>');
});

test('limit ranges and quotas', () => {
  const lr = created_('limitranges', { metadata: { name: 'l' }, spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '10Mi' } }] } });
  assert.deepEqual(lr.spec.limits[0].default, { cpu: '2' });
  assert.deepEqual(lr.spec.limits[0].defaultRequest, { cpu: '2', memory: '10Mi' });
  assert.deepEqual(def('limitranges').strategy.validate!(lr), []);
  const q = created_('resourcequotas', { metadata: { name: 'q' }, spec: { hard: { 'requests.cpu': '1', pods: '10', 'limits.memory': '1Gi' } }, status: { used: { pods: '2' } } });
  assert.equal(q.status, undefined);
  q.status = { used: { pods: '2' } };
  assert.deepEqual(def('resourcequotas').table!.row(q, now), ['q', '90s', 'pods: 2/10, requests.cpu: 0/1', 'limits.memory: 0/1Gi']);
});

test('persistent volumes and claims', () => {
  const pv = created_('persistentvolumes', { metadata: { name: 'pv1' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], hostPath: { path: '/d' }, claimRef: { namespace: 'ns', name: 'c' } } });
  assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
  assert.deepEqual(def('persistentvolumes').strategy.validate!(pv), []);
  assert.deepEqual(def('persistentvolumes').table!.row(pv, now), ['pv1', '1Gi', 'RWO,ROX', 'Retain', 'Pending', 'ns/c', '', '<unset>', '', '90s', 'Filesystem']);
  const noSource = created_('persistentvolumes', { metadata: { name: 'pv2' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] } });
  assert.ok(def('persistentvolumes').strategy.validate!(noSource).some((e) => e.field === 'spec'));

  const pvc = created_('persistentvolumeclaims', { metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  assert.deepEqual(def('persistentvolumeclaims').strategy.validate!(pvc), []);
  assert.deepEqual(def('persistentvolumeclaims').table!.row(pvc, now), ['c', 'Pending', '', '', '', '', '<unset>', '90s', 'Filesystem']);
  const noStorage = created_('persistentvolumeclaims', { metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteOnce'] } });
  assert.deepEqual(def('persistentvolumeclaims').strategy.validate!(noStorage).map((e) => e.field), ['spec.resources[storage]']);
  const edited = structuredClone(pvc);
  edited.spec.accessModes = ['ReadWriteMany'];
  assert.equal(def('persistentvolumeclaims').strategy.validateUpdate!(edited, pvc)[0]?.field, 'spec');
});

test('replication controllers and pod templates', () => {
  const rc = created_('replicationcontrollers', { metadata: { name: 'rc' }, spec: { template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } } });
  assert.deepEqual(rc.spec.selector, { app: 'a' });
  assert.deepEqual(rc.metadata.labels, { app: 'a' });
  assert.equal(rc.spec.replicas, 1);
  assert.deepEqual(def('replicationcontrollers').strategy.validate!(rc), []);
  const mismatch = structuredClone(rc);
  mismatch.spec.selector = { app: 'b' };
  const errs = def('replicationcontrollers').strategy.validate!(mismatch);
  assert.equal(errs[0]?.field, 'spec.template.metadata.labels');
  assert.match(errs[0]!.detail, /`selector` does not match template `labels`$/);
  assert.deepEqual(def('replicationcontrollers').table!.row(rc, now), ['rc', 1, 0, 0, '90s', 'c', 'x:1', 'app=a']);
  assert.equal(def('replicationcontrollers').scale!.selector(rc), 'app=a');

  const pt = created_('podtemplates', { metadata: { name: 't' }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } });
  assert.deepEqual(def('podtemplates').strategy.validate!(pt), []);
  assert.deepEqual(def('podtemplates').table!.row(pt, now), ['t', 'c', 'x:1', 'a=b']);
});
