import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EtcdStore, type EtcdStoreOptions } from './etcd-store.ts';
import { Compactor } from './compactor.ts';
import { WatchCache } from '../watch-cache.ts';
import { startLoadBalancer } from '../../agent/load-balancer.ts';
import { runStoreSuite } from '../store-suite.ts';
import { StorageError, type StoreEvent } from '../store.ts';
import { etcdMissing, startEtcd, type TestEtcd } from '../../testing/etcd.ts';
import { poll } from '../../testing/poll.ts';

const missing = etcdMissing();

// One etcd for the whole file; each store gets a namespace of its own (fixed length, so that no
// namespace is a prefix of another).
let etcd: Promise<TestEtcd> | undefined;
const shared = () => (etcd ??= startEtcd({ name: 'store' }));
after(async () => {
  if (etcd) await (await etcd).stop();
});

const namespace = () => `/t-${randomBytes(6).toString('hex')}`;

async function openStore(e: TestEtcd, extra: Partial<EtcdStoreOptions> = {}): Promise<EtcdStore> {
  return EtcdStore.open({ endpoints: e.endpoints, tls: e.tls, namespace: namespace(), compactIntervalMs: 0, log: () => {}, ...extra });
}

if (missing) {
  describe('EtcdStore', { skip: missing }, () => {});
} else {
  runStoreSuite('EtcdStore', async () => {
    const store = await openStore(await shared());
    return { store, cleanup: () => store.close() };
  });

  describe('EtcdStore on etcd', () => {
    it('stores keys as given, under /registry like upstream, with etcd revisions as resourceVersions', async () => {
      const e = await shared();
      const s = await EtcdStore.open({ endpoints: e.endpoints, compactIntervalMs: 0, log: () => {} });
      try {
        const kv = await s.create('/registry/pods/default/web-1', '{"kind":"Pod"}');
        const raw = await s.client.range({ key: '/registry/pods/default/web-1' }, 2000);
        assert.equal(raw.kvs[0].value, '{"kind":"Pod"}');
        assert.equal(raw.kvs[0].modRevision, kv.modRevision);
        assert.equal(raw.header.revision, kv.modRevision);
        await s.delete('/registry/pods/default/web-1', kv.modRevision);
      } finally {
        await s.close();
      }
    });

    it('two stores on one etcd: each sees the other\'s writes, in order, with the same revisions', async () => {
      const e = await shared();
      const ns = namespace();
      const a = await EtcdStore.open({ endpoints: e.endpoints, namespace: ns, compactIntervalMs: 0, log: () => {} });
      const b = await EtcdStore.open({ endpoints: e.endpoints, namespace: ns, compactIntervalMs: 0, log: () => {} });
      try {
        const seenByB: string[] = [];
        b.watch('/r/', await b.currentRevision(), (ev) => seenByB.push(`${ev.type} ${ev.kv.key}@${ev.revision}`));
        const x = await a.create('/r/x', '1');
        const x2 = await a.update('/r/x', '2', x.modRevision);
        // b's reads are current: its currentRevision covers a's acknowledged writes.
        assert.ok((await b.currentRevision()) >= x2.modRevision);
        assert.deepEqual(seenByB, [`ADDED /r/x@${x.modRevision}`, `MODIFIED /r/x@${x2.modRevision}`]);
        // A stale CAS through b reports the conflict with the current revision...
        await assert.rejects(b.update('/r/x', '3', x.modRevision), (err: unknown) => err instanceof StorageError && err.code === 'Conflict' && err.revision === x2.modRevision);
        // ...and b's watch has the winning write by then, so a retry reads it.
        const d = await b.delete('/r/x', x2.modRevision);
        assert.equal(d.value, '2');
        assert.equal(seenByB.length, 3);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('compaction in etcd: old revisions give Compacted', async () => {
      const e = await shared();
      const s = await openStore(e);
      try {
        const a = await s.create('/r/a', '1');
        const a2 = await s.update('/r/a', '2', a.modRevision);
        await s.compact(a2.modRevision);
        await assert.rejects(s.client.range({ key: '/x', revision: a.modRevision }, 2000), /compacted/);
        assert.throws(() => s.watch('/r/', a.modRevision - 1, () => {}), (err: unknown) => err instanceof StorageError && err.code === 'Compacted');
        // Compacting to a revision another server already compacted past is fine.
        await s.compact(a.modRevision);
      } finally {
        await s.close();
      }
    });

    it('compactors of several API servers take turns through compact_rev_key, each compacting one interval back', async () => {
      const e = await shared();
      const s = await openStore(e);
      const key = `${namespace()}/compact_rev_key`;
      const compacted: string[] = [];
      const make = (name: string) =>
        new Compactor({ client: s.client, key, intervalMs: 60_000, timeoutMs: 5000, compact: async (rev) => void compacted.push(`${name}@${rev}`), log: () => {} });
      const a = make('a');
      const b = make('b');
      try {
        // First turn: a records the revision, nothing to compact yet; b lost the turn.
        assert.equal(await a.tick(), undefined);
        const r1 = await s.currentRevision();
        assert.equal(await b.tick(), undefined);
        await s.create('/r/x', '1');
        // Next interval: b (now knowing the key's version) wins and compacts to what it saw last time.
        const won = await b.tick();
        assert.ok(won !== undefined && won >= r1, `b compacted to ${won}`);
        assert.equal(await a.tick(), undefined, 'a lost this turn');
        assert.deepEqual(compacted, [`b@${won}`]);
      } finally {
        await s.close();
      }
    });

    it('lists more keys than one Range page, as one snapshot', async () => {
      const e = await shared();
      const s = await openStore(e);
      try {
        const n = 4500;
        await Promise.all(Array.from({ length: n }, (_, i) => s.create(`/r/k${String(i).padStart(5, '0')}`, `v${i}`)));
        const l = await s.list('/r/');
        assert.equal(l.items.length, n);
        assert.equal(l.items[0].key, '/r/k00000');
        assert.equal(l.items[n - 1].key, `/r/k${String(n - 1).padStart(5, '0')}`);
      } finally {
        await s.close();
      }
    });
  });

  describe('EtcdStore when etcd goes away', () => {
    it('fails fast with Unavailable while etcd is down, recovers by itself, and the watch loses nothing', async () => {
      const e = await startEtcd({ name: 'outage' });
      const s = await EtcdStore.open({ endpoints: e.endpoints, compactIntervalMs: 0, requestTimeoutMs: 3000, log: () => {} });
      try {
        const evs: StoreEvent[] = [];
        s.watch('/r/', await s.currentRevision(), (ev) => evs.push(ev));
        const a = await s.create('/r/a', '1');
        await e.members[0].kill();
        const started = Date.now();
        await assert.rejects(s.create('/r/b', '1'), (err: unknown) => err instanceof StorageError && err.code === 'Unavailable');
        assert.match((await s.checkHealth()) ?? '', /unreachable|reconnecting/);
        // Later calls fail at once while it is down.
        await assert.rejects(s.get('/r/a'), (err: unknown) => err instanceof StorageError && err.code === 'Unavailable');
        assert.ok(Date.now() - started < 3000, 'an unreachable etcd is reported before the request timeout');
        await e.members[0].start();
        const b = await poll(() => s.create('/r/b', '2'), { what: 'a write after etcd came back', timeoutMs: 20_000, intervalMs: 200 });
        assert.equal(await s.checkHealth(), undefined);
        await s.update('/r/a', '3', a.modRevision);
        assert.deepEqual(
          evs.map((ev) => `${ev.type} ${ev.kv.key}=${ev.kv.value}`),
          ['ADDED /r/a=1', 'ADDED /r/b=2', 'MODIFIED /r/a=3'],
        );
        assert.ok(b.modRevision > a.modRevision);
      } finally {
        await s.close();
        await e.stop();
      }
    });
  });

  describe('EtcdStore when etcd compacts what its watch has not read', () => {
    it('tells its watchers, which list again, and goes on following etcd', async () => {
      const e = await shared();
      // Store A reaches etcd through a proxy that the test can cut; store B directly.
      const etcdPort = Number(new URL(e.endpoints[0]).port);
      let proxy = await startLoadBalancer({ servers: [`127.0.0.1:${etcdPort}`] });
      const ns = namespace();
      const a = await EtcdStore.open({ endpoints: [`http://127.0.0.1:${proxy.port}`], namespace: ns, compactIntervalMs: 0, requestTimeoutMs: 2000, log: () => {} });
      const b = await EtcdStore.open({ endpoints: e.endpoints, namespace: ns, compactIntervalMs: 0, log: () => {} });
      try {
        const cache = new WatchCache<string>(a, '/r/', (kv) => kv.value);
        await cache.start();
        const ended: string[] = [];
        cache.watch(cache.revision, '/r/', () => {}, () => ended.push('ended'));
        await b.create('/r/before', '1');
        await poll(() => cache.get('/r/before'), { what: 'the cache to see the first write' });
        // Cut A off, write and compact meanwhile, then let A back in.
        const port = proxy.port;
        await proxy.close();
        await b.create('/r/during', '2');
        const later = await b.create('/r/during-2', '2');
        await b.compact(later.modRevision);
        await new Promise((r) => setTimeout(r, 300));
        proxy = await startLoadBalancer({ servers: [`127.0.0.1:${etcdPort}`], port });
        await poll(() => ended.length === 1 && cache.get('/r/during'), { what: 'the cache to list again after the compaction', timeoutMs: 20_000 });
        // And it follows etcd again.
        await b.create('/r/after', '3');
        await poll(() => cache.get('/r/after'), { what: 'the cache to follow etcd again' });
        cache.stop();
      } finally {
        await a.close();
        await b.close();
        await proxy.close();
      }
    });
  });

  describe('EtcdStore with TLS', () => {
    it('connects with a client certificate, and is refused without one', async () => {
      const e = await startEtcd({ name: 'tls', tls: true });
      try {
        const s = await EtcdStore.open({ endpoints: e.endpoints, tls: { ca: e.tls!.ca, cert: e.tls!.cert, key: e.tls!.key }, compactIntervalMs: 0, log: () => {} });
        const kv = await s.create('/r/a', 'secure');
        assert.equal((await s.get('/r/a'))?.modRevision, kv.modRevision);
        await s.close();
        await assert.rejects(
          EtcdStore.open({ endpoints: e.endpoints, tls: { ca: e.tls!.ca }, connectTimeoutMs: 1500, compactIntervalMs: 0, log: () => {} }),
          (err: unknown) => err instanceof StorageError && err.code === 'Unavailable',
        );
      } finally {
        await e.stop();
      }
    });
  });
}
