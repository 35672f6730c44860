import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { main } from './main.ts';
import { memoryIO } from './io.ts';
import { etcdMissing, startEtcd } from '../testing/etcd.ts';
import { startTestApiServer } from '../testing/api-server.ts';
import { startApiServer } from '../apiserver/server.ts';
import { ApiClient, ApiError } from '../client/api-client.ts';
import { poll } from '../testing/poll.ts';
import { CLAIM_PREFIX } from '../apiserver/service-claims.ts';
import { EtcdClient } from '../storage/etcd/client.ts';
import type { KObject } from '../api/types.ts';

const missing = etcdMissing();

describe('mizzen migrate', { skip: missing }, () => {
  it('copies a SQLite store into etcd keeping every object; old resourceVersions read as expired', async () => {
    const etcd = await startEtcd({ name: 'migrate' });
    // A cluster on SQLite with a few objects, some changed several times.
    const old = await startTestApiServer({ name: 'migrate' });
    const creds = { ca: old.pki.caCertPem, cert: old.pki.adminCertPem, key: old.pki.adminKeyPem, maxRetries: 0 };
    let c = new ApiClient({ server: old.server.url, ...creds });
    const before = new Map<string, KObject>();
    let oldRV = '';
    try {
      await c.create({ version: 'v1', resource: 'namespaces' }, { metadata: { name: 'shop' } });
      for (let i = 0; i < 20; i++) {
        const cm = await c.create<KObject>({ version: 'v1', resource: 'configmaps', namespace: 'shop' }, { metadata: { name: `cm-${i}` }, data: { v: '0' } });
        for (let j = 1; j <= 5; j++) await c.update({ version: 'v1', resource: 'configmaps', namespace: 'shop', name: `cm-${i}` }, { ...cm, metadata: { ...cm.metadata, resourceVersion: undefined }, data: { v: String(j) } });
      }
      await c.create({ version: 'v1', resource: 'services', namespace: 'shop' }, { metadata: { name: 'web' }, spec: { type: 'NodePort', clusterIP: '10.43.9.9', selector: { app: 'web' }, ports: [{ port: 80, nodePort: 30999 }] } });
      for (const ref of [
        { version: 'v1', resource: 'configmaps', namespace: 'shop' },
        { version: 'v1', resource: 'services', namespace: 'shop' },
        { version: 'v1', resource: 'namespaces' },
      ]) {
        const l = await c.list<KObject>(ref);
        oldRV = l.metadata.resourceVersion!;
        for (const o of l.items) before.set(`${o.kind ?? ref.resource}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o);
      }
    } finally {
      c.close();
      await old.server.close();
    }

    try {
      // While the data dir's store is in use, migrate refuses; here it is free.
      const io = memoryIO();
      assert.equal(await main(['migrate', '--data-dir', old.dir, '--datastore-endpoint', etcd.endpoints.join(',')], io), 0, io.stderr.join('\n'));
      const out = io.stdout.join('\n');
      assert.match(out, /copied and checked \d+ keys/);
      assert.match(out, /moved etcd's revision past SQLite's/);

      // A second run finds etcd no longer empty.
      const again = memoryIO();
      assert.equal(await main(['migrate', '--data-dir', old.dir, '--datastore-endpoint', etcd.endpoints.join(',')], again), 1);
      assert.match(again.stderr.join('\n'), /already holds \d+ keys under \/registry\//);

      const server = await startApiServer({
        dataDir: old.dir,
        port: 0,
        bindAddress: '127.0.0.1',
        tls: { cert: old.pki.serverCertPem, key: old.pki.serverKeyPem, clientCA: old.pki.caCertPem },
        datastore: { endpoints: etcd.endpoints },
      });
      c = new ApiClient({ server: server.url, ...creds });
      try {
        for (const [id, o] of before) {
          const [kind, ns, name] = id.split('/');
          const ref = kind === 'Namespace' ? { version: 'v1', resource: 'namespaces' } : { version: 'v1', resource: kind === 'Service' ? 'services' : 'configmaps', namespace: ns };
          const now = await c.get<KObject>({ ...ref, name });
          assert.equal(now.metadata.uid, o.metadata.uid, id);
          assert.equal(now.metadata.creationTimestamp, o.metadata.creationTimestamp, id);
          assert.deepEqual(now.data, o.data, id);
          assert.deepEqual(now.spec, o.spec, id);
        }
        // A watch from a resourceVersion of the old store: expired, so the client lists again.
        const ended = await new Promise<Error | undefined>((resolve) => {
          const events: string[] = [];
          c.watch({ version: 'v1', resource: 'configmaps', namespace: 'shop' }, { resourceVersion: oldRV }, (ev) => {
            events.push(ev.type);
            if (ev.type === 'ERROR') resolve(new ApiError(ev.object as any));
          }, (e) => resolve(e));
        });
        assert.ok(ended instanceof ApiError && ended.code === 410, String(ended));
        // The migrated Service's address and port are claimed, so nobody else gets them.
        const raw = new EtcdClient({ endpoints: etcd.endpoints });
        const etcdKeys = async () => (await raw.range({ key: '/registry/mizzen.dev/', rangeEnd: '/registry/mizzen.dev0', keysOnly: true }, 2000)).kvs.map((kv) => kv.key);
        await poll(async () => (await etcdKeys()).includes(`${CLAIM_PREFIX.ip}10.43.9.9`) && (await etcdKeys()).includes(`${CLAIM_PREFIX.port}30999`), { what: 'claims for the migrated Service' });
        raw.close();
        await assert.rejects(
          c.create({ version: 'v1', resource: 'services', namespace: 'shop' }, { metadata: { name: 'copy' }, spec: { clusterIP: '10.43.9.9', ports: [{ port: 80 }] } }),
          (e: unknown) => e instanceof ApiError && e.code === 422,
        );
      } finally {
        c.close();
        await server.close();
      }
    } finally {
      await rm(old.dir, { recursive: true, force: true });
      await etcd.stop();
    }
  });
});
