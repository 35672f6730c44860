// Server-side apply with the real kubectl against a real `mizzen up`: two managers applying
// overlapping fields (conflict message, --force-conflicts, removal of a field one stops applying,
// shared ownership keeping it), `kubectl diff --server-side`, `--dry-run=server`, re-applying
// without a write, the migration of a client-side-applied object, and the managed fields of
// kubectl's own writes compared with what upstream records for them.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hasKubectl, startCluster, type Cluster, type CommandResult, type KubectlOptions } from './harness.ts';

function deployment(ns: string, opts: { replicas?: number; image?: string; env?: Array<[string, string]> }): string {
  const env = opts.env?.length ? `        env:\n${opts.env.map(([n, v]) => `        - name: ${n}\n          value: "${v}"\n`).join('')}` : '';
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
spec:
${opts.replicas !== undefined ? `  replicas: ${opts.replicas}\n` : ''}  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${opts.image ?? 'nginx:1.27'}
${env}`;
}

function configMap(ns: string, name: string, data: Record<string, string>): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${ns}\ndata:\n${Object.entries(data)
    .map(([k, v]) => `  ${k}: "${v}"\n`)
    .join('')}`;
}

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time?: string;
  fieldsType: string;
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

describe('server-side apply with kubectl', { skip: hasKubectl ? false : 'kubectl is not installed at /usr/bin/kubectl' }, () => {
  let cluster: Cluster;
  const k = (args: string[], opts?: KubectlOptions): Promise<CommandResult> => cluster.kubectl(args, opts);
  const kFail = (args: string[], opts?: KubectlOptions): Promise<CommandResult> => cluster.kubectl(args, { ...opts, allowFail: true });
  const get = async (ns: string, kind: string, name: string) => JSON.parse((await k(['-n', ns, 'get', kind, name, '-o', 'json', '--show-managed-fields'])).stdout);
  const entries = (obj: any): Entry[] => obj.metadata.managedFields ?? [];
  const entry = (obj: any, manager: string, operation?: string) => entries(obj).find((e) => e.manager === manager && (!operation || e.operation === operation));
  const owns = (obj: any, manager: string, fragment: string) => JSON.stringify(entry(obj, manager)?.fieldsV1 ?? {}).includes(fragment);

  before(async () => {
    cluster = await startCluster();
  });
  after(async () => {
    await cluster?.stop();
  });

  test('two managers on one Deployment: conflict, force, removal, shared ownership', async () => {
    const ns = 'ssa-two';
    await k(['create', 'namespace', ns]);
    const a = await k(['apply', '--server-side', '--field-manager=team-a', '-f', '-'], { input: deployment(ns, { replicas: 2, env: [['MODE', 'prod'], ['DEBUG', '1']] }) });
    assert.match(a.stdout, /deployment\.apps\/web serverside-applied/);

    // team-b sets replicas team-a owns: refused with upstream's message and kubectl's advice.
    const b = await kFail(['apply', '--server-side', '--field-manager=team-b', '-f', '-'], { input: deployment(ns, { replicas: 3, env: [['MODE', 'prod']] }) });
    assert.notEqual(b.code, 0);
    assert.match(b.stderr, /Apply failed with 1 conflict: conflict with "team-a": \.spec\.replicas/);
    assert.match(b.stderr, /--force-conflicts/);
    assert.equal((await get(ns, 'deployment', 'web')).spec.replicas, 2);

    // Forced: team-b takes replicas; the MODE env var it applies with the same value is shared.
    await k(['apply', '--server-side', '--field-manager=team-b', '--force-conflicts', '-f', '-'], { input: deployment(ns, { replicas: 3, env: [['MODE', 'prod']] }) });
    let dep = await get(ns, 'deployment', 'web');
    assert.equal(dep.spec.replicas, 3);
    assert.ok(owns(dep, 'team-b', '"f:replicas"'));
    assert.ok(!owns(dep, 'team-a', '"f:replicas"'), 'team-a lost replicas');
    assert.ok(owns(dep, 'team-a', 'k:{\\"name\\":\\"MODE\\"}') && owns(dep, 'team-b', 'k:{\\"name\\":\\"MODE\\"}'));

    // team-a stops applying both env vars: DEBUG (only its own) goes, MODE (shared) stays.
    await k(['apply', '--server-side', '--field-manager=team-a', '-f', '-'], { input: deployment(ns, {}) });
    dep = await get(ns, 'deployment', 'web');
    assert.deepEqual(dep.spec.template.spec.containers[0].env, [{ name: 'MODE', value: 'prod' }]);
    assert.equal(dep.spec.replicas, 3, 'replicas are team-b\'s now');

    // team-b stops applying MODE: nobody owns it any more, so it goes too.
    await k(['apply', '--server-side', '--field-manager=team-b', '-f', '-'], { input: deployment(ns, { replicas: 3 }) });
    dep = await get(ns, 'deployment', 'web');
    assert.equal(dep.spec.template.spec.containers[0].env, undefined);
  });

  test('ConfigMap keys: shared ownership keeps a key until its last applier drops it', async () => {
    const ns = 'ssa-cm';
    await k(['create', 'namespace', ns]);
    await k(['apply', '--server-side', '--field-manager=a', '-f', '-'], { input: configMap(ns, 'conf', { x: '1', shared: 's' }) });
    await k(['apply', '--server-side', '--field-manager=b', '-f', '-'], { input: configMap(ns, 'conf', { shared: 's', why: '2' }) });
    const conflict = await kFail(['apply', '--server-side', '--field-manager=b', '-f', '-'], { input: configMap(ns, 'conf', { shared: 'other', why: '2' }) });
    assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "a": \.data\.shared/);
    await k(['apply', '--server-side', '--field-manager=a', '-f', '-'], { input: configMap(ns, 'conf', { x: '1' }) });
    assert.deepEqual((await get(ns, 'configmap', 'conf')).data, { x: '1', shared: 's', why: '2' });
    await k(['apply', '--server-side', '--field-manager=b', '-f', '-'], { input: configMap(ns, 'conf', { why: '2' }) });
    assert.deepEqual((await get(ns, 'configmap', 'conf')).data, { x: '1', why: '2' });
  });

  test('re-applying the same manifest writes nothing; diff and dry-run change nothing', async () => {
    const ns = 'ssa-noop';
    await k(['create', 'namespace', ns]);
    // A ConfigMap: no controller writes it, so its resourceVersion moves only with applies.
    const manifest = configMap(ns, 'same', { a: '1' });
    await k(['apply', '--server-side', '-f', '-'], { input: manifest });
    const rv = (await get(ns, 'configmap', 'same')).metadata.resourceVersion;
    await k(['apply', '--server-side', '-f', '-'], { input: manifest });
    assert.equal((await get(ns, 'configmap', 'same')).metadata.resourceVersion, rv, 'a second identical apply does not write');

    const same = await kFail(['diff', '--server-side', '-f', '-'], { input: manifest });
    assert.equal(same.code, 0, same.stderr);
    const changed = await kFail(['diff', '--server-side', '-f', '-'], { input: configMap(ns, 'same', { a: '2' }) });
    assert.equal(changed.code, 1, changed.stderr);
    assert.match(changed.stdout, /-\s+a: "1"/);
    assert.match(changed.stdout, /\+\s+a: "2"/);
    assert.doesNotMatch(changed.stdout, /resourceVersion/, 'the dry-run answer keeps the live resourceVersion, as upstream');

    const dry = await k(['apply', '--server-side', '--dry-run=server', '-f', '-'], { input: configMap(ns, 'same', { a: '3' }) });
    assert.match(dry.stdout, /serverside-applied \(server dry run\)/);
    const after = await get(ns, 'configmap', 'same');
    assert.deepEqual(after.data, { a: '1' });
    assert.equal(after.metadata.resourceVersion, rv);
    assert.equal(entry(after, 'kubectl', 'Apply')?.operation, 'Apply', "kubectl's default manager for --server-side is `kubectl`");

    // A dry-run create is answered and not stored.
    await k(['apply', '--server-side', '--dry-run=server', '-f', '-'], { input: deployment(ns, { replicas: 1 }) });
    assert.notEqual((await kFail(['-n', ns, 'get', 'deployment', 'web'])).code, 0);
  });

  test('an object created with client-side apply moves to server-side apply', async () => {
    const ns = 'ssa-migrate';
    await k(['create', 'namespace', ns]);
    await k(['apply', '-f', '-'], { input: configMap(ns, 'legacy', { keep: '1', drop: '2' }) });
    let cm = await get(ns, 'configmap', 'legacy');
    assert.deepEqual(
      entries(cm).map((e) => [e.manager, e.operation]),
      [['kubectl-client-side-apply', 'Update']],
    );
    assert.ok(owns(cm, 'kubectl-client-side-apply', 'kubectl.kubernetes.io/last-applied-configuration'));

    // kubectl applies server-side, keeps the annotation under its own applier, and rewrites the
    // client-side entry into its `kubectl` Apply entry; the key dropped from the manifest goes.
    await k(['apply', '--server-side', '-f', '-'], { input: configMap(ns, 'legacy', { keep: '1' }) });
    cm = await get(ns, 'configmap', 'legacy');
    assert.deepEqual(cm.data, { keep: '1' });
    const managers = entries(cm).map((e) => `${e.manager}/${e.operation}`).sort();
    assert.deepEqual(managers, ['kubectl-last-applied/Apply', 'kubectl/Apply']);
    const last = JSON.parse(cm.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    assert.deepEqual(last.data, { keep: '1' }, 'the server keeps the annotation in step with kubectl\'s applies');
  });

  test("managed fields of kubectl's writes have upstream's shape", async () => {
    const ns = 'ssa-shape';
    await k(['create', 'namespace', ns]);
    await k(['-n', ns, 'create', 'deployment', 'web', '--image=nginx:1.27']);
    const dep = await get(ns, 'deployment', 'web');
    const created = entry(dep, 'kubectl-create')!;
    assert.equal(created.operation, 'Update');
    assert.equal(created.apiVersion, 'apps/v1');
    assert.match(created.time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // What upstream 1.32 records for `kubectl create deployment web --image=nginx:1.27` (reasoned
    // from its field manager: defaulted fields are the creator's; structs that are never absent in
    // Go objects get no `.`).
    assert.deepEqual(created.fieldsV1, {
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
    });
    // Other kubectl commands name themselves.
    await k(['-n', ns, 'label', 'deployment', 'web', 'tier=front']);
    const labelled = await get(ns, 'deployment', 'web');
    assert.deepEqual(entry(labelled, 'kubectl-label')?.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:tier': {} } } });
    // Without --show-managed-fields kubectl hides them, as it does with upstream.
    const plain = JSON.parse((await k(['-n', ns, 'get', 'deployment', 'web', '-o', 'json'])).stdout);
    assert.equal(plain.metadata.managedFields, undefined);
  });
});
