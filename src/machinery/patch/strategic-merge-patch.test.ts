import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../errors.ts';
import { applyStrategicMergePatch, type PatchMeta, type PatchSchema } from './strategic-merge-patch.ts';

/** A tiny schema: each field has optional patch metadata and an optional sub-schema. */
function node(fields: Record<string, [PatchMeta | undefined, PatchSchema | undefined]>): PatchSchema {
  return {
    field: (name) => fields[name]?.[1],
    meta: (name) => fields[name]?.[0],
  };
}

const container = node({
  ports: [{ strategy: 'merge', mergeKey: 'containerPort' }, undefined],
  env: [{ strategy: 'merge', mergeKey: 'name' }, undefined],
});
const volume = node({});
const podSpec = node({
  containers: [{ strategy: 'merge', mergeKey: 'name' }, container],
  initContainers: [{ strategy: 'merge', mergeKey: 'name' }, container],
  volumes: [{ strategy: 'merge,retainKeys', mergeKey: 'name' }, volume],
  tolerations: [undefined, undefined],
});
const objectMeta = node({
  finalizers: [{ strategy: 'merge' }, undefined],
  ownerReferences: [{ strategy: 'merge', mergeKey: 'uid' }, undefined],
});
const template = node({ metadata: [undefined, objectMeta], spec: [undefined, podSpec] });
const deploymentSpec = node({
  template: [undefined, template],
  strategy: [{ strategy: 'retainKeys' }, undefined],
});
const status = node({ conditions: [{ strategy: 'merge', mergeKey: 'type' }, undefined] });
const deployment = node({ metadata: [undefined, objectMeta], spec: [undefined, deploymentSpec], status: [undefined, status] });

function deploy(podSpecValue: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web', tier: 'fe' }, finalizers: ['a', 'b'] },
    spec: { replicas: 1, template: { metadata: { labels: { app: 'web' } }, spec: podSpecValue }, ...extra },
  };
}

const twoContainers = {
  containers: [
    { name: 'app', image: 'nginx:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80 }] },
    { name: 'side', image: 'busybox' },
  ],
};

interface Case {
  name: string;
  original: any;
  patch: any;
  schema?: PatchSchema | null;
  /** Expected result, or a function checking it. */
  want: any;
}

const cases: Case[] = [
  {
    name: 'kubectl scale: replicas',
    original: deploy(twoContainers),
    patch: { spec: { replicas: 3 } },
    want: (r: any) => {
      assert.equal(r.spec.replicas, 3);
      assert.deepEqual(r.spec.template.spec, twoContainers);
    },
  },
  {
    name: 'kubectl label: set one, null deletes another',
    original: deploy(twoContainers),
    patch: { metadata: { labels: { tier: null, env: 'prod' } } },
    want: (r: any) => assert.deepEqual(r.metadata.labels, { app: 'web', env: 'prod' }),
  },
  {
    name: 'kubectl rollout restart: annotation on the template',
    original: deploy(twoContainers),
    patch: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T00:00:00Z' } } } } },
    want: (r: any) => {
      assert.deepEqual(r.spec.template.metadata, { labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T00:00:00Z' } });
      assert.deepEqual(r.spec.template.spec, twoContainers);
    },
  },
  {
    name: 'kubectl apply: change image and remove an env var',
    original: deploy(twoContainers),
    patch: {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'app' }, { name: 'side' }],
            containers: [{ name: 'app', image: 'nginx:2', '$setElementOrder/env': [{ name: 'A' }], env: [{ name: 'B', $patch: 'delete' }] }],
          },
        },
      },
    },
    want: (r: any) =>
      assert.deepEqual(r.spec.template.spec.containers, [
        { name: 'app', image: 'nginx:2', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }] },
        { name: 'side', image: 'busybox' },
      ]),
  },
  {
    name: 'kubectl apply: new container placed by $setElementOrder',
    original: deploy(twoContainers),
    patch: {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'app' }, { name: 'mid' }, { name: 'side' }],
            containers: [{ name: 'mid', image: 'redis' }],
          },
        },
      },
    },
    want: (r: any) => assert.deepEqual(r.spec.template.spec.containers.map((c: any) => c.name), ['app', 'mid', 'side']),
  },
  {
    name: 'kubectl apply: reorder only',
    original: deploy(twoContainers),
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }] } } } },
    want: (r: any) => assert.deepEqual(r.spec.template.spec.containers.map((c: any) => c.name), ['side', 'app']),
  },
  {
    name: 'merge list without order directive: patch items lead, as upstream',
    original: deploy(twoContainers),
    patch: { spec: { template: { spec: { containers: [{ name: 'new', image: 'x' }] } } } },
    want: (r: any) => assert.deepEqual(r.spec.template.spec.containers.map((c: any) => c.name), ['new', 'app', 'side']),
  },
  {
    name: 'merge list: existing element merged in place, keeps live order',
    original: deploy(twoContainers),
    patch: { spec: { template: { spec: { containers: [{ name: 'side', image: 'busybox:2' }] } } } },
    want: (r: any) => {
      assert.deepEqual(r.spec.template.spec.containers.map((c: any) => c.name), ['app', 'side']);
      assert.equal(r.spec.template.spec.containers[1].image, 'busybox:2');
    },
  },
  {
    name: 'ports merged by numeric containerPort',
    original: deploy(twoContainers),
    patch: { spec: { template: { spec: { containers: [{ name: 'app', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }] }] } } } },
    want: (r: any) => assert.deepEqual(r.spec.template.spec.containers[0].ports, [{ containerPort: 80, name: 'http' }, { containerPort: 443 }]),
  },
  {
    name: 'list element $patch: delete',
    original: deploy(twoContainers),
    patch: { spec: { template: { spec: { containers: [{ name: 'side', $patch: 'delete' }] } } } },
    want: (r: any) => assert.deepEqual(r.spec.template.spec.containers.map((c: any) => c.name), ['app']),
  },
  {
    name: 'list $patch: replace',
    original: deploy(twoContainers),
    patch: { spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } } } },
    want: (r: any) => assert.deepEqual(r.spec.template.spec.containers, [{ name: 'only', image: 'x' }]),
  },
  {
    name: 'map $patch: replace',
    original: deploy(twoContainers),
    patch: { metadata: { labels: { $patch: 'replace', only: 'me' } } },
    want: (r: any) => assert.deepEqual(r.metadata.labels, { only: 'me' }),
  },
  {
    name: 'map $patch: delete',
    original: deploy(twoContainers),
    patch: { metadata: { labels: { $patch: 'delete' } } },
    want: (r: any) => assert.deepEqual(r.metadata.labels, {}),
  },
  {
    name: 'finalizers: primitive merge list is set-merged',
    original: deploy(twoContainers),
    patch: { metadata: { finalizers: ['c', 'a'] } },
    want: (r: any) => assert.deepEqual(r.metadata.finalizers, ['c', 'a', 'b']),
  },
  {
    name: 'finalizers: $deleteFromPrimitiveList',
    original: deploy(twoContainers),
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
    want: (r: any) => assert.deepEqual(r.metadata.finalizers, ['b']),
  },
  {
    name: 'finalizers: apply-style add, delete and order',
    original: deploy(twoContainers),
    patch: { metadata: { '$setElementOrder/finalizers': ['b', 'c'], finalizers: ['c'], '$deleteFromPrimitiveList/finalizers': ['a'] } },
    want: (r: any) => assert.deepEqual(r.metadata.finalizers, ['b', 'c']),
  },
  {
    name: 'deleteFromPrimitiveList on a missing list is a no-op',
    original: { metadata: { name: 'x' } },
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
    want: { metadata: { name: 'x' } },
  },
  {
    name: 'ownerReferences merged by uid',
    original: { metadata: { ownerReferences: [{ uid: '1', name: 'a' }, { uid: '2', name: 'b' }] } },
    patch: { metadata: { ownerReferences: [{ uid: '2', $patch: 'delete' }, { uid: '1', controller: true }] } },
    want: { metadata: { ownerReferences: [{ uid: '1', name: 'a', controller: true }] } },
  },
  {
    name: 'status conditions merged by type',
    original: { status: { conditions: [{ type: 'Available', status: 'False' }, { type: 'Progressing', status: 'True' }] } },
    patch: { status: { conditions: [{ type: 'Available', status: 'True' }] } },
    want: { status: { conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'True' }] } },
  },
  {
    name: 'tolerations (no strategy) are replaced',
    original: deploy({ tolerations: [{ key: 'a', operator: 'Exists' }, { key: 'b', operator: 'Exists' }] }),
    patch: { spec: { template: { spec: { tolerations: [{ key: 'c', operator: 'Exists' }] } } } },
    want: (r: any) => assert.deepEqual(r.spec.template.spec.tolerations, [{ key: 'c', operator: 'Exists' }]),
  },
  {
    name: 'retainKeys on Deployment strategy',
    original: deploy(twoContainers, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } }),
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } },
    want: (r: any) => assert.deepEqual(r.spec.strategy, { type: 'Recreate' }),
  },
  {
    name: 'retainKeys inside a volumes element',
    original: deploy({ volumes: [{ name: 'v', emptyDir: {} }, { name: 'w', emptyDir: {} }] }),
    patch: {
      spec: {
        template: {
          spec: {
            '$setElementOrder/volumes': [{ name: 'v' }, { name: 'w' }],
            volumes: [{ name: 'v', $retainKeys: ['configMap', 'name'], configMap: { name: 'cm' }, emptyDir: null }],
          },
        },
      },
    },
    want: (r: any) => assert.deepEqual(r.spec.template.spec.volumes, [{ name: 'v', configMap: { name: 'cm' } }, { name: 'w', emptyDir: {} }]),
  },
  {
    name: 'null for an absent field is ignored; nulls inside new values are dropped',
    original: { spec: { a: 1 } },
    patch: { spec: { missing: null, added: { x: null, y: 1 } } },
    want: { spec: { a: 1, added: { y: 1 } } },
  },
  {
    name: 'type change replaces the value',
    original: { spec: { a: { b: 1 }, c: [1], d: 'x' } },
    patch: { spec: { a: 'now a string', c: { k: 1 }, d: [1] } },
    want: { spec: { a: 'now a string', c: { k: 1 }, d: [1] } },
  },
  {
    name: 'directives in newly added values are stripped',
    original: { spec: {} },
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ name: 'a' }] } } } },
    want: { spec: { template: { spec: { containers: [{ name: 'a' }] } } } },
  },
  {
    name: 'setElementOrder for a list only in the patch',
    original: deploy({}),
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }], containers: [{ name: 'b' }, { name: 'a' }] } } } },
    want: (r: any) => assert.deepEqual(r.spec.template.spec.containers, [{ name: 'b' }, { name: 'a' }]),
  },
  {
    name: 'no schema: maps merge and lists replace',
    schema: null,
    original: { spec: { list: [{ name: 'a' }, { name: 'b' }], m: { x: 1, y: 2 } } },
    patch: { spec: { list: [{ name: 'c' }], m: { y: null, z: 3 } } },
    want: { spec: { list: [{ name: 'c' }], m: { x: 1, z: 3 } } },
  },
];

for (const c of cases) {
  test(`smp: ${c.name}`, () => {
    const original = structuredClone(c.original);
    const patch = structuredClone(c.patch);
    const result = applyStrategicMergePatch(original, patch, c.schema === null ? undefined : (c.schema ?? deployment));
    if (typeof c.want === 'function') c.want(result);
    else assert.deepEqual(result, c.want);
    // Inputs stay untouched.
    assert.deepEqual(original, c.original);
    assert.deepEqual(patch, c.patch);
  });
}

interface ErrorCase {
  name: string;
  original?: any;
  patch: any;
  code: number;
  message: string | RegExp;
}

const errorCases: ErrorCase[] = [
  { name: 'unknown $patch in a map', patch: { metadata: { labels: { $patch: 'foo' } } }, code: 400, message: 'unknown patch type: foo in map: map[$patch:foo]' },
  { name: '$patch: merge in a map (upstream rejects it)', patch: { metadata: { labels: { $patch: 'merge' } } }, code: 400, message: /^unknown patch type: merge/ },
  {
    name: 'unknown $patch in a list element',
    original: deploy(twoContainers),
    patch: { spec: { template: { spec: { containers: [{ name: 'app', $patch: 'bogus' }] } } } },
    code: 400,
    message: 'unknown patch type: bogus in map: map[$patch:bogus name:app]',
  },
  {
    name: '$patch: merge in a list',
    original: deploy(twoContainers),
    patch: { spec: { template: { spec: { containers: [{ $patch: 'merge' }] } } } },
    code: 400,
    message: 'merging lists cannot yet be specified in the patch',
  },
  {
    name: 'merge key missing from a patch element',
    original: deploy(twoContainers),
    patch: { spec: { template: { spec: { containers: [{ image: 'x' }] } } } },
    code: 400,
    message: 'map: map[image:x] does not contain declared merge key: name',
  },
  {
    name: 'retainKeys not a list',
    original: deploy(twoContainers, { strategy: { type: 'Recreate' } }),
    patch: { spec: { strategy: { $retainKeys: 'type' } } },
    code: 400,
    message: 'invalid patch format of retainKeys',
  },
  {
    name: 'patch sets a key missing from retainKeys',
    original: deploy(twoContainers, { strategy: { type: 'Recreate' } }),
    patch: { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: { maxSurge: 1 } } } },
    code: 400,
    message: 'invalid patch format of retainKeys',
  },
  {
    name: 'setElementOrder not a list',
    original: deploy(twoContainers),
    patch: { spec: { template: { spec: { '$setElementOrder/containers': 'x' } } } },
    code: 400,
    message: 'invalid patch format of setElementOrder list',
  },
  {
    name: 'patch list disagrees with setElementOrder',
    original: deploy(twoContainers),
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ name: 'other' }] } } } },
    code: 400,
    message: /^The order in patch list:/,
  },
  {
    name: 'list of lists',
    original: { metadata: { finalizers: [['a']] } },
    patch: { metadata: { finalizers: [['b']] } },
    code: 422,
    message: 'the server rejected our request due to an error in our request',
  },
  { name: 'patch body is not an object', patch: [1, 2], code: 400, message: /cannot unmarshal array/ },
];

for (const c of errorCases) {
  test(`smp error: ${c.name}`, () => {
    assert.throws(
      () => applyStrategicMergePatch(c.original ?? deploy(twoContainers), c.patch, deployment),
      (e: unknown) => {
        assert.ok(e instanceof StatusError);
        assert.equal(e.code, c.code);
        if (typeof c.message === 'string') assert.equal(e.message, c.message);
        else assert.match(e.message, c.message);
        return true;
      },
    );
  });
}

test('smp: list-of-lists 422 carries the cause', () => {
  try {
    applyStrategicMergePatch({ a: [['x']] }, { a: [['y']] }, node({ a: [{ strategy: 'merge' }, undefined] }));
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof StatusError);
    assert.equal(e.reason, 'Invalid');
    assert.deepEqual(e.details?.causes, [{ reason: 'UnexpectedServerResponse', message: 'lists of lists are not supported' }]);
  }
});
