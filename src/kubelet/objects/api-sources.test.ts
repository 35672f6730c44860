// ApiObjectSources against a real API server (SQLite, in process): informer-backed ConfigMaps and
// Secrets with change notifications, direct reads of PVCs/PVs, Services for env vars, TokenRequest,
// and a configMap volume kept current through onChange → VolumeManager.refresh.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../client/api-client.ts';
import { startTestApiServer, type TestApiServer } from '../../testing/api-server.ts';
import { poll } from '../../testing/poll.ts';
import type { Pod } from '../pods/api-types.ts';
import { makeEnvironmentVariables, CreateContainerConfigError } from '../pods/env.ts';
import { VolumeManager, volumeObjectRefs } from '../volumes/volume-manager.ts';
import { ApiObjectSources, type ObjectKind } from './api-sources.ts';
import { ObjectNotFoundError } from './sources.ts';

let api: TestApiServer;
let client: ApiClient;
const ns = 'kubelet-objects';

before(async () => {
  api = await startTestApiServer({ name: 'kubelet-objects', unixSocket: true });
  client = new ApiClient({ socketPath: api.socketPath });
  await client.create({ version: 'v1', resource: 'namespaces' }, { metadata: { name: ns } });
});
after(async () => {
  client.close();
  await api.close();
});

const cmRef = { version: 'v1', resource: 'configmaps', namespace: ns };
const secretRef = { version: 'v1', resource: 'secrets', namespace: ns };

test('ConfigMaps and Secrets: cached per object, direct GET on a miss, NotFound with the kubelet message, change events', async () => {
  const changes: string[] = [];
  const src = new ApiObjectSources(client, { onChange: (kind: ObjectKind, n, name) => changes.push(`${kind} ${n}/${name}`), log: () => {} });
  try {
    await client.create(cmRef, { metadata: { name: 'app' }, data: { k: 'v1' } });
    await client.create(secretRef, { metadata: { name: 'pw' }, data: { p: Buffer.from('x').toString('base64') } });
    assert.deepEqual((await src.getConfigMap(ns, 'app')).data, { k: 'v1' });
    assert.equal((await src.getSecret(ns, 'pw')).data?.p, Buffer.from('x').toString('base64'));
    await assert.rejects(src.getConfigMap(ns, 'nope'), (e: Error) => e instanceof ObjectNotFoundError && e.message === 'configmap "nope" not found');
    await assert.rejects(src.getSecret(ns, 'nope'), (e: Error) => e.message === 'secret "nope" not found');
    // Created after the informer synced: found at once (cache or direct GET), then reported as a change.
    await client.create(cmRef, { metadata: { name: 'late' }, data: { a: 'b' } });
    assert.deepEqual((await src.getConfigMap(ns, 'late')).data, { a: 'b' });
    await client.update({ ...cmRef, name: 'app' }, { metadata: { name: 'app' }, data: { k: 'v2' } });
    await poll(() => changes.includes(`ConfigMap ${ns}/app`), { what: 'update event' });
    await poll(async () => (await src.getConfigMap(ns, 'app')).data?.k === 'v2', { what: 'cache updated' });
    await client.delete({ ...secretRef, name: 'pw' });
    await poll(() => changes.includes(`Secret ${ns}/pw`), { what: 'delete event' });
    await poll(async () => src.getSecret(ns, 'pw').then(() => false, (e) => e instanceof ObjectNotFoundError), { what: 'secret gone' });
    await src.retainNamespaces(new Set());
    // Still answers after its informers were stopped (they restart on demand).
    assert.deepEqual((await src.getConfigMap(ns, 'app')).data, { k: 'v2' });
  } finally {
    await src.stop();
  }
});

test('PVCs, PVs, Services and TokenRequest', async () => {
  const src = new ApiObjectSources(client, { log: () => {} });
  try {
    await client.create({ version: 'v1', resource: 'persistentvolumes' }, {
      metadata: { name: 'objects-pv' },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp' } },
    });
    await client.create({ version: 'v1', resource: 'persistentvolumeclaims', namespace: ns }, {
      metadata: { name: 'claim' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: 'objects-pv' },
    });
    assert.equal((await src.getPersistentVolumeClaim(ns, 'claim')).spec?.volumeName, 'objects-pv');
    assert.equal((await src.getPersistentVolume('objects-pv')).spec?.hostPath?.path, '/tmp');
    await assert.rejects(src.getPersistentVolumeClaim(ns, 'nope'), /persistentvolumeclaims "nope" not found/);
    await assert.rejects(src.getPersistentVolume('nope'), /persistentvolumes "nope" not found/);

    assert.equal(src.servicesSynced(), false);
    await client.create({ version: 'v1', resource: 'services', namespace: ns }, { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }], selector: { app: 'web' } } });
    await src.waitForServices();
    await poll(() => src.listServices().some((s) => s.metadata.name === 'web' && s.metadata.namespace === ns), { what: 'service cached' });
    const pod: Pod = { metadata: { name: 'p', namespace: ns, uid: 'u-env' }, spec: { containers: [{ name: 'c', env: [{ name: 'URL', value: 'http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)' }] }] } };
    const env = await makeEnvironmentVariables(pod, pod.spec.containers[0], { sources: src });
    const web = src.listServices().find((s) => s.metadata.name === 'web')!;
    assert.equal(env.find((e) => e.name === 'URL')?.value, `http://${web.spec!.clusterIP}:80`);

    // TokenRequest: a missing ServiceAccount is a clear error; an existing one gets a token for the audience.
    await assert.rejects(src.requestServiceAccountToken(ns, 'ghost', { audiences: ['x'], expirationSeconds: 600 }), /serviceaccounts "ghost" not found/);
    await client.create({ version: 'v1', resource: 'serviceaccounts', namespace: ns }, { metadata: { name: 'default' } });
    const tok = await src.requestServiceAccountToken(ns, 'default', { audiences: ['x'], expirationSeconds: 600 });
    assert.deepEqual(JSON.parse(Buffer.from(tok.token.split('.')[1]!, 'base64url').toString()).aud, ['x']);
  } finally {
    await src.stop();
  }
});

test('env vars wait for the first Services list', async () => {
  const src = new ApiObjectSources(client, { log: () => {} });
  const pod: Pod = { metadata: { name: 'p', namespace: ns, uid: 'u-wait' }, spec: { containers: [{ name: 'c' }] } };
  await assert.rejects(
    makeEnvironmentVariables(pod, pod.spec.containers[0], { sources: src }),
    (e: Error) => e instanceof CreateContainerConfigError && e.message === 'services have not yet been read at least once, cannot construct envvars',
  );
  await makeEnvironmentVariables(pod, pod.spec.containers[0], { sources: src, isStaticPod: true });
  await src.stop();
});

test('a configMap volume follows updates: onChange → refresh of the pods that use it', async () => {
  const root = await mkdtemp(join(tmpdir(), 'mizzen-kubelet-api-'));
  const pods: Pod[] = [];
  let vm!: VolumeManager;
  const refreshed: Promise<unknown>[] = [];
  const src = new ApiObjectSources(client, {
    log: () => {},
    onChange: (kind, n, name) => {
      for (const p of pods) {
        const refs = volumeObjectRefs(p);
        if (p.metadata.namespace === n && (kind === 'ConfigMap' ? refs.configMaps : refs.secrets).has(name)) refreshed.push(vm.refresh(p));
      }
    },
  });
  vm = new VolumeManager({ rootDir: root, sources: src, mounter: null });
  try {
    await client.create(cmRef, { metadata: { name: 'site' }, data: { 'index.html': 'v1' } });
    const pod: Pod = {
      metadata: { name: 'web', namespace: ns, uid: 'u-vol' },
      spec: { containers: [{ name: 'c', volumeMounts: [{ name: 'site', mountPath: '/www' }] }], volumes: [{ name: 'site', configMap: { name: 'site' } }] },
    };
    pods.push(pod);
    const r = await vm.setUp(pod);
    assert.deepEqual(r.errors, []);
    const file = join(r.volumes.get('site')!.hostPath, 'index.html');
    assert.equal(await readFile(file, 'utf8'), 'v1');
    await client.update({ ...cmRef, name: 'site' }, { metadata: { name: 'site' }, data: { 'index.html': 'v2' } });
    await poll(async () => (await readFile(file, 'utf8')) === 'v2', { what: 'volume updated' });
    await Promise.all(refreshed);
  } finally {
    await vm.tearDown('u-vol');
    await src.stop();
    await rm(root, { recursive: true, force: true });
  }
});
