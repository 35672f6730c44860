import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject, ResourceDef } from '../types.ts';
import { controllerrevisions } from './controller-revision.ts';
import { daemonsets } from './daemon-set.ts';
import { deployments } from './deployment.ts';
import { replicasets } from './replica-set.ts';
import { statefulsets } from './stateful-set.ts';
import { resources } from './index.ts';

const now = Date.parse('2024-01-01T01:00:00Z');
const created = '2024-01-01T00:00:00Z';

function workload(kind: string, spec: any = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: 'web', namespace: 'default', creationTimestamp: created, uid: 'u1' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } },
      ...spec,
    },
  };
}

/** Runs defaults then create validation, as the server does, and returns the failing paths. */
function createErrors(def: ResourceDef, obj: KObject): string[] {
  def.strategy.defaults?.(obj);
  def.strategy.prepareForCreate?.(obj, {});
  return (def.strategy.validate?.(obj) ?? []).map((e) => e.field);
}

function prepared(def: ResourceDef, obj: KObject): KObject {
  def.strategy.defaults?.(obj);
  def.strategy.prepareForCreate?.(obj, {});
  return obj;
}

test('apps resources are registered with upstream names', () => {
  assert.deepEqual(
    resources.map((r) => [r.plural, r.shortNames ?? [], r.model]),
    [
      ['deployments', ['deploy'], 'V1Deployment'],
      ['replicasets', ['rs'], 'V1ReplicaSet'],
      ['statefulsets', ['sts'], 'V1StatefulSet'],
      ['daemonsets', ['ds'], 'V1DaemonSet'],
      ['controllerrevisions', [], 'V1ControllerRevision'],
    ],
  );
  for (const r of resources.slice(0, 4)) {
    assert.ok(r.status, `${r.plural} has status`);
    assert.deepEqual(r.categories, ['all']);
  }
});

test('deployment defaults match upstream', () => {
  const d = prepared(deployments, workload('Deployment', { status: { replicas: 5 } }));
  assert.equal(d.spec.replicas, 1);
  assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.equal(d.spec.revisionHistoryLimit, 10);
  assert.equal(d.spec.progressDeadlineSeconds, 600);
  assert.equal(d.spec.template.spec.restartPolicy, 'Always');
  assert.deepEqual(d.status, {});
  // Recreate gets no rollingUpdate block.
  const r = prepared(deployments, workload('Deployment', { strategy: { type: 'Recreate' } }));
  assert.deepEqual(r.spec.strategy, { type: 'Recreate' });
});

test('deployment validation reports upstream field paths', () => {
  const cases: [string, any, string[]][] = [
    ['valid', {}, []],
    ['negative replicas', { replicas: -1 }, ['spec.replicas']],
    ['missing selector', { selector: undefined }, ['spec.selector']],
    ['empty selector', { selector: {} }, ['spec.selector']],
    ['selector mismatch', { selector: { matchLabels: { app: 'other' } } }, ['spec.template.metadata.labels']],
    ['both zero', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }, ['spec.strategy.rollingUpdate.maxUnavailable']],
    ['bad percent', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'abc', maxUnavailable: 1 } } }, ['spec.strategy.rollingUpdate.maxSurge']],
    ['over 100%', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '150%' } } }, ['spec.strategy.rollingUpdate.maxUnavailable']],
    ['bad type', { strategy: { type: 'Blue' } }, ['spec.strategy.type']],
    ['recreate with rollingUpdate', { strategy: { type: 'Recreate', rollingUpdate: {} } }, ['spec.strategy.rollingUpdate']],
    ['deadline not above minReady', { minReadySeconds: 700 }, ['spec.progressDeadlineSeconds']],
  ];
  for (const [name, spec, want] of cases) {
    const obj = workload('Deployment');
    Object.assign(obj.spec, spec);
    if ('selector' in spec && spec.selector === undefined) delete obj.spec.selector;
    assert.deepEqual(createErrors(deployments, obj), want, name);
  }
  const never = workload('Deployment');
  never.spec.template.spec.restartPolicy = 'Never';
  assert.deepEqual(createErrors(deployments, never), ['spec.template.spec.restartPolicy']);
});

test('selector mismatch message is upstream wording', () => {
  const obj = workload('Deployment', { selector: { matchLabels: { app: 'x' } } });
  deployments.strategy.defaults!(obj);
  const [err] = deployments.strategy.validate!(obj);
  assert.match(err.detail, /`selector` does not match template `labels`$/);
});

test('workload selectors are immutable', () => {
  for (const def of [deployments, replicasets, daemonsets]) {
    const old = prepared(def, workload(def.kind));
    const next = structuredClone(old);
    next.spec.selector = { matchLabels: { app: 'web', tier: 'x' } };
    next.spec.template.metadata.labels.tier = 'x';
    const errs = def.strategy.validateUpdate!(next, old);
    assert.deepEqual(
      errs.map((e) => [e.field, e.detail.endsWith('field is immutable')]),
      [['spec.selector', true]],
      def.kind,
    );
    const scaled = structuredClone(old);
    scaled.spec.replicas = 3;
    assert.deepEqual(def.strategy.validateUpdate!(scaled, old), [], def.kind);
  }
});

test('deployment table row', () => {
  const d = prepared(deployments, workload('Deployment', { replicas: 3 }));
  d.status = { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 };
  assert.deepEqual(deployments.table!.row(d, now), ['web', '2/3', 3, 2, '60m', 'nginx', 'nginx:1.25', 'app=web']);
  assert.deepEqual(
    deployments.table!.columns.map((c) => [c.name, c.priority]),
    [['Name', 0], ['Ready', 0], ['Up-to-date', 0], ['Available', 0], ['Age', 0], ['Containers', 1], ['Images', 1], ['Selector', 1]],
  );
});

test('replicaset defaults, validation and table', () => {
  const rs = prepared(replicasets, workload('ReplicaSet'));
  assert.equal(rs.spec.replicas, 1);
  assert.deepEqual(replicasets.strategy.validate!(rs), []);
  rs.status = { replicas: 1, readyReplicas: 1 };
  assert.deepEqual(replicasets.table!.row(rs, now), ['web', 1, 1, 1, '60m', 'nginx', 'nginx:1.25', 'app=web']);
  assert.equal(replicasets.fieldSelectors!['status.replicas'](rs), '1');
  assert.equal(replicasets.scale!.selector(rs), 'app=web');
});

test('statefulset defaults match upstream', () => {
  const s = prepared(
    statefulsets,
    workload('StatefulSet', {
      serviceName: 'web',
      volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    }),
  );
  assert.equal(s.spec.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(s.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.deepEqual(s.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(s.spec.replicas, 1);
  assert.equal(s.spec.revisionHistoryLimit, 10);
  const pvc = s.spec.volumeClaimTemplates[0];
  assert.equal(pvc.kind, 'PersistentVolumeClaim');
  assert.equal(pvc.spec.volumeMode, 'Filesystem');
  assert.deepEqual(pvc.status, { phase: 'Pending' });
  assert.deepEqual(statefulsets.strategy.validate!(s), []);
});

test('statefulset validation paths', () => {
  const cases: [string, any, string[]][] = [
    ['bad policy', { podManagementPolicy: 'Sometimes' }, ['spec.podManagementPolicy']],
    ['bad update strategy', { updateStrategy: { type: 'Whenever' } }, ['spec.updateStrategy']],
    ['ondelete with rollingUpdate', { updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } }, ['spec.updateStrategy.rollingUpdate']],
    ['negative partition', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } } }, ['spec.updateStrategy.rollingUpdate.partition']],
    ['bad retention', { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep', whenScaled: 'Retain' } }, ['spec.persistentVolumeClaimRetentionPolicy.whenDeleted']],
    ['empty selector', { selector: {} }, ['spec.selector']],
    ['claim without modes', { volumeClaimTemplates: [{ metadata: { name: 'd' }, spec: { resources: { requests: { storage: '1Gi' } } } }] }, ['spec.volumeClaimTemplates[0].spec.accessModes']],
  ];
  for (const [name, spec, want] of cases) assert.deepEqual(createErrors(statefulsets, workload('StatefulSet', spec)), want, name);
});

test('a statefulset container may mount a volumeClaimTemplates entry by name (the claims become volumes)', () => {
  const claim = { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
  const mounting = (claims: any[]) =>
    workload('StatefulSet', {
      serviceName: 'web',
      volumeClaimTemplates: claims,
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'db', image: 'postgres', volumeMounts: [{ name: 'data', mountPath: '/var/lib/data' }] }] } },
    });
  assert.deepEqual(createErrors(statefulsets, mounting([claim])), []);
  // Without the claim template the mount names nothing.
  assert.deepEqual(createErrors(statefulsets, mounting([])), ['spec.template.spec.containers[0].volumeMounts[0].name']);
  // The stored template is unchanged: the claims are added for validation only.
  const s = mounting([claim]);
  createErrors(statefulsets, s);
  assert.equal(s.spec.template.spec.volumes, undefined);
});

test('statefulset updates may only touch the allowed fields', () => {
  const old = prepared(statefulsets, workload('StatefulSet', { serviceName: 'web' }));
  const ok = structuredClone(old);
  ok.spec.replicas = 5;
  ok.spec.template.spec.containers[0].image = 'nginx:1.26';
  ok.spec.updateStrategy = { type: 'OnDelete' };
  ok.spec.minReadySeconds = 3;
  assert.deepEqual(statefulsets.strategy.validateUpdate!(ok, old), []);
  const bad = structuredClone(old);
  bad.spec.serviceName = 'other';
  const errs = statefulsets.strategy.validateUpdate!(bad, old);
  assert.deepEqual(
    errs.map((e) => e.field),
    ['spec'],
  );
  assert.match(errs[0].detail, /^Forbidden: updates to statefulset spec for fields other than 'replicas'/);
});

test('statefulset table row', () => {
  const s = prepared(statefulsets, workload('StatefulSet', { replicas: 2 }));
  s.status = { readyReplicas: 1 };
  assert.deepEqual(statefulsets.table!.row(s, now), ['web', '1/2', '60m', 'nginx', 'nginx:1.25']);
});

test('daemonset defaults, validation and table', () => {
  const ds = prepared(daemonsets, workload('DaemonSet'));
  assert.deepEqual(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(ds.spec.revisionHistoryLimit, 10);
  assert.deepEqual(daemonsets.strategy.validate!(ds), []);
  const cases: [string, any, string[]][] = [
    ['both set', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } } }, ['spec.updateStrategy.rollingUpdate.maxSurge']],
    ['both zero', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } }, ['spec.updateStrategy.rollingUpdate.maxUnavailable']],
    ['bad type', { updateStrategy: { type: 'Now' } }, ['spec.updateStrategy.type']],
    ['empty selector', { selector: {} }, ['spec.selector']],
  ];
  for (const [name, spec, want] of cases) assert.deepEqual(createErrors(daemonsets, workload('DaemonSet', spec)), want, name);
  const row = prepared(daemonsets, workload('DaemonSet'));
  row.spec.template.spec.nodeSelector = { 'kubernetes.io/os': 'linux' };
  row.status = { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 1 };
  assert.deepEqual(daemonsets.table!.row(row, now), ['web', 2, 2, 1, 2, 1, 'kubernetes.io/os=linux', '60m', 'nginx', 'nginx:1.25', 'app=web']);
  assert.equal(daemonsets.table!.row(prepared(daemonsets, workload('DaemonSet')), now)[6], '<none>');
});

test('controllerrevision validation and table', () => {
  const cr: KObject = {
    metadata: {
      name: 'web-5d4f',
      creationTimestamp: created,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u', controller: true }],
    },
    data: { spec: {} },
    revision: 2,
  };
  assert.deepEqual(controllerrevisions.strategy.validate!(cr), []);
  assert.deepEqual(controllerrevisions.table!.row(cr, now), ['web-5d4f', 'statefulset.apps/web', 2, '60m']);
  const missing: KObject = { metadata: { name: 'x' }, revision: -1 };
  assert.deepEqual(controllerrevisions.strategy.validate!(missing).map((e) => e.field), ['data', 'revision']);
  const changed = structuredClone(cr);
  changed.data = { spec: { x: 1 } };
  assert.deepEqual(controllerrevisions.strategy.validateUpdate!(changed, cr).map((e) => e.field), ['data']);
  assert.equal(controllerrevisions.table!.row({ metadata: { name: 'n' }, revision: 1 }, now)[1], '<none>');
});
