// Managed fields as upstream writes them, for the same sequences of writes. The expected
// fieldsV1 come from upstream's e2e tests where they state them (apply.go), and otherwise from
// reasoning through upstream's field manager (noted per case).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceRegistry } from '../../api/registry.ts';
import type { KObject, ResourceDef } from '../../api/types.ts';
import { apiVersionOf } from '../../api/resource-keys.ts';
import { fieldTypeOf } from '../../api/field-types.ts';
import { FieldManager, lastAppliedAnnotation } from './field-manager.ts';
import { resetFieldsFor } from './reset-fields.ts';
import { StatusError } from '../../machinery/errors.ts';

const registry = new ResourceRegistry();
let clock = 0;
const now = () => `2024-01-01T00:00:${String(clock).padStart(2, '0')}Z`;

function manager(group: string, plural: string, subresource?: string): FieldManager {
  const def = registry.lookup(group, group ? 'v1' : 'v1', plural) as ResourceDef;
  return new FieldManager({ type: fieldTypeOf(def.model), apiVersion: apiVersionOf(def), kind: def.kind, subresource, resetFields: resetFieldsFor(def, subresource), now });
}

const deployments = manager('apps', 'deployments');
const pods = manager('', 'pods');
const services = manager('', 'services');
const configmaps = manager('', 'configmaps');

function entry(obj: KObject, name: string): any {
  return obj.metadata.managedFields?.find((e: any) => e.manager === name);
}
const fields = (obj: KObject, name: string) => JSON.stringify(entry(obj, name)?.fieldsV1);

function deployment(extra: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'deployment', namespace: 'ns', labels: { app: 'nginx' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
      ...extra,
    },
  };
}

/** What the registry stores after a write: the system metadata a create adds. */
function stored(obj: KObject): KObject {
  const o = structuredClone(obj);
  o.metadata.uid ??= 'uid-1';
  o.metadata.creationTimestamp ??= '2024-01-01T00:00:00Z';
  return o;
}

test('apply creating a pod and a service: the fields upstream e2e expects (apply.go)', () => {
  const pod = pods.apply(undefined, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'test-pod' }, spec: { containers: [{ name: 'test-container', image: 'test-image' }] } }, 'apply_test', false);
  assert.equal(fields(pod, 'apply_test'), '{"f:spec":{"f:containers":{"k:{\\"name\\":\\"test-container\\"}":{".":{},"f:image":{},"f:name":{}}}}}');
  assert.deepEqual(Object.keys(entry(pod, 'apply_test')), ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1']);
  const svcConfig = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'test-svc' }, spec: { ports: [{ port: 8080, protocol: 'UDP' }] } };
  const svc = stored(services.apply(undefined, svcConfig, 'apply_test', false));
  const want = '{"f:spec":{"f:ports":{"k:{\\"port\\":8080,\\"protocol\\":\\"UDP\\"}":{".":{},"f:port":{},"f:protocol":{}}}}}';
  assert.equal(fields(svc, 'apply_test'), want);
  // A second applier of the same configuration shares ownership without conflicts; the object
  // does not change, so its entry gets no time (upstream sets times only when the object changes).
  const again = services.apply(svc, svcConfig, 'apply_test_2', false);
  assert.equal(fields(again, 'apply_test'), want);
  assert.equal(fields(again, 'apply_test_2'), want);
  assert.equal(entry(again, 'apply_test_2').time, undefined);
});

test('kubectl create deployment: one Update entry with `.` on what the create added (upstream shape, reasoned)', () => {
  const d = deployment();
  registry.lookup('apps', 'v1', 'deployments')!.strategy.defaults?.(d);
  d.metadata.uid = 'u';
  deployments.update(undefined, d, 'kubectl-create');
  const e = entry(d, 'kubectl-create');
  assert.deepEqual({ ...e, fieldsV1: undefined }, { manager: 'kubectl-create', operation: 'Update', apiVersion: 'apps/v1', time: now(), fieldsType: 'FieldsV1', fieldsV1: undefined });
  // spec, template, template.metadata/spec and strategy are Go non-pointer structs: never "added",
  // so no `.`; labels, rollingUpdate and the container are. The selector is an atomic struct.
  assert.equal(
    JSON.stringify(e.fieldsV1),
    JSON.stringify({
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': {
        'f:progressDeadlineSeconds': {},
        'f:replicas': {},
        'f:revisionHistoryLimit': {},
        'f:selector': {},
        'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} },
        'f:template': {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"nginx"}': {
                '.': {},
                'f:image': {},
                'f:imagePullPolicy': {},
                'f:name': {},
                'f:resources': {},
                'f:terminationMessagePath': {},
                'f:terminationMessagePolicy': {},
              },
            },
            'f:dnsPolicy': {},
            'f:restartPolicy': {},
            'f:schedulerName': {},
            'f:securityContext': {},
            'f:terminationGracePeriodSeconds': {},
          },
        },
      },
    }),
  );
});

test('conflicts: upstream message and causes; force moves ownership (apply.go "force apply")', () => {
  clock = 1;
  const live = stored(deployments.apply(undefined, deployment(), 'apply_test', false));
  clock = 2;
  // `kubectl patch` without --field-manager: the manager is the user agent's prefix.
  const patched = structuredClone(live);
  patched.spec.replicas = 5;
  deployments.update(live, patched, 'kubectl');
  assert.equal(fields(patched, 'kubectl'), '{"f:spec":{"f:replicas":{}}}');
  assert.equal(fields(patched, 'apply_test').includes('f:replicas'), false, 'the applier lost replicas to the update');
  clock = 3;
  try {
    deployments.apply(patched, deployment(), 'apply_test', false);
    assert.fail('expected a conflict');
  } catch (e) {
    assert.ok(e instanceof StatusError);
    assert.equal(e.code, 409);
    assert.equal(e.reason, 'Conflict');
    assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas');
    assert.deepEqual(e.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl" using apps/v1', field: '.spec.replicas' }]);
  }
  const forced = deployments.apply(patched, deployment(), 'apply_test', true);
  assert.equal(forced.spec.replicas, 3);
  assert.equal(entry(forced, 'kubectl'), undefined, 'the patcher had nothing else and its entry is gone');
  assert.ok(fields(forced, 'apply_test').includes('"f:replicas":{}'));
  assert.equal(entry(forced, 'apply_test').time, now());
});

test('several conflicts: grouped by manager, as upstream prints them', () => {
  const live = stored(configmaps.apply(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', b: '2' } }, 'first', false));
  try {
    configmaps.apply(live, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'x', b: 'y' } }, 'second', false);
    assert.fail('expected conflicts');
  } catch (e) {
    assert.ok(e instanceof StatusError);
    assert.equal(e.message, 'Apply failed with 2 conflicts: conflicts with "first":\n- .data.a\n- .data.b');
    assert.deepEqual(
      e.details?.causes?.map((c) => c.field),
      ['.data.a', '.data.b'],
    );
  }
});

test('a field an applier stops applying: removed when only it owned it, kept when shared (apply.go)', () => {
  const withPorts = deployment({
    template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }] }] } },
  });
  const live = stored(deployments.apply(undefined, withPorts, 'apply_test', false));
  const removed = deployments.apply(live, deployment(), 'apply_test', false);
  assert.equal(removed.spec.template.spec.containers[0].ports, undefined);
  assert.ok(!fields(removed, 'apply_test').includes('f:ports'));

  // Two owners of replicas and hostname; one stops applying them; they stay.
  const shared = deployment({ template: { metadata: { labels: { app: 'nginx' } }, spec: { hostname: 'test-hostname', containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } });
  let obj = stored(deployments.apply(undefined, shared, 'shared_owner_1', false));
  obj = stored(deployments.apply(obj, shared, 'shared_owner_2', false));
  const unset = deployment();
  delete unset.spec.replicas;
  obj = deployments.apply(obj, unset, 'shared_owner_1', false);
  assert.equal(obj.spec.replicas, 3);
  assert.equal(obj.spec.template.spec.hostname, 'test-hostname');
});

test('an update takes a field from the applier, who then no longer removes it (apply.go "give up ownership")', () => {
  let obj = stored(deployments.apply(undefined, deployment(), 'test_applier', false));
  const updated = structuredClone(obj);
  updated.spec.replicas = 4;
  deployments.update(obj, updated, 'e2e-update');
  obj = stored(updated);
  const noReplicas = deployment();
  delete noReplicas.spec.replicas;
  const after = deployments.apply(obj, noReplicas, 'test_applier', false);
  assert.equal(after.spec.replicas, 4);
});

test("kubectl's own apply may take fields its client-side apply set (last-applied annotation)", () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' }, data: { a: '1' } };
  const annotated = { ...cm, metadata: { ...cm.metadata, annotations: { [lastAppliedAnnotation]: `${JSON.stringify(cm)}\n` } } };
  const live = stored(annotated);
  configmaps.update(undefined, live, 'kubectl-client-side-apply');
  const changed = { ...cm, data: { a: '2' } };
  // Another manager name gets the conflict; `kubectl` does not, since data.a still holds what it applied.
  assert.throws(() => configmaps.apply(live, changed, 'someone', false), (e: StatusError) => e.code === 409);
  const out = configmaps.apply(live, changed, 'kubectl', false);
  assert.equal(out.data.a, '2');
  assert.equal(out.metadata.annotations![lastAppliedAnnotation], '{"apiVersion":"v1","data":{"a":"2"},"kind":"ConfigMap","metadata":{"name":"c","namespace":"ns"}}\n');
});

test('managed fields a client sends: kept when valid, reset by [] or [{}], ignored when invalid or on a subresource', () => {
  const live = stored(configmaps.apply(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } }, 'applier', false));
  const mf = live.metadata.managedFields!;
  const send = (managedFields: unknown) => {
    const o = structuredClone(live);
    o.metadata.managedFields = managedFields as any;
    o.data.b = '2';
    configmaps.update(live, o, 'editor');
    return o;
  };
  const own = [{ manager: 'mine', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }];
  assert.deepEqual(send(own).metadata.managedFields!.map((e: any) => e.manager).sort(), ['editor', 'mine']);
  assert.equal(send([]).metadata.managedFields, undefined, 'reset: no managed fields, and none recorded until an apply');
  assert.equal(send([{}]).metadata.managedFields, undefined);
  assert.deepEqual(send([{ manager: 'x', operation: 'Bogus', apiVersion: 'v1', fieldsType: 'FieldsV1' }]).metadata.managedFields!.map((e: any) => e.manager).sort(), ['applier', 'editor']);
  assert.deepEqual(send(undefined).metadata.managedFields!.map((e: any) => e.manager).sort(), ['applier', 'editor']);
  assert.equal(mf.length, 1);
});

test('a status write records an entry with subresource status and owns status only', () => {
  const podsStatus = manager('', 'pods', 'status');
  const live = stored(pods.apply(undefined, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i' }] } }, 'creator', false));
  const next = structuredClone(live);
  next.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
  podsStatus.update(live, next, 'kubelet');
  const e = entry(next, 'kubelet');
  assert.equal(e.subresource, 'status');
  assert.equal(JSON.stringify(e.fieldsV1), '{"f:status":{"f:conditions":{".":{},"k:{\\"type\\":\\"Ready\\"}":{".":{},"f:status":{},"f:type":{}}},"f:phase":{}}}');
});

test('an update that changes nothing keeps every entry as it was', () => {
  const live = stored(configmaps.apply(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } }, 'applier', false));
  clock = 9;
  const same = structuredClone(live);
  configmaps.update(live, same, 'editor');
  assert.deepEqual(same.metadata.managedFields, live.metadata.managedFields);
});

test('more than ten update managers: the oldest merge into "ancient-changes"', () => {
  let obj = stored(configmaps.apply(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { seed: 'x' } }, 'applier', false));
  for (let i = 0; i < 12; i++) {
    clock = 10 + i;
    const next = structuredClone(obj);
    next.data = { ...(next.data ?? {}), [`k${i}`]: 'v' };
    configmaps.update(obj, next, `writer-${i}`);
    obj = next;
  }
  const names = obj.metadata.managedFields!.map((e: any) => e.manager);
  assert.equal(names.filter((n: string) => n.startsWith('writer-')).length, 9);
  assert.ok(names.includes('ancient-changes'));
  assert.equal(fields(obj, 'ancient-changes'), '{"f:data":{"f:k0":{},"f:k1":{},"f:k2":{}}}');
});

test('configurations that do not fit: 400 with upstream wording', () => {
  const bad = (config: unknown) => {
    try {
      deployments.apply(undefined, config as KObject, 'm', false);
    } catch (e) {
      return (e as StatusError).message;
    }
    return 'no error';
  };
  assert.equal(bad({ ...deployment(), kind: 'Pod' }), 'invalid object type: apps/v1, Kind=Pod');
  assert.equal(bad({ ...deployment(), metadata: { name: 'd', managedFields: [] } }), 'metadata.managedFields must be nil');
  const unknown = deployment();
  unknown.spec.template.spec.containers[0].unknownNested = 'x';
  assert.equal(bad(unknown), 'failed to create typed patch object (ns/deployment; apps/v1, Kind=Deployment): .spec.template.spec.containers[name="nginx"].unknownNested: field not declared in schema');
});

test('custom resources: the structural schema drives merging and ownership (apply.go "should work for CRDs")', async () => {
  const { customResourceType } = await import('../../api/field-types.ts');
  const type = customResourceType({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        'x-kubernetes-preserve-unknown-fields': true,
        properties: {
          cronSpec: { type: 'string' },
          ports: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
            items: { type: 'object', properties: { containerPort: { type: 'integer' }, protocol: { type: 'string' }, name: { type: 'string' } }, required: ['containerPort', 'protocol'] },
          },
          atomicList: { type: 'array', 'x-kubernetes-list-type': 'atomic', items: { type: 'string' } },
        },
      },
    },
  });
  const crs = new FieldManager({ type, apiVersion: 'example.com/v1', kind: 'Noxu', resetFields: resetFieldsFor({ status: {} } as ResourceDef), now });
  const cr = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}): KObject => ({ apiVersion: 'example.com/v1', kind: 'Noxu', metadata: { name: 'mytest', finalizers: ['test-finalizer'] }, spec, ...extra });
  let obj = stored(crs.apply(undefined, cr({ cronSpec: '* * * * */5', replicas: 1, ports: [{ name: 'x', containerPort: 80, protocol: 'TCP' }] }), 'apply_test', false));
  assert.equal(
    fields(obj, 'apply_test'),
    '{"f:metadata":{"f:finalizers":{"v:\\"test-finalizer\\"":{}}},"f:spec":{"f:cronSpec":{},"f:ports":{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{},"f:name":{},"f:protocol":{}}},"f:replicas":{}}}',
  );
  // Another applier editing the same list item conflicts; adding an item does not.
  assert.throws(() => crs.apply(obj, cr({ ports: [{ name: 'y', containerPort: 80, protocol: 'TCP' }] }), 'apply_test_2', false), (e: StatusError) => e.code === 409 && e.details?.causes?.length === 1);
  obj = stored(crs.apply(obj, cr({ ports: [{ name: 'y', containerPort: 8080, protocol: 'TCP' }] }), 'apply_test_2', false));
  assert.equal(obj.spec.ports.length, 2);
  // Atomic lists are replaced whole by a forced applier.
  obj = stored(crs.apply(obj, cr({ atomicList: ['item1'] }), 'apply_test', false));
  obj = crs.apply(obj, cr({ atomicList: ['item2'] }), 'apply_test_2', true);
  assert.deepEqual(obj.spec.atomicList, ['item2']);
  // Fields the schema does not declare are refused (upstream's conformance test looks for this text).
  assert.throws(() => crs.apply(undefined, cr({}, { unknownField: 'unknown' }), 'm', false), /\.unknownField: field not declared in schema/);
});

test("a create's fast walk records what the general comparison with the zero object records", async () => {
  const { compare, createdFields } = await import('../../machinery/apply/compare.ts');
  const { union } = await import('../../machinery/fieldpath/set.ts');
  const samples: Array<[string, string, KObject]> = [
    ['apps', 'deployments', deployment({ strategy: {}, template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }], resources: {} }], volumes: [] } } })],
    ['', 'pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' }, annotations: {} }, spec: { containers: [{ name: 'c', image: 'i' }], nodeSelector: { zone: 'a' }, tolerations: [] }, status: { phase: 'Pending' } }],
    ['', 'nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { podCIDRs: ['10.0.0.0/24'] }, status: { nodeInfo: { kubeletVersion: 'v1.32.0' }, daemonEndpoints: { kubeletEndpoint: { Port: 10250 } }, conditions: [{ type: 'Ready', status: 'True' }] } }],
    ['', 'configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' }, binaryData: {} }],
  ];
  for (const [group, plural, obj] of samples) {
    const def = registry.lookup(group, 'v1', plural)!;
    const type = fieldTypeOf(def.model);
    const general = compare({}, obj, type);
    assert.equal(JSON.stringify(createdFields(obj, type)), JSON.stringify(union(general.added, general.modified)), plural);
    assert.equal(JSON.stringify(general.removed), '{}', plural);
  }
});
