// The real kubectl against a real `mizzen up`: apply, every get output form, watch, describe, edit,
// label/annotate/patch/scale, delete, the create generators, explain, discovery, wait, dry-run and
// the error paths users meet first. Each test works in its own namespace so tests stay independent.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasKubectl, KUBECTL, startCluster, type Cluster, type CommandResult, type KubectlOptions } from './harness.ts';
import { background, eventually } from './poll.ts';

const APP_V1 = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels: {app: web, tier: front}
data:
  color: blue
  size: large
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        env:
        - name: MODE
          value: prod
        - name: DEBUG
          value: "1"
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
`;

// The same application one release later: new image, DEBUG env var and the `size` key dropped.
const APP_V2 = APP_V1.replace('nginx:1.25', 'nginx:1.26')
  .replace('        - name: DEBUG\n          value: "1"\n', '')
  .replace('  size: large\n', '');

/** A `kubectl get -o name` listing as a sorted array. */
function names(out: string): string[] {
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.includes(ROOT_CA))
    .sort();
}

// Published into every namespace by a controller (when one runs); tests ignore it.
const ROOT_CA = 'kube-root-ca.crt';

/** Split a kubectl table into rows of whitespace-separated cells (header first). */
function table(out: string): string[][] {
  return out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}|\t/));
}

describe('kubectl against mizzen', { skip: hasKubectl ? false : 'kubectl is not installed at /usr/bin/kubectl' }, () => {
  let cluster: Cluster;
  let scratch: string;
  const k = (args: string[], opts?: KubectlOptions): Promise<CommandResult> => cluster.kubectl(args, opts);
  const kFail = (args: string[], opts?: KubectlOptions): Promise<CommandResult> => cluster.kubectl(args, { ...opts, allowFail: true });
  const ns = async (name: string) => {
    await k(['create', 'namespace', name]);
    return name;
  };

  before(async () => {
    cluster = await startCluster();
    scratch = await mkdtemp(join(tmpdir(), 'mizzen-e2e-kubectl-'));
    await k(['apply', '-f', '-'], { input: APP_V1 });
  });
  after(async () => {
    await cluster?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  describe('apply', () => {
    test('re-applying a changed multi-document manifest updates and prunes fields', async () => {
      const { stdout } = await k(['apply', '-f', '-'], { input: APP_V2 });
      assert.match(stdout, /namespace\/shop unchanged/);
      assert.match(stdout, /configmap\/settings configured/);
      assert.match(stdout, /deployment\.apps\/web configured/);
      assert.match(stdout, /service\/web unchanged/);

      const dep = JSON.parse((await k(['-n', 'shop', 'get', 'deployment', 'web', '-o', 'json'])).stdout);
      const c = dep.spec.template.spec.containers[0];
      assert.equal(c.image, 'nginx:1.26');
      assert.deepEqual(c.env, [{ name: 'MODE', value: 'prod' }], 'the DEBUG env var removed from the manifest is gone');
      assert.equal(dep.metadata.generation, 2);
      const last = JSON.parse(dep.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
      assert.equal(last.spec.template.spec.containers[0].image, 'nginx:1.26');

      const cm = JSON.parse((await k(['-n', 'shop', 'get', 'configmap', 'settings', '-o', 'json'])).stdout);
      assert.deepEqual(cm.data, { color: 'blue' }, 'the key removed from the manifest is pruned');

      // A third apply of the same manifest changes nothing.
      const again = await k(['apply', '-f', '-'], { input: APP_V2 });
      assert.match(again.stdout, /deployment\.apps\/web unchanged/);
      assert.match(again.stdout, /configmap\/settings unchanged/);
    });

    test('apply keeps fields set by others (three-way merge)', async () => {
      const n = await ns('apply-3way');
      const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mine\n  namespace: ${n}\ndata:\n  a: "1"\n`;
      await k(['apply', '-f', '-'], { input: manifest });
      await k(['-n', n, 'label', 'configmap', 'mine', 'owner=ops']);
      await k(['-n', n, 'patch', 'configmap', 'mine', '--type', 'merge', '-p', '{"data":{"b":"2"}}']);
      await k(['apply', '-f', '-'], { input: manifest.replace('a: "1"', 'a: "10"') });
      const cm = JSON.parse((await k(['-n', n, 'get', 'cm', 'mine', '-o', 'json'])).stdout);
      assert.deepEqual(cm.data, { a: '10', b: '2' });
      assert.equal(cm.metadata.labels.owner, 'ops');
    });
  });

  describe('get', () => {
    test('default table and -o wide', async () => {
      const t = table((await k(['-n', 'shop', 'get', 'deployments'])).stdout);
      assert.deepEqual(t[0], ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
      assert.equal(t[1]![0], 'web');
      assert.match(t[1]![1]!, /^\d\/2$/);
      const wide = table((await k(['-n', 'shop', 'get', 'deployments', '-o', 'wide'])).stdout);
      assert.deepEqual(wide[0], ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
      assert.deepEqual(wide[1]!.slice(5), ['web', 'nginx:1.26', 'app=web']);
      const svc = table((await k(['-n', 'shop', 'get', 'svc', 'web', '-o', 'wide'])).stdout);
      assert.deepEqual(svc[0], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
      assert.equal(svc[1]![1], 'ClusterIP');
      assert.match(svc[1]![2]!, /^\d+\.\d+\.\d+\.\d+$/);
      assert.equal(svc[1]![4], '80/TCP');
    });

    test('-o yaml, -o json and -o name', async () => {
      const yaml = (await k(['-n', 'shop', 'get', 'cm', 'settings', '-o', 'yaml'])).stdout;
      assert.match(yaml, /^apiVersion: v1\n/);
      assert.match(yaml, /\nkind: ConfigMap\n/);
      assert.match(yaml, /\n {2}name: settings\n/);
      const list = JSON.parse((await k(['-n', 'shop', 'get', 'cm', '-o', 'json'])).stdout);
      assert.equal(list.kind, 'List');
      assert.ok(list.items.some((i: { metadata: { name: string } }) => i.metadata.name === 'settings'));
      const one = JSON.parse((await k(['-n', 'shop', 'get', 'cm', 'settings', '-o', 'json'])).stdout);
      assert.equal(one.kind, 'ConfigMap');
      assert.match(one.metadata.uid, /^[0-9a-f-]{36}$/);
      assert.match(one.metadata.resourceVersion, /^\d+$/);
      assert.ok(!Number.isNaN(Date.parse(one.metadata.creationTimestamp)));
      const n = (await k(['-n', 'shop', 'get', 'deploy,svc,cm', '-o', 'name'])).stdout;
      assert.deepEqual(names(n), ['configmap/settings', 'deployment.apps/web', 'service/web']);
    });

    test('-o jsonpath and -o custom-columns', async () => {
      const jp = await k(['-n', 'shop', 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}/{.spec.template.spec.containers[0].name}']);
      assert.equal(jp.stdout, '2/web');
      const range = await k(['get', 'ns', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}']);
      assert.ok(names(range.stdout).includes('shop'));
      const cc = table((await k(['-n', 'shop', 'get', 'cm', 'settings', '-o', 'custom-columns=NAME:.metadata.name,COLOR:.data.color,APP:.metadata.labels.app'])).stdout);
      assert.deepEqual(cc, [
        ['NAME', 'COLOR', 'APP'],
        ['settings', 'blue', 'web'],
      ]);
    });

    test('--show-labels, -L and --sort-by', async () => {
      const n = await ns('get-sort');
      for (const [name, size] of [['bbb', 's'], ['ccc', 'm'], ['aaa', 'l']] as const) {
        await k(['-n', n, 'create', 'configmap', name, `--from-literal=k=${name}`]);
        await k(['-n', n, 'label', 'configmap', name, `size=${size}`]);
      }
      const sl = table((await k(['-n', n, 'get', 'cm', 'aaa', '--show-labels'])).stdout);
      assert.deepEqual(sl[0], ['NAME', 'DATA', 'AGE', 'LABELS']);
      assert.equal(sl[1]![3], 'size=l');
      const cols = table((await k(['-n', n, 'get', 'cm', 'aaa', '-L', 'size,missing'])).stdout);
      assert.deepEqual(cols[0], ['NAME', 'DATA', 'AGE', 'SIZE', 'MISSING']);
      assert.equal(cols[1]![3], 'l');
      const byName = (await k(['-n', n, 'get', 'cm', '-l', 'size', '--sort-by=.metadata.name', '-o', 'name'])).stdout;
      assert.deepEqual(byName.trim().split('\n'), ['configmap/aaa', 'configmap/bbb', 'configmap/ccc']);
      // Labels order the objects differently from their names: aaa=l, ccc=m, bbb=s.
      const bySize = (await k(['-n', n, 'get', 'cm', '-l', 'size', '--sort-by=.metadata.labels.size', '-o', 'name'])).stdout;
      assert.deepEqual(bySize.trim().split('\n'), ['configmap/aaa', 'configmap/ccc', 'configmap/bbb']);
      const t = table((await k(['-n', n, 'get', 'cm', '-l', 'size', '--sort-by=.data.k'])).stdout);
      assert.deepEqual(t.slice(1).map((r) => r[0]), ['aaa', 'bbb', 'ccc']);
    });

    test('label selectors: =, !=, in, notin, exists, !key; and --field-selector', async () => {
      const n = await ns('get-select');
      const objs: Array<[string, string]> = [
        ['a', 'env=prod,tier=web'],
        ['b', 'env=dev,tier=web'],
        ['c', 'env=test'],
        ['d', 'other=x'],
      ];
      for (const [name, labels] of objs) {
        await k(['-n', n, 'create', 'configmap', name]);
        await k(['-n', n, 'label', 'configmap', name, ...labels.split(',')]);
      }
      const sel = async (s: string) => names((await k(['-n', n, 'get', 'cm', '-l', s, '-o', 'name'])).stdout).map((x) => x.split('/')[1]);
      assert.deepEqual(await sel('env=prod'), ['a']);
      assert.deepEqual(await sel('env!=prod'), ['b', 'c', 'd']);
      assert.deepEqual(await sel('env in (prod,dev)'), ['a', 'b']);
      assert.deepEqual(await sel('env notin (prod,dev)'), ['c', 'd']);
      assert.deepEqual(await sel('tier'), ['a', 'b']);
      assert.deepEqual(await sel('!tier'), ['c', 'd']);
      assert.deepEqual(await sel('env,!tier'), ['c']);
      assert.deepEqual(await sel('tier=web,env in (dev)'), ['b']);
      const fs = await k(['get', 'cm', '-A', '--field-selector', 'metadata.name=c', '-o', 'name']);
      assert.deepEqual(names(fs.stdout), ['configmap/c']);
      const fs2 = await k(['-n', n, 'get', 'cm', '--field-selector', 'metadata.name!=a,metadata.namespace=' + n, '-l', 'env', '-o', 'name']);
      assert.deepEqual(names(fs2.stdout), ['configmap/b', 'configmap/c']);
      const bad = await kFail(['-n', n, 'get', 'cm', '--field-selector', 'data.k=v']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /field label not supported: data\.k/);
    });

    test('get all and get events', async () => {
      const all = (await k(['-n', 'shop', 'get', 'all'])).stdout;
      assert.match(all, /service\/web\s+ClusterIP/);
      assert.match(all, /deployment\.apps\/web\s+\d\/2\s/);
      assert.doesNotMatch(all, /configmap/, 'configmaps are not in the "all" category');

      const n = await ns('get-events');
      const ev = `apiVersion: v1
kind: Event
metadata:
  name: ev1
  namespace: ${n}
involvedObject:
  kind: Pod
  name: p1
  namespace: ${n}
reason: Testing
message: hello world
type: Warning
`;
      await k(['create', '-f', '-'], { input: ev });
      const t = table((await k(['-n', n, 'get', 'events'])).stdout);
      assert.deepEqual(t[0], ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
      assert.deepEqual(t[1]!.slice(1), ['Warning', 'Testing', 'pod/p1', 'hello world']);
    });

    test('get -w streams changes as they happen', async () => {
      const n = await ns('get-watch');
      await k(['-n', n, 'create', 'configmap', 'before']);
      const w = background(KUBECTL, ['-n', n, 'get', 'cm', '-w'], { ...process.env, KUBECONFIG: cluster.kubeconfig });
      try {
        await w.waitFor((out) => /^before\s+0\s/m.test(out));
        await k(['-n', n, 'create', 'configmap', 'during', '--from-literal=a=b']);
        await w.waitFor((out) => /^during\s+1\s/m.test(out));
        await k(['-n', n, 'patch', 'configmap', 'during', '--type', 'merge', '-p', '{"data":{"c":"d"}}']);
        await w.waitFor((out) => /^during\s+2\s/m.test(out));
        await k(['-n', n, 'delete', 'configmap', 'before']);
        await w.waitFor((out) => out.match(/^before\s/gm)!.length >= 2);
        assert.match(w.stdout(), /^NAME\s+DATA\s+AGE/);
      } finally {
        await w.stop();
      }
    });
  });

  describe('describe', () => {
    test('deployment', async () => {
      const out = (await k(['-n', 'shop', 'describe', 'deployment', 'web'])).stdout;
      assert.match(out, /^Name:\s+web$/m);
      assert.match(out, /^Namespace:\s+shop$/m);
      assert.match(out, /^Selector:\s+app=web$/m);
      assert.match(out, /^Replicas:\s+2 desired/m);
      assert.match(out, /^StrategyType:\s+RollingUpdate$/m);
      assert.match(out, /^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$/m);
      assert.match(out, /Image:\s+nginx:1\.26/);
      assert.match(out, /MODE:\s+prod/);
    });

    test('namespace', async () => {
      const out = (await k(['describe', 'namespace', 'shop'])).stdout;
      assert.match(out, /^Name:\s+shop$/m);
      assert.match(out, /^Labels:\s+kubernetes\.io\/metadata\.name=shop$/m);
      assert.match(out, /^Status:\s+Active$/m);
    });

    test('pod', async () => {
      const n = await ns('describe-pod');
      await k(['-n', n, 'run', 'p1', '--image=busybox:1.36', '--labels=app=x', '--', 'sleep', '100']);
      const out = (await k(['-n', n, 'describe', 'pod', 'p1'])).stdout;
      assert.match(out, /^Name:\s+p1$/m);
      assert.match(out, /^Namespace:\s+describe-pod$/m);
      assert.match(out, /^Labels:\s+app=x$/m);
      assert.match(out, /^Status:\s+Pending$/m);
      assert.match(out, /^QoS Class:\s+BestEffort$/m);
      assert.match(out, /Image:\s+busybox:1\.36/);
      assert.match(out, /Tolerations:\s+node\.kubernetes\.io\/not-ready:NoExecute op=Exists for 300s/);
    });
  });

  describe('edit, label, annotate, patch, scale', () => {
    test('edit with a non-interactive editor', async () => {
      const n = await ns('edit');
      await k(['-n', n, 'create', 'configmap', 'e', '--from-literal=color=blue']);
      const res = await k(['-n', n, 'edit', 'configmap', 'e'], { env: { EDITOR: 'sed -i s/blue/green/', KUBE_EDITOR: '' } });
      assert.match(res.stdout, /configmap\/e edited/);
      assert.equal((await k(['-n', n, 'get', 'cm', 'e', '-o', 'jsonpath={.data.color}'])).stdout, 'green');
      // An editor that changes nothing cancels the edit.
      const noop = await k(['-n', n, 'edit', 'configmap', 'e'], { env: { EDITOR: 'true', KUBE_EDITOR: '' } });
      assert.match(noop.stdout + noop.stderr, /Edit cancelled, no changes made/);
    });

    test('label and annotate, with --overwrite and key- removal', async () => {
      const n = await ns('label');
      await k(['-n', n, 'create', 'configmap', 'l']);
      await k(['-n', n, 'label', 'cm', 'l', 'env=dev']);
      const clash = await kFail(['-n', n, 'label', 'cm', 'l', 'env=prod']);
      assert.notEqual(clash.code, 0);
      assert.match(clash.stderr, /'env' already has a value \(dev\), and --overwrite is false/);
      await k(['-n', n, 'label', 'cm', 'l', 'env=prod', '--overwrite']);
      await k(['-n', n, 'annotate', 'cm', 'l', 'note=hi', 'other=x']);
      await k(['-n', n, 'annotate', 'cm', 'l', 'note=ho', '--overwrite']);
      let meta = JSON.parse((await k(['-n', n, 'get', 'cm', 'l', '-o', 'json'])).stdout).metadata;
      assert.deepEqual(meta.labels, { env: 'prod' });
      assert.deepEqual(meta.annotations, { note: 'ho', other: 'x' });
      await k(['-n', n, 'label', 'cm', 'l', 'env-']);
      await k(['-n', n, 'annotate', 'cm', 'l', 'note-']);
      meta = JSON.parse((await k(['-n', n, 'get', 'cm', 'l', '-o', 'json'])).stdout).metadata;
      assert.equal(meta.labels?.env, undefined);
      assert.deepEqual(meta.annotations, { other: 'x' });
      const badLabel = await kFail(['-n', n, 'label', 'cm', 'l', 'bad key=x']);
      assert.notEqual(badLabel.code, 0);
    });

    test('patch: strategic (default), merge and json', async () => {
      const n = await ns('patch');
      await k(['-n', n, 'create', 'deployment', 'd', '--image=nginx:1', '--port=80']);
      // Strategic merge: the containers list merges by name, so the port survives.
      await k(['-n', n, 'patch', 'deploy', 'd', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:2"}]}}}}']);
      let c = JSON.parse((await k(['-n', n, 'get', 'deploy', 'd', '-o', 'json'])).stdout).spec.template.spec.containers;
      assert.equal(c.length, 1);
      assert.equal(c[0].image, 'nginx:2');
      assert.deepEqual(c[0].ports, [{ containerPort: 80, protocol: 'TCP' }]);
      // Merge patch replaces lists wholesale.
      await k(['-n', n, 'patch', 'deploy', 'd', '--type', 'merge', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"busybox"}]}}}}']);
      c = JSON.parse((await k(['-n', n, 'get', 'deploy', 'd', '-o', 'json'])).stdout).spec.template.spec.containers;
      assert.equal(c.length, 1);
      assert.equal(c[0].name, 'only');
      assert.equal(c[0].ports, undefined);
      // JSON patch with test + replace; a failing test op is rejected.
      await k(['-n', n, 'patch', 'deploy', 'd', '--type', 'json', '-p', '[{"op":"test","path":"/spec/replicas","value":1},{"op":"replace","path":"/spec/replicas","value":3}]']);
      assert.equal((await k(['-n', n, 'get', 'deploy', 'd', '-o', 'jsonpath={.spec.replicas}'])).stdout, '3');
      const failed = await kFail(['-n', n, 'patch', 'deploy', 'd', '--type', 'json', '-p', '[{"op":"test","path":"/spec/replicas","value":9}]']);
      assert.notEqual(failed.code, 0);
      // A strategic patch can delete a list element with $patch: delete.
      await k(['-n', n, 'patch', 'deploy', 'd', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"second","image":"b"}]}}}}']);
      await k(['-n', n, 'patch', 'deploy', 'd', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"only","$patch":"delete"}]}}}}']);
      c = JSON.parse((await k(['-n', n, 'get', 'deploy', 'd', '-o', 'json'])).stdout).spec.template.spec.containers;
      assert.deepEqual(c.map((x: { name: string }) => x.name), ['second']);
    });

    test('scale, with a --current-replicas precondition', async () => {
      const n = await ns('scale');
      await k(['-n', n, 'create', 'deployment', 's', '--image=nginx', '--replicas=2']);
      assert.match((await k(['-n', n, 'scale', 'deploy', 's', '--replicas=3'])).stdout, /deployment\.apps\/s scaled/);
      const stale = await kFail(['-n', n, 'scale', 'deploy', 's', '--replicas=5', '--current-replicas=2']);
      assert.notEqual(stale.code, 0);
      assert.match(stale.stderr, /Expected replicas to be 2, was 3/);
      await k(['-n', n, 'scale', 'deploy', 's', '--replicas=5', '--current-replicas=3']);
      const dep = JSON.parse((await k(['-n', n, 'get', 'deploy', 's', '-o', 'json'])).stdout);
      assert.equal(dep.spec.replicas, 5);
      const scale = JSON.parse((await k(['get', '--raw', `/apis/apps/v1/namespaces/${n}/deployments/s/scale`])).stdout);
      assert.equal(scale.kind, 'Scale');
      assert.equal(scale.spec.replicas, 5);
      assert.equal(scale.status.selector, 'app=s');
    });
  });

  describe('delete', () => {
    test('by name, by -l selector and --all', async () => {
      const n = await ns('delete');
      for (const name of ['a', 'b', 'c', 'd']) await k(['-n', n, 'create', 'configmap', name]);
      await k(['-n', n, 'label', 'cm', 'b', 'c', 'gone=yes']);
      assert.match((await k(['-n', n, 'delete', 'cm', 'a'])).stdout, /configmap "a" deleted/);
      const bySel = await k(['-n', n, 'delete', 'cm', '-l', 'gone=yes']);
      assert.deepEqual(names(bySel.stdout), ['configmap "b" deleted', 'configmap "c" deleted']);
      assert.deepEqual(names((await k(['-n', n, 'get', 'cm', '-o', 'name'])).stdout), ['configmap/d']);
      await k(['-n', n, 'create', 'configmap', 'e']);
      await k(['-n', n, 'delete', 'cm', '--all']);
      const left = await k(['-n', n, 'get', 'cm', '-o', 'name']);
      assert.deepEqual(names(left.stdout), []);
      const missing = await kFail(['-n', n, 'delete', 'cm', 'a']);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /Error from server \(NotFound\): configmaps "a" not found/);
    });

    test('a deleted namespace is Terminating and refuses new content', async () => {
      // Removing the contents and the namespace itself is the namespace controller's job (not part
      // of the API server), so this only checks what the API server does on its own.
      const n = await ns('delete-ns');
      await k(['-n', n, 'create', 'configmap', 'x']);
      // Keep the namespace from being removed (if a namespace controller runs) while we look at it.
      await k(['patch', 'ns', n, '--type', 'merge', '-p', '{"metadata":{"finalizers":["e2e.mizzen.dev/hold"]}}']);
      await k(['delete', 'namespace', n, '--wait=false']);
      const obj = JSON.parse((await k(['get', 'ns', n, '-o', 'json'])).stdout);
      assert.equal(obj.status.phase, 'Terminating');
      assert.ok(obj.metadata.deletionTimestamp);
      const create = await kFail(['-n', n, 'create', 'configmap', 'y']);
      assert.notEqual(create.code, 0);
      assert.match(create.stderr, /configmaps "y" is forbidden: unable to create new content in namespace delete-ns because it is being terminated/);
      await k(['patch', 'ns', n, '--type', 'json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
      const missing = await kFail(['-n', 'no-such-namespace', 'create', 'configmap', 'y']);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /namespaces "no-such-namespace" not found/);
    });
  });

  describe('create generators', () => {
    test('namespace, configmap (--from-literal, --from-file), secret generic, deployment, service, job, cronjob', async () => {
      const n = await ns('create');
      const file = join(scratch, 'greeting.txt');
      await writeFile(file, 'hello\n');
      await k(['-n', n, 'create', 'configmap', 'cm', '--from-literal=a=1', `--from-file=${file}`]);
      const cm = JSON.parse((await k(['-n', n, 'get', 'cm', 'cm', '-o', 'json'])).stdout);
      assert.deepEqual(cm.data, { a: '1', 'greeting.txt': 'hello\n' });

      await k(['-n', n, 'create', 'secret', 'generic', 's', '--from-literal=password=s3cret']);
      const s = JSON.parse((await k(['-n', n, 'get', 'secret', 's', '-o', 'json'])).stdout);
      assert.equal(s.type, 'Opaque');
      assert.equal(Buffer.from(s.data.password, 'base64').toString(), 's3cret');

      await k(['-n', n, 'create', 'deployment', 'd', '--image=nginx', '--replicas=2']);
      const d = JSON.parse((await k(['-n', n, 'get', 'deploy', 'd', '-o', 'json'])).stdout);
      assert.equal(d.spec.replicas, 2);
      assert.deepEqual(d.spec.selector, { matchLabels: { app: 'd' } });
      // Defaults applied by the server.
      assert.equal(d.spec.strategy.type, 'RollingUpdate');
      assert.equal(d.spec.revisionHistoryLimit, 10);
      assert.equal(d.spec.progressDeadlineSeconds, 600);
      assert.equal(d.spec.template.spec.restartPolicy, 'Always');
      assert.equal(d.spec.template.spec.containers[0].terminationMessagePath, '/dev/termination-log');
      assert.equal(d.spec.template.spec.containers[0].imagePullPolicy, 'Always');

      await k(['-n', n, 'create', 'service', 'clusterip', 'svc', '--tcp=80:8080']);
      const svc = JSON.parse((await k(['-n', n, 'get', 'svc', 'svc', '-o', 'json'])).stdout);
      assert.equal(svc.spec.type, 'ClusterIP');
      assert.match(svc.spec.clusterIP, /^\d+\.\d+\.\d+\.\d+$/);
      assert.deepEqual(svc.spec.clusterIPs, [svc.spec.clusterIP]);
      assert.equal(svc.spec.ports[0].targetPort, 8080);
      assert.equal(svc.spec.sessionAffinity, 'None');

      await k(['-n', n, 'create', 'job', 'j', '--image=busybox', '--', 'echo', 'hi']);
      const j = JSON.parse((await k(['-n', n, 'get', 'job', 'j', '-o', 'json'])).stdout);
      assert.equal(j.spec.template.spec.restartPolicy, 'Never');
      assert.equal(j.spec.backoffLimit, 6);
      assert.ok(j.spec.selector?.matchLabels?.['batch.kubernetes.io/controller-uid'], 'the job selector is generated');

      await k(['-n', n, 'create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/5 * * * *', '--', 'echo', 'hi']);
      const cj = JSON.parse((await k(['-n', n, 'get', 'cronjob', 'cj', '-o', 'json'])).stdout);
      assert.equal(cj.spec.schedule, '*/5 * * * *');
      assert.equal(cj.spec.concurrencyPolicy, 'Allow');
      const badCron = await kFail(['-n', n, 'create', 'cronjob', 'bad', '--image=busybox', '--schedule=not a schedule']);
      assert.notEqual(badCron.code, 0);
      assert.match(badCron.stderr, /spec\.schedule/);
    });

    test('role, rolebinding, priorityclass, quota, serviceaccount', async () => {
      const n = await ns('create-misc');
      await k(['-n', n, 'create', 'role', 'r', '--verb=get,list', '--resource=pods']);
      const r = JSON.parse((await k(['-n', n, 'get', 'role', 'r', '-o', 'json'])).stdout);
      assert.deepEqual(r.rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]);
      await k(['-n', n, 'create', 'rolebinding', 'rb', '--role=r', '--user=bob']);
      const rb = JSON.parse((await k(['-n', n, 'get', 'rolebinding', 'rb', '-o', 'json'])).stdout);
      assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' });
      await k(['create', 'priorityclass', 'e2e-high', '--value=1000', '--description=important']);
      const pc = table((await k(['get', 'priorityclass', 'e2e-high'])).stdout);
      assert.deepEqual(pc[0], ['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY']);
      assert.deepEqual(pc[1]!.slice(0, 3), ['e2e-high', '1000', 'false']);
      await k(['-n', n, 'create', 'quota', 'q', '--hard=pods=10,requests.cpu=2']);
      const q = JSON.parse((await k(['-n', n, 'get', 'quota', 'q', '-o', 'json'])).stdout);
      assert.deepEqual(q.spec.hard, { pods: '10', 'requests.cpu': '2' });
      await k(['-n', n, 'create', 'serviceaccount', 'robot']);
      assert.deepEqual(names((await k(['-n', n, 'get', 'sa', 'robot', '-o', 'name'])).stdout), ['serviceaccount/robot']);
    });

    test('--dry-run=server returns the object and does not persist it', async () => {
      const n = await ns('dry-run');
      const res = await k(['-n', n, 'create', 'configmap', 'dry', '--from-literal=a=1', '--dry-run=server', '-o', 'yaml']);
      assert.match(res.stdout, /name: dry/);
      assert.match(res.stdout, /uid: /);
      assert.match(res.stdout, /creationTimestamp: /);
      const get = await kFail(['-n', n, 'get', 'cm', 'dry']);
      assert.notEqual(get.code, 0);
      assert.match(get.stderr, /configmaps "dry" not found/);
      // Dry-run delete leaves the object in place.
      await k(['-n', n, 'create', 'configmap', 'keep']);
      await k(['-n', n, 'delete', 'cm', 'keep', '--dry-run=server']);
      await k(['-n', n, 'get', 'cm', 'keep']);
    });

    test('generateName via create -f', async () => {
      const n = await ns('generate-name');
      const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-\n  namespace: ${n}\n`;
      const a = (await k(['create', '-f', '-', '-o', 'name'], { input: manifest })).stdout.trim();
      const b = (await k(['create', '-f', '-', '-o', 'name'], { input: manifest })).stdout.trim();
      assert.match(a, /^configmap\/gen-[a-z0-9]{5}$/);
      assert.match(b, /^configmap\/gen-[a-z0-9]{5}$/);
      assert.notEqual(a, b);
      const obj = JSON.parse((await k(['-n', n, 'get', a, '-o', 'json'])).stdout);
      assert.equal(obj.metadata.generateName, 'gen-');
    });
  });

  describe('discovery and explain', () => {
    test('explain deployment.spec.strategy', async () => {
      const out = (await k(['explain', 'deployment.spec.strategy'])).stdout;
      assert.match(out, /^GROUP:\s+apps$/m);
      assert.match(out, /^KIND:\s+Deployment$/m);
      assert.match(out, /^VERSION:\s+v1$/m);
      assert.match(out, /^FIELD: strategy <DeploymentStrategy>$/m);
      assert.match(out, /^ {2}rollingUpdate\t<RollingUpdateDeployment>$/m);
      assert.match(out, /^ {2}type\t<string>$/m);
    });

    test('explain describes the field and each field under it', async () => {
      // Field texts come from @kubernetes/client-node, which has none of its own for fields that
      // refer to another type: those show the type's description (see docs/design.md).
      const out = (await k(['explain', 'deployment.spec.strategy'])).stdout;
      assert.match(out, /DESCRIPTION:\n {4}DeploymentStrategy describes how to replace existing pods with new ones\./);
      assert.match(out, /^ {2}rollingUpdate\t<RollingUpdateDeployment>\n {4}\S/m);
      assert.doesNotMatch(out, /<no description>/);
    });

    test('explain pods.spec.containers.resources', async () => {
      const out = (await k(['explain', 'pods.spec.containers.resources'])).stdout;
      assert.match(out, /^KIND:\s+Pod$/m);
      assert.match(out, /^FIELD: resources <ResourceRequirements>$/m);
      assert.match(out, /^ {2}limits\t<map\[string\]Quantity>$/m);
      assert.match(out, /^ {2}requests\t<map\[string\]Quantity>$/m);
    });

    test('api-resources: short names, namespaced column and kinds', async () => {
      const rows = table((await k(['api-resources'])).stdout);
      assert.deepEqual(rows[0], ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
      const find = (name: string, apiVersion: string) => {
        const r = rows.find((x) => x[0] === name && x.includes(apiVersion));
        assert.ok(r, `${name} ${apiVersion} missing from api-resources`);
        return r.length === 5 ? r : [r[0], '', ...r.slice(1)];
      };
      assert.deepEqual(find('pods', 'v1'), ['pods', 'po', 'v1', 'true', 'Pod']);
      assert.deepEqual(find('namespaces', 'v1'), ['namespaces', 'ns', 'v1', 'false', 'Namespace']);
      assert.deepEqual(find('deployments', 'apps/v1'), ['deployments', 'deploy', 'apps/v1', 'true', 'Deployment']);
      assert.deepEqual(find('services', 'v1'), ['services', 'svc', 'v1', 'true', 'Service']);
      assert.deepEqual(find('cronjobs', 'batch/v1'), ['cronjobs', 'cj', 'batch/v1', 'true', 'CronJob']);
      assert.deepEqual(find('priorityclasses', 'scheduling.k8s.io/v1'), ['priorityclasses', 'pc', 'scheduling.k8s.io/v1', 'false', 'PriorityClass']);
      assert.deepEqual(find('nodes', 'v1'), ['nodes', 'no', 'v1', 'false', 'Node']);
      assert.deepEqual(find('clusterroles', 'rbac.authorization.k8s.io/v1'), ['clusterroles', '', 'rbac.authorization.k8s.io/v1', 'false', 'ClusterRole']);
      const nsOnly = names((await k(['api-resources', '--namespaced=false', '-o', 'name'])).stdout);
      assert.ok(nsOnly.includes('namespaces') && nsOnly.includes('nodes') && !nsOnly.includes('pods'));
      const wide = (await k(['api-resources', '-o', 'wide'])).stdout;
      assert.match(wide, /^pods\s+po\s+v1\s+true\s+Pod\s+create,delete,deletecollection,get,list,patch,update,watch\s+all$/m);
    });

    test('api-versions', async () => {
      const v = names((await k(['api-versions'])).stdout);
      for (const gv of ['v1', 'apps/v1', 'batch/v1', 'coordination.k8s.io/v1', 'discovery.k8s.io/v1', 'events.k8s.io/v1', 'policy/v1', 'rbac.authorization.k8s.io/v1', 'scheduling.k8s.io/v1']) {
        assert.ok(v.includes(gv), `${gv} missing from api-versions:\n${v.join('\n')}`);
      }
    });

    test('get --raw /version and kubectl version', async () => {
      const raw = JSON.parse((await k(['get', '--raw', '/version'])).stdout);
      assert.equal(raw.major, '1');
      assert.equal(raw.minor, '32');
      assert.match(raw.gitVersion, /^v1\.32\.\d+/);
      const v = JSON.parse((await k(['version', '-o', 'json'])).stdout);
      assert.match(v.serverVersion.gitVersion, /^v1\.32\.\d+/);
      assert.match(v.clientVersion.gitVersion, /^v1\.32\./);
      for (const p of ['/healthz', '/livez', '/readyz']) assert.equal((await k(['get', '--raw', p])).stdout, 'ok');
    });
  });

  describe('wait', () => {
    test('--for=jsonpath and --for=delete', async () => {
      const n = await ns('wait');
      await k(['-n', n, 'create', 'configmap', 'w', '--from-literal=state=old']);
      const waiting = k(['-n', n, 'wait', 'cm/w', '--for=jsonpath={.data.state}=ready', '--timeout=20s']);
      await k(['-n', n, 'patch', 'cm', 'w', '--type', 'merge', '-p', '{"data":{"state":"ready"}}']);
      assert.match((await waiting).stdout, /configmap\/w condition met/);

      const deleting = k(['-n', n, 'wait', 'cm/w', '--for=delete', '--timeout=20s']);
      await k(['-n', n, 'delete', 'cm', 'w', '--wait=false']);
      await deleting;
      const timedOut = await kFail(['-n', n, 'wait', 'ns', n, '--for=jsonpath={.status.phase}=Nope', '--timeout=1s']);
      assert.notEqual(timedOut.code, 0);
      assert.match(timedOut.stderr, /timed out waiting for the condition/);
    });
  });

  describe('errors', () => {
    test('replace with a stale resourceVersion is a Conflict', async () => {
      const n = await ns('conflict');
      await k(['-n', n, 'create', 'configmap', 'c', '--from-literal=a=1']);
      const stale = (await k(['-n', n, 'get', 'cm', 'c', '-o', 'yaml'])).stdout;
      await k(['-n', n, 'label', 'cm', 'c', 'bump=1']);
      const res = await kFail(['replace', '-f', '-'], { input: stale });
      assert.notEqual(res.code, 0);
      assert.match(
        res.stderr,
        /Error from server \(Conflict\).*Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again/,
      );
      // Without a resourceVersion the replace is unconditional.
      await k(['replace', '-f', '-'], { input: stale.replace(/\n {2}resourceVersion: .*\n/, '\n') });
    });

    test('strict validation rejects unknown fields; --validate=false accepts them', async () => {
      const n = await ns('validate');
      const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: odd
  namespace: ${n}
spec:
  replicas: 1
  bogusField: 3
  selector:
    matchLabels: {app: odd}
  template:
    metadata:
      labels: {app: odd}
    spec:
      containers:
      - name: c
        image: nginx
        imagePullPolcy: Always
`;
      const strict = await kFail(['apply', '-f', '-'], { input: manifest });
      assert.notEqual(strict.code, 0);
      assert.match(strict.stderr, /Error from server \(BadRequest\)/);
      assert.match(strict.stderr, /unknown field "spec\.bogusField"/);
      assert.match(strict.stderr, /unknown field "spec\.template\.spec\.containers\[0\]\.imagePullPolcy"/);
      await kFail(['-n', n, 'get', 'deploy', 'odd']).then((r) => assert.notEqual(r.code, 0));

      const warn = await k(['apply', '--validate=warn', '--dry-run=server', '-f', '-'], { input: manifest });
      assert.match(warn.stderr, /Warning: unknown field "spec\.bogusField"/);

      const loose = await k(['apply', '--validate=false', '-f', '-'], { input: manifest });
      assert.match(loose.stdout, /deployment\.apps\/odd created/);
      const stored = JSON.parse((await k(['-n', n, 'get', 'deploy', 'odd', '-o', 'json'])).stdout);
      assert.equal(stored.spec.bogusField, undefined, 'unknown fields are dropped');
    });

    test('an invalid name is Invalid and names the field', async () => {
      const n = await ns('invalid');
      const res = await kFail(['-n', n, 'create', 'configmap', 'Bad_Name']);
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
      const dep = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: mismatch
  namespace: ${n}
spec:
  selector:
    matchLabels: {app: one}
  template:
    metadata:
      labels: {app: two}
    spec:
      containers:
      - name: c
        image: nginx
`;
      const bad = await kFail(['create', '-f', '-'], { input: dep });
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /The Deployment "mismatch" is invalid: /);
      assert.match(bad.stderr, /spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`/);
    });

    test('a duplicate NodePort is rejected', async () => {
      const n = await ns('nodeport');
      await k(['-n', n, 'create', 'service', 'nodeport', 'np1', '--tcp=80:80', '--node-port=30080']);
      const dup = await kFail(['-n', n, 'create', 'service', 'nodeport', 'np2', '--tcp=80:80', '--node-port=30080']);
      assert.notEqual(dup.code, 0);
      assert.match(dup.stderr, /spec\.ports\[0\]\.nodePort: Invalid value: 30080: provided port is already allocated/);
      const out = await kFail(['-n', n, 'create', 'service', 'nodeport', 'np3', '--tcp=80:80', '--node-port=80']);
      assert.notEqual(out.code, 0);
      assert.match(out.stderr, /spec\.ports\[0\]\.nodePort: Invalid value: 80: provided port is not in the valid range\. The range of valid ports is 30000-32767/);
      // Deleting the first service frees its port.
      await k(['-n', n, 'delete', 'svc', 'np1']);
      await k(['-n', n, 'create', 'service', 'nodeport', 'np2', '--tcp=80:80', '--node-port=30080']);
    });

    test('finalizers hold deletion until they are removed', async () => {
      const n = await ns('finalizers');
      const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  namespace: ${n}\n  finalizers: [example.com/keep]\n`;
      await k(['create', '-f', '-'], { input: manifest });
      await k(['-n', n, 'delete', 'cm', 'held', '--wait=false']);
      const obj = JSON.parse((await k(['-n', n, 'get', 'cm', 'held', '-o', 'json'])).stdout);
      assert.ok(obj.metadata.deletionTimestamp, 'deletionTimestamp is set');
      assert.deepEqual(obj.metadata.finalizers, ['example.com/keep']);
      // While terminating, new finalizers cannot be added but the object is otherwise editable.
      await k(['-n', n, 'patch', 'cm', 'held', '--type', 'merge', '-p', '{"metadata":{"finalizers":null}}']);
      await eventually(async () => (await kFail(['-n', n, 'get', 'cm', 'held'])).code !== 0, { what: 'finalized configmap to disappear' });
    });
  });
});
