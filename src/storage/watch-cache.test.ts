import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryStore } from './memory-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import { StorageError, type KeyValue, type Store } from './store.ts';
import { WatchCache, encodeOnce, type CacheEvent } from './watch-cache.ts';

interface Obj {
  name: string;
  v: string;
  rv: number;
}

const P = '/registry/pods/';
const decode = (kv: KeyValue): Obj => ({ ...(JSON.parse(kv.value) as { name: string; v: string }), rv: kv.modRevision });
const val = (name: string, v: string) => JSON.stringify({ name, v });

async function setup(store: Store = new MemoryStore(), windowSize = 100) {
  const cache = new WatchCache<Obj>(store, P, decode, { windowSize });
  return { store, cache };
}

function fmt(ev: CacheEvent<Obj>): string {
  return `${ev.type} ${ev.key.slice(P.length)}@${ev.revision}=${ev.object.v}${ev.prevObject ? ` (was ${ev.prevObject.v})` : ''}`;
}

describe('WatchCache', () => {
  it('loads the current state and serves get and list, narrowed by namespace prefix', async () => {
    const { store, cache } = await setup();
    await store.create(`${P}ns2/b`, val('b', '1'));
    await store.create(`${P}ns1/z`, val('z', '1'));
    await store.create(`${P}ns1/a`, val('a', '1'));
    await store.create('/registry/services/ns1/a', val('svc', '1'));
    await cache.start();
    await cache.start(); // idempotent
    assert.equal(cache.size, 3);
    assert.equal(cache.revision, 4);
    assert.deepEqual(
      cache.list().items.map((o) => o.name),
      ['a', 'z', 'b'],
    );
    assert.deepEqual(
      cache.list(`${P}ns1/`).items.map((o) => o.name),
      ['a', 'z'],
    );
    assert.deepEqual(cache.list(`${P}ns3/`).items, []);
    assert.equal(cache.list().revision, 4);
    assert.equal(cache.get(`${P}ns1/a`)?.obj.rv, 3);
    assert.equal(cache.get(`${P}ns1/a`)?.kv.createRevision, 3);
    assert.equal(cache.get(`${P}nope`), undefined);
    cache.stop();
  });

  it('follows creates, updates and deletes, keeping list order exact', async () => {
    const { store, cache } = await setup();
    await cache.start();
    // Reference model driven by a fixed pseudo-random sequence.
    const ref = new Map<string, string>();
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    for (let step = 0; step < 400; step++) {
      const key = `${P}ns${rnd(3)}/o${rnd(40)}`;
      const cur = await store.get(key);
      if (!cur) {
        await store.create(key, val(key, String(step)));
        ref.set(key, String(step));
      } else if (rnd(3) === 0) {
        await store.delete(key);
        ref.delete(key);
      } else {
        await store.update(key, val(key, String(step)), cur.modRevision);
        ref.set(key, String(step));
      }
      if (step % 7 === 0) {
        const want = [...ref.keys()].sort();
        assert.deepEqual(
          cache.list().items.map((o) => o.name),
          want,
        );
        assert.deepEqual(
          cache.list(`${P}ns1/`).items.map((o) => o.name),
          want.filter((k) => k.startsWith(`${P}ns1/`)),
        );
      }
    }
    for (const [k, v] of ref) assert.equal(cache.get(k)?.obj.v, v);
    assert.equal(cache.size, ref.size);
    assert.equal(cache.revision, await store.currentRevision());
    cache.stop();
  });

  it('delivers live events with previous objects, filtered by prefix', async () => {
    const { store, cache } = await setup();
    await cache.start();
    const all: string[] = [];
    const ns1: string[] = [];
    cache.watch(cache.revision, P, (ev) => all.push(fmt(ev)));
    const h = cache.watch(cache.revision, `${P}ns1/`, (ev) => ns1.push(fmt(ev)));
    const a = await store.create(`${P}ns1/a`, val('a', '1'));
    await store.create(`${P}ns2/b`, val('b', '1'));
    await store.create('/registry/services/ns1/a', val('s', '1'));
    const a2 = await store.update(`${P}ns1/a`, val('a', '2'), a.modRevision);
    const d = await store.delete(`${P}ns1/a`);
    assert.deepEqual(all, ['ADDED ns1/a@1=1', 'ADDED ns2/b@2=1', 'MODIFIED ns1/a@4=2 (was 1)', 'DELETED ns1/a@5=2 (was 2)']);
    assert.deepEqual(ns1, ['ADDED ns1/a@1=1', 'MODIFIED ns1/a@4=2 (was 1)', 'DELETED ns1/a@5=2 (was 2)']);
    h.stop();
    await store.create(`${P}ns1/c`, val('c', '1'));
    assert.equal(ns1.length, 3);
    assert.equal(all.length, 5);
    // The deleted object carries the delete's revision, as upstream's watch does.
    assert.equal(a2.modRevision, 4);
    assert.equal(d.modRevision, 5);
    cache.stop();
  });

  it('replays buffered events after a revision, then continues live', async () => {
    const { store, cache } = await setup();
    await cache.start();
    const a = await store.create(`${P}ns1/a`, val('a', '1'));
    await store.create(`${P}ns1/b`, val('b', '1'));
    await store.update(`${P}ns1/a`, val('a', '2'), a.modRevision);
    const seen: string[] = [];
    cache.watch(a.modRevision, P, (ev) => seen.push(fmt(ev)));
    assert.deepEqual(seen, ['ADDED ns1/b@2=1', 'MODIFIED ns1/a@3=2 (was 1)']);
    await store.create(`${P}ns1/c`, val('c', '1'));
    assert.deepEqual(seen.slice(2), ['ADDED ns1/c@4=1']);
    // Resuming from the latest revision replays nothing.
    const none: string[] = [];
    cache.watch(cache.revision, P, (ev) => none.push(fmt(ev)));
    assert.deepEqual(none, []);
    cache.stop();
  });

  it('watch from 0 starts with the current state as ADDED events', async () => {
    const { store, cache } = await setup();
    await store.create(`${P}ns1/b`, val('b', '1'));
    const a = await store.create(`${P}ns1/a`, val('a', '1'));
    await store.update(`${P}ns1/a`, val('a', '2'), a.modRevision);
    await store.create(`${P}ns2/c`, val('c', '1'));
    await cache.start();
    const seen: string[] = [];
    cache.watch(0, `${P}ns1/`, (ev) => seen.push(fmt(ev)));
    assert.deepEqual(seen, ['ADDED ns1/a@3=2', 'ADDED ns1/b@1=1']);
    await store.create(`${P}ns1/d`, val('d', '1'));
    assert.deepEqual(seen.slice(2), ['ADDED ns1/d@5=1']);
    cache.stop();
  });

  it('refuses a watch from a revision older than its window ("too old resource version")', async () => {
    const { store, cache } = await setup(new MemoryStore(), 3);
    await store.create(`${P}ns1/x`, val('x', '0'));
    await cache.start();
    const listRev = cache.revision;
    assert.equal(listRev, 1);
    // Within the window, the list revision itself is fine.
    cache.watch(listRev, P, () => {}).stop();
    for (let i = 0; i < 5; i++) await store.create(`${P}ns1/k${i}`, val(`k${i}`, '1'));
    // Revisions 2..6 were written; the window holds 4, 5, 6, so resuming is possible from 3 on.
    assert.equal(cache.oldestRevision, 3);
    assert.throws(
      () => cache.watch(2, P, () => {}),
      (e: unknown) => e instanceof StorageError && e.code === 'Compacted' && e.message === 'too old resource version: 2 (3)' && e.revision === 3,
    );
    const seen: number[] = [];
    cache.watch(3, P, (ev) => seen.push(ev.revision));
    assert.deepEqual(seen, [4, 5, 6]);
    cache.stop();
  });

  it('waitFor resolves when the revision is seen, including writes to other resources', async () => {
    const { store, cache } = await setup();
    await cache.start();
    await cache.waitFor(0);
    const p = cache.waitFor(1);
    await store.create(`${P}ns1/a`, val('a', '1'));
    await p;
    // A write elsewhere moves the global revision without an event for this cache.
    const other = await store.create('/registry/services/ns1/a', val('s', '1'));
    await cache.waitFor(other.modRevision);
    assert.equal(cache.revision, other.modRevision);
    assert.equal(await cache.sync(), other.modRevision);
    await assert.rejects(
      cache.waitFor(other.modRevision + 10, 20),
      (e: unknown) => e instanceof StorageError && e.message === `Too large resource version: ${other.modRevision + 10}, current: ${other.modRevision}`,
    );
    cache.stop();
  });

  for (const [name, open] of [
    ['memory', async () => ({ store: new MemoryStore() as Store, done: async () => {} })],
    [
      'SQLite',
      async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mizzen-wc-rev-'));
        const store = SqliteStore.open({ file: path.join(dir, 'db'), compactIntervalMs: 0 });
        return { store: store as Store, done: async () => (await store.close(), fs.rmSync(dir, { recursive: true, force: true })) };
      },
    ],
  ] as const) {
    it(`lists at the store's revision even when nothing under its prefix was ever written (${name})`, async () => {
      const { store, done } = await open();
      try {
        await store.create('/registry/services/ns1/a', val('s', '1'));
        const { cache } = await setup(store);
        await cache.start();
        // Writes to other resources move the revision of an idle resource's lists, without events.
        const other = await store.create('/registry/services/ns1/b', val('s', '2'));
        assert.equal(cache.list().revision, other.modRevision);
        assert.equal(cache.revision, other.modRevision);
        // A watch from that revision sees what comes next, and nothing before.
        const seen: string[] = [];
        const h = cache.watch(cache.list().revision, P, (ev) => seen.push(fmt(ev)));
        const mine = await store.create(`${P}ns1/a`, val('a', '1'));
        assert.deepEqual(seen, [`ADDED ns1/a@${mine.modRevision}=1`]);
        h.stop();
        cache.stop();
      } finally {
        await done();
      }
    });
  }

  it('memoises one encoding per format on an event', async () => {
    const { store, cache } = await setup();
    await cache.start();
    const events: CacheEvent<Obj>[] = [];
    cache.watch(cache.revision, P, (ev) => events.push(ev));
    cache.watch(cache.revision, P, (ev) => events.push(ev));
    await store.create(`${P}ns1/a`, val('a', '1'));
    assert.equal(events.length, 2);
    assert.equal(events[0], events[1]); // one shared event object for all watchers
    let calls = 0;
    const enc = (ev: CacheEvent<Obj>) => {
      calls++;
      return Buffer.from(JSON.stringify({ type: ev.type, object: ev.object }));
    };
    const b1 = encodeOnce(events[0], 'json', enc);
    const b2 = encodeOnce(events[1], 'json', enc);
    assert.equal(b1, b2);
    assert.equal(calls, 1);
    encodeOnce(events[0], 'table', enc);
    assert.equal(calls, 2);
    cache.stop();
  });

  it('works on the SQLite store, including history written before the cache started', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mizzen-wc-'));
    const store = SqliteStore.open({ file: path.join(dir, 'db'), compactIntervalMs: 0 });
    try {
      const { cache } = await setup(store);
      await store.create(`${P}ns1/a`, val('a', '1'));
      // Writes queued while the cache lists must arrive exactly once.
      const started = cache.start();
      const pending = store.create(`${P}ns1/b`, val('b', '1'));
      await Promise.all([started, pending]);
      const seen: string[] = [];
      cache.watch(0, P, (ev) => seen.push(fmt(ev)));
      assert.deepEqual(seen, ['ADDED ns1/a@1=1', 'ADDED ns1/b@2=1']);
      await store.delete(`${P}ns1/a`);
      assert.deepEqual(seen.slice(2), ['DELETED ns1/a@3=1 (was 1)']);
      assert.deepEqual(
        cache.list().items.map((o) => o.name),
        ['b'],
      );
      cache.stop();
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('without a fixed size, keeps events by age and bytes between a floor and a ceiling', async () => {
    const store = new MemoryStore();
    const cache = new WatchCache<Obj>(store, P, decode, { minEvents: 5, maxEvents: 50, freshMs: 150, maxBytes: 50_000 });
    await cache.start();
    // A burst within freshMs: everything is kept, up to the ceiling.
    for (let i = 0; i < 60; i++) await store.create(`${P}ns/p${i}`, val(`p${i}`, '1'));
    assert.equal(cache.windowLength, 50);
    assert.equal(cache.oldestRevision, 10, 'the ten oldest were evicted by the ceiling');
    assert.throws(() => cache.watch(9, P, () => {}), (e: unknown) => e instanceof StorageError && e.code === 'Compacted');
    let replayed = 0;
    cache.watch(10, P, () => replayed++).stop();
    assert.equal(replayed, 50);
    // Once they are older than freshMs, all but the floor are let go, with or without new events.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(cache.windowLength, 5);
    await store.create(`${P}ns/late`, val('late', '1'));
    assert.equal(cache.windowLength, 5);
    assert.equal(cache.oldestRevision, 56);
    // The byte bound applies below the floor too: one large object pushes the others out.
    await store.create(`${P}ns/big`, val('big', 'x'.repeat(60_000)));
    assert.equal(cache.windowLength, 1, 'only the large one is left');
    cache.stop();
  });
});
