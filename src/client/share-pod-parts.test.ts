import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trimForCache } from './informer.ts';
import { PodPartSharer } from './share-pod-parts.ts';

/** Pod i of one ReplicaSet, as the API server stores it (own name, uid, service-account volume name and node). */
function podText(i: number): string {
  const vol = `kube-api-access-${i}x`;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `web-${i}`,
      namespace: 'default',
      uid: `uid-${i}`,
      resourceVersion: String(100 + i),
      creationTimestamp: '2026-12-07T11:00:00Z',
      labels: { app: 'web', 'pod-template-hash': 'abc' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }],
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {} } }],
    },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'nginx:1.27',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          resources: { requests: { cpu: '100m', memory: '64Mi' } },
          volumeMounts: [{ name: vol, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
        },
      ],
      volumes: [{ name: vol, projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] } }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } },
      securityContext: {},
      nodeName: `node-${i % 3}`,
    },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-12-07T11:00:01Z' }] },
  });
}

function withoutManagedFields(text: string): unknown {
  const o = JSON.parse(text);
  delete o.metadata.managedFields;
  return o;
}

test('a pod through the components transform keeps everything but managedFields', () => {
  const t = trimForCache({ sharePodParts: true });
  for (let i = 0; i < 5; i++) assert.deepEqual(t(JSON.parse(podText(i))), withoutManagedFields(podText(i)));
});

test('pods of one template hold one copy of their template parts; their own parts stay their own', () => {
  const t = trimForCache({ sharePodParts: true });
  const a = t(JSON.parse(podText(1))) as any;
  const b = t(JSON.parse(podText(2))) as any;
  assert.equal(a.spec.tolerations, b.spec.tolerations);
  assert.equal(a.spec.affinity, b.spec.affinity);
  assert.equal(a.spec.volumes[0].projected, b.spec.volumes[0].projected);
  assert.equal(a.spec.containers[0].resources, b.spec.containers[0].resources);
  assert.equal(a.spec.containers[0].ports, b.spec.containers[0].ports);
  assert.equal(a.metadata.labels, b.metadata.labels);
  assert.equal(a.metadata.ownerReferences, b.metadata.ownerReferences);
  assert.equal(a.status.conditions, b.status.conditions);
  // Not shared: the pod's own objects and what names its own volume.
  assert.notEqual(a.metadata, b.metadata);
  assert.notEqual(a.spec, b.spec);
  assert.notEqual(a.spec.containers[0], b.spec.containers[0]);
  assert.notEqual(a.spec.containers[0].volumeMounts, b.spec.containers[0].volumeMounts);
  assert.notEqual(a.spec.volumes[0], b.spec.volumes[0]);
  assert.equal(a.spec.volumes[0].name, 'kube-api-access-1x');
  assert.equal(b.spec.volumes[0].name, 'kube-api-access-2x');
});

test('shared parts are frozen, so a change in place throws instead of changing every pod; the pod itself can still be copied and changed', () => {
  const t = trimForCache({ sharePodParts: true });
  const a = t(JSON.parse(podText(1))) as any;
  const b = t(JSON.parse(podText(2))) as any;
  assert.throws(() => {
    a.spec.tolerations.push({ key: 'x', operator: 'Exists' });
  }, TypeError);
  assert.throws(() => {
    a.metadata.labels.app = 'other';
  }, TypeError);
  assert.throws(() => {
    a.spec.containers[0].resources.requests.cpu = '1';
  }, TypeError, 'deeply frozen');
  assert.equal(b.metadata.labels.app, 'web');
  // What the scheduler does to assume a pod, and what a controller does before it writes.
  const assumed = { ...a, spec: { ...a.spec, nodeName: 'node-9' } };
  assert.equal(assumed.spec.nodeName, 'node-9');
  const copy = structuredClone(a);
  copy.metadata.labels.app = 'other';
  copy.spec.tolerations.push({ key: 'x', operator: 'Exists' });
  assert.equal(b.metadata.labels.app, 'web');
  assert.equal(b.spec.tolerations.length, 1);
});

test('objects other than pods are left alone, and without sharePodParts nothing is shared', () => {
  const t = trimForCache({ sharePodParts: true });
  const deployment = () => ({ metadata: { name: 'web', labels: { app: 'web' } }, spec: { replicas: 2, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } } });
  const d1 = t(deployment() as any) as any;
  const d2 = t(deployment() as any) as any;
  assert.notEqual(d1.metadata.labels, d2.metadata.labels);
  assert.ok(!Object.isFrozen(d1.spec.template));
  const plain = trimForCache();
  const a = plain(JSON.parse(podText(1))) as any;
  const b = plain(JSON.parse(podText(2))) as any;
  assert.notEqual(a.spec.tolerations, b.spec.tolerations);
  assert.ok(!Object.isFrozen(a.spec.tolerations));
});

test('the table is bounded: two generations, parts still in use carried over', () => {
  const s = new PodPartSharer(2);
  const one = s.part({ n: 1 });
  s.part({ n: 2 });
  s.part({ n: 3 }); // full: a new generation starts
  assert.equal(s.part({ n: 1 }), one, 'a part of the previous generation is still shared');
  for (let i = 10; i < 20; i++) s.part({ n: i });
  assert.ok(s.size <= 4);
  assert.notEqual(s.part({ n: 1 }), one, 'a part not seen for two generations is let go');
});
