// @kubernetes/client-node 1.x against a real `mizzen up`: typed CRUD, pagination, selectors, the
// Watch API and an informer that survives a server restart.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { readFile } from 'node:fs/promises';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  Watch,
  makeInformer,
  setHeaderOptions,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { startCluster, type Cluster } from './harness.ts';
import { eventually } from './poll.ts';

interface WatchEvent {
  type: string;
  object: { kind?: string; code?: number; message?: string; reason?: string; metadata?: { name?: string; resourceVersion?: string }; data?: Record<string, string> };
}

/** Admin TLS material from the kubeconfig, for requests the client library cannot make. */
interface Tls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

async function tlsFromKubeconfig(path: string): Promise<Tls> {
  const cfg = parseYaml(await readFile(path, 'utf8'));
  const b = (s: string) => Buffer.from(s, 'base64');
  return {
    ca: b(cfg.clusters[0].cluster['certificate-authority-data']),
    cert: b(cfg.users[0].user['client-certificate-data']),
    key: b(cfg.users[0].user['client-key-data']),
  };
}

/** Read a raw watch stream until `enough` says so (or the server ends it), then hang up. */
function rawWatch(url: string, tls: Tls, enough: (events: WatchEvent[]) => boolean): Promise<{ status: number; events: WatchEvent[]; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, method: 'GET', headers: { Accept: 'application/json' } }, (res) => {
      let buf = '';
      const events: WatchEvent[] = [];
      const finish = () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, events, body: buf });
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        if (res.statusCode !== 200) return;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) events.push(JSON.parse(line) as WatchEvent);
        }
        if (enough(events)) finish();
      });
      res.on('end', finish);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('@kubernetes/client-node against mizzen', () => {
  let cluster: Cluster;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let tls: Tls;
  const NS = 'client-node';

  const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): V1ConfigMap => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels },
    data,
  });

  before(async () => {
    cluster = await startCluster();
    kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    tls = await tlsFromKubeconfig(cluster.kubeconfig);
    await core.createNamespace({ body: { metadata: { name: NS } } });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('CoreV1Api: create, read, list, replace, patch and delete a configmap', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: cm('crud', { a: '1' }, { app: 'crud' }) });
    assert.equal(created.metadata?.name, 'crud');
    assert.match(created.metadata?.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.ok(created.metadata?.creationTimestamp instanceof Date, 'timestamps deserialize as dates');

    const read = await core.readNamespacedConfigMap({ namespace: NS, name: 'crud' });
    assert.deepEqual(read.data, { a: '1' });

    const list = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'app=crud' });
    assert.deepEqual(list.items.map((i) => i.metadata?.name), ['crud']);
    assert.match(list.metadata?.resourceVersion ?? '', /^\d+$/);

    read.data = { a: '2' };
    const replaced = await core.replaceNamespacedConfigMap({ namespace: NS, name: 'crud', body: read });
    assert.deepEqual(replaced.data, { a: '2' });
    assert.ok(Number(replaced.metadata?.resourceVersion) > Number(read.metadata?.resourceVersion));

    // Replacing with the old resourceVersion again is a conflict.
    await assert.rejects(core.replaceNamespacedConfigMap({ namespace: NS, name: 'crud', body: read }), (err: unknown) => {
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 409);
      const status = JSON.parse(err.body as string);
      assert.equal(status.reason, 'Conflict');
      return true;
    });

    // The generated client sends JSON patch by default; merge patch via the Content-Type header.
    const jp = await core.patchNamespacedConfigMap({ namespace: NS, name: 'crud', body: [{ op: 'add', path: '/data/b', value: 'x' }] });
    assert.deepEqual(jp.data, { a: '2', b: 'x' });
    const mp = await core.patchNamespacedConfigMap(
      { namespace: NS, name: 'crud', body: { data: { a: null, c: 'y' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(mp.data, { b: 'x', c: 'y' });
    const smp = await core.patchNamespacedConfigMap(
      { namespace: NS, name: 'crud', body: { metadata: { labels: { extra: 'yes' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(smp.metadata?.labels, { app: 'crud', extra: 'yes' });

    const deleted = await core.deleteNamespacedConfigMap({ namespace: NS, name: 'crud' });
    assert.ok(deleted);
    await assert.rejects(core.readNamespacedConfigMap({ namespace: NS, name: 'crud' }), (err: unknown) => {
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 404);
      const status = JSON.parse(err.body as string);
      assert.equal(status.kind, 'Status');
      assert.equal(status.reason, 'NotFound');
      assert.equal(status.message, 'configmaps "crud" not found');
      assert.equal(status.details.name, 'crud');
      assert.equal(status.details.kind, 'configmaps');
      return true;
    });
  });

  test('server-side apply through the client library: create, conflict, force', async () => {
    const applyHeader = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
    const created = await core.patchNamespacedConfigMap({ namespace: NS, name: 'applied', body: cm('applied', { a: '1' }), fieldManager: 'client-node' }, applyHeader);
    assert.deepEqual(created.data, { a: '1' });
    assert.deepEqual(
      created.metadata?.managedFields?.map((e) => [e.manager, e.operation]),
      [['client-node', 'Apply']],
    );
    await assert.rejects(
      core.patchNamespacedConfigMap({ namespace: NS, name: 'applied', body: cm('applied', { a: '2' }), fieldManager: 'other' }, applyHeader),
      (err: unknown) => {
        assert.ok(err instanceof ApiException);
        assert.equal(err.code, 409);
        const status = JSON.parse(err.body as string);
        assert.equal(status.message, 'Apply failed with 1 conflict: conflict with "client-node": .data.a');
        assert.equal(status.details.causes[0].reason, 'FieldManagerConflict');
        return true;
      },
    );
    const forced = await core.patchNamespacedConfigMap({ namespace: NS, name: 'applied', body: cm('applied', { a: '2' }), fieldManager: 'other', force: true }, applyHeader);
    assert.deepEqual(forced.data, { a: '2' });
  });

  test('AppsV1Api: create and read a deployment, with server defaults', async () => {
    const body = {
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
      },
    };
    const created = await apps.createNamespacedDeployment({ namespace: NS, body });
    assert.equal(created.metadata?.generation, 1);
    const read = await apps.readNamespacedDeployment({ namespace: NS, name: 'web' });
    assert.equal(read.spec?.replicas, 2);
    assert.equal(read.spec?.strategy?.type, 'RollingUpdate');
    assert.equal(read.spec?.template.spec?.containers[0]?.ports?.[0]?.protocol, 'TCP');
    assert.equal(read.spec?.template.spec?.dnsPolicy, 'ClusterFirst');
    const scale = await apps.readNamespacedDeploymentScale({ namespace: NS, name: 'web' });
    assert.equal(scale.spec?.replicas, 2);
  });

  test('pagination: limit + continue walks 25 configmaps in pages of 10', async () => {
    const ns = 'paging';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    for (let i = 0; i < 25; i++) {
      await core.createNamespacedConfigMap({ namespace: ns, body: cm(`page-${String(i).padStart(2, '0')}`, {}, { paged: 'yes', parity: i % 2 ? 'odd' : 'even' }) });
    }
    const walk = async (labelSelector?: string) => {
      const seen: string[] = [];
      const sizes: number[] = [];
      const remaining: Array<number | undefined> = [];
      let cont: string | undefined;
      let firstRV: string | undefined;
      do {
        const page = await core.listNamespacedConfigMap({ namespace: ns, limit: 10, _continue: cont, labelSelector });
        sizes.push(page.items.length);
        seen.push(...page.items.map((i) => i.metadata!.name!));
        firstRV ??= page.metadata?.resourceVersion;
        // Every page is served at the snapshot of the first one.
        assert.equal(page.metadata?.resourceVersion, firstRV);
        cont = page.metadata?._continue || undefined;
        remaining.push(page.metadata?.remainingItemCount);
      } while (cont);
      return { seen, sizes, remaining };
    };
    const expected = Array.from({ length: 25 }, (_, i) => `page-${String(i).padStart(2, '0')}`);

    // With a selector the server cannot know how many remain, so remainingItemCount is unset.
    const sel = await walk('paged=yes');
    assert.deepEqual(sel.sizes, [10, 10, 5]);
    assert.deepEqual(sel.seen, expected);
    assert.deepEqual(sel.remaining, [undefined, undefined, undefined]);

    // Without one it counts what is left (a controller may have added a root CA configmap).
    const all = await walk();
    const total = all.seen.length;
    assert.deepEqual(all.seen.filter((n) => n.startsWith('page-')), expected);
    assert.deepEqual(all.sizes.slice(0, -1), all.sizes.slice(0, -1).map(() => 10));
    assert.deepEqual(all.remaining, all.sizes.map((_, i) => (i === all.sizes.length - 1 ? undefined : total - 10 * (i + 1))));

    // A continue token that is not one of ours is a 400.
    await assert.rejects(core.listNamespacedConfigMap({ namespace: ns, limit: 10, _continue: 'not-a-token' }), (err: unknown) => {
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 400);
      return true;
    });

    const odd = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'parity=odd' });
    assert.equal(odd.items.length, 12);
    const notOdd = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'paged,parity notin (odd)' });
    assert.equal(notOdd.items.length, 13);
    const byName = await core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=page-07' });
    assert.deepEqual(byName.items.map((i) => `${i.metadata?.namespace}/${i.metadata?.name}`), [`${ns}/page-07`]);
  });

  test(
    'pagination: continue pages are a consistent snapshot',
    async () => {
      const ns = 'paging-snapshot';
      await core.createNamespace({ body: { metadata: { name: ns } } });
      for (const name of ['c1', 'c2', 'c3', 'c4']) await core.createNamespacedConfigMap({ namespace: ns, body: cm(name, {}, { snap: 'yes' }) });
      const first = await core.listNamespacedConfigMap({ namespace: ns, limit: 2, labelSelector: 'snap=yes' });
      assert.deepEqual(first.items.map((i) => i.metadata?.name), ['c1', 'c2']);
      await core.createNamespacedConfigMap({ namespace: ns, body: cm('c5', {}, { snap: 'yes' }) });
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'c4' });
      try {
        const rest = await core.listNamespacedConfigMap({ namespace: ns, limit: 10, labelSelector: 'snap=yes', _continue: first.metadata?._continue });
        assert.deepEqual(rest.items.map((i) => i.metadata?.name), ['c3', 'c4'], 'the rest of the list as of the first page');
      } catch (err) {
        // Upstream may instead say the snapshot is gone; that is acceptable too.
        assert.ok(err instanceof ApiException && err.code === 410, String(err));
      }
    },
  );

  test('Watch API: ADDED, MODIFIED and DELETED from a resourceVersion', async () => {
    const ns = 'watching';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('before') });
    const start = await core.listNamespacedConfigMap({ namespace: ns });
    const events: Array<{ type: string; name: string; rv: string; data?: Record<string, string> }> = [];
    let doneErr: unknown = 'not done';
    const controller = await new Watch(kc).watch(
      `/api/v1/namespaces/${ns}/configmaps`,
      { resourceVersion: start.metadata?.resourceVersion, allowWatchBookmarks: true },
      (type: string, obj: V1ConfigMap) => {
        if (type !== 'BOOKMARK') events.push({ type, name: obj.metadata!.name!, rv: obj.metadata!.resourceVersion!, data: obj.data });
      },
      (err: unknown) => (doneErr = err),
    );
    try {
      await core.createNamespacedConfigMap({ namespace: ns, body: cm('w', { v: '1' }) });
      await core.patchNamespacedConfigMap({ namespace: ns, name: 'w', body: [{ op: 'replace', path: '/data/v', value: '2' }] });
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'w' });
      await eventually(() => events.length >= 3, { what: 'three watch events' });
      assert.deepEqual(
        events.map((e) => [e.type, e.name]),
        [
          ['ADDED', 'w'],
          ['MODIFIED', 'w'],
          ['DELETED', 'w'],
        ],
        'the object that existed before the watch RV is not replayed',
      );
      assert.deepEqual(events[1]!.data, { v: '2' });
      const rvs = events.map((e) => Number(e.rv));
      assert.ok(rvs[0]! < rvs[1]! && rvs[1]! < rvs[2]!, `resourceVersions increase: ${rvs}`);
    } finally {
      controller.abort();
    }
    assert.equal(doneErr === 'not done' || doneErr === null || doneErr instanceof Error, true);

    // Watching from the first event's RV replays exactly what came after it.
    const replay = await rawWatch(
      `${cluster.url}/api/v1/namespaces/${ns}/configmaps?watch=1&timeoutSeconds=10&resourceVersion=${events[0]!.rv}`,
      tls,
      (evs) => evs.length >= 2,
    );
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.events.map((e) => e.type), ['MODIFIED', 'DELETED']);

    // A watch with timeoutSeconds ends on its own.
    const timed = await rawWatch(`${cluster.url}/api/v1/namespaces/${ns}/configmaps?watch=1&timeoutSeconds=1&resourceVersion=${events[2]!.rv}`, tls, () => false);
    assert.equal(timed.status, 200);
    assert.deepEqual(timed.events, []);
  });

  test('an informer reconnects after the server restarts and sees later changes', async () => {
    const ns = 'informer';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('seed', { n: '0' }) });
    let lists = 0;
    const informer = makeInformer(kc, `/api/v1/namespaces/${ns}/configmaps`, () => {
      lists++;
      return core.listNamespacedConfigMap({ namespace: ns });
    });
    const added: string[] = [];
    const updated: string[] = [];
    const deleted: string[] = [];
    const errors: unknown[] = [];
    let stopped = false;
    informer.on('add', (o) => added.push(o.metadata!.name!));
    informer.on('update', (o) => updated.push(`${o.metadata!.name}=${o.data?.n}`));
    informer.on('delete', (o) => deleted.push(o.metadata!.name!));
    // The informer stops on a connection error; the documented pattern is to start it again.
    informer.on('error', (err) => {
      errors.push(err);
      if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 100);
    });
    await informer.start();
    try {
      await eventually(() => added.includes('seed'), { what: 'informer initial list' });
      await core.createNamespacedConfigMap({ namespace: ns, body: cm('one', { n: '1' }) });
      await eventually(() => added.includes('one'), { what: 'informer ADDED before restart' });

      await cluster.restart();
      await core.createNamespacedConfigMap({ namespace: ns, body: cm('two', { n: '2' }) });
      await core.patchNamespacedConfigMap({ namespace: ns, name: 'one', body: [{ op: 'replace', path: '/data/n', value: '11' }] });
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'seed' });
      await eventually(() => added.includes('two') && updated.includes('one=11') && deleted.includes('seed'), {
        timeoutMs: 20_000,
        what: `informer to catch up after restart (added ${added}, updated ${updated}, deleted ${deleted}, errors ${errors.length})`,
      });
      assert.deepEqual(informer.list().map((o) => o.metadata!.name).filter((n) => n !== 'kube-root-ca.crt').sort(), ['one', 'two']);
      assert.equal(informer.get('one', ns)?.data?.n, '11');
      // Nothing was reported twice: a resumed watch replays only what happened after its RV.
      assert.deepEqual(added.filter((n) => n === 'two'), ['two']);
      // After a restart the informer resumes from its last resourceVersion; the server may answer
      // 410 for it (its watch cache starts fresh), in which case the informer relists once.
      assert.ok(lists === 1 || lists === 2, `listed ${lists} times`);
    } finally {
      stopped = true;
      await informer.stop();
    }
  });
  // Runs after the informer test, so the server has restarted once by now.
  test('a raw watch from a too-old resourceVersion gets a 410 ERROR event', async () => {
    // The watch cache starts at the store's revision on restart and keeps no older history, so
    // resourceVersion 1 is expired (upstream's watch cache answers the same way). There is no flag
    // to shrink the window, so the restart in the informer test is what makes this reachable.
    const res = await rawWatch(`${cluster.url}/api/v1/namespaces/${NS}/configmaps?watch=1&timeoutSeconds=5&resourceVersion=1`, tls, (evs) => evs.length >= 1);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.events[0]!.type, 'ERROR');
    const status = res.events[0]!.object;
    assert.equal(status.kind, 'Status');
    assert.equal(status.code, 410);
    assert.equal(status.reason, 'Expired');
    assert.match(status.message ?? '', /too old resource version/);
  });
});
