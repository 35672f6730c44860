// Behaviour every Store backend must have, written only against the Store interface so each
// backend (memory, SQLite, later etcd) runs the very same checks.

import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { StorageError, guaranteedUpdate, type Store, type StoreEvent } from './store.ts';

export interface StoreFixture {
  store: Store;
  cleanup(): Promise<void>;
}

async function rejectsWith(p: Promise<unknown>, code: StorageError['code']): Promise<StorageError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StorageError, `expected StorageError, got ${String(e)}`);
    assert.equal(e.code, code);
    return e;
  }
  assert.fail(`expected StorageError ${code}, but the call succeeded`);
}

function throwsWith(fn: () => unknown, code: StorageError['code']): StorageError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StorageError, `expected StorageError, got ${String(e)}`);
    assert.equal(e.code, code);
    return e;
  }
  assert.fail(`expected StorageError ${code}, but the call succeeded`);
}

/** Compact form of an event for deepEqual: "TYPE key@rev=value (prev@rev=value)". */
function fmt(ev: StoreEvent): string {
  const prev = ev.prev ? ` (${ev.prev.modRevision}=${ev.prev.value})` : '';
  return `${ev.type} ${ev.kv.key}@${ev.revision}=${ev.kv.value}${prev}`;
}

export function runStoreSuite(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`Store contract: ${name}`, () => {
    let fx: StoreFixture;
    let s: Store;
    beforeEach(async () => {
      fx = await makeStore();
      s = fx.store;
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    it('creates, gets and refuses a duplicate create', async () => {
      const kv = await s.create('/r/a', 'v1');
      assert.equal(kv.key, '/r/a');
      assert.equal(kv.value, 'v1');
      assert.ok(kv.modRevision > 0);
      assert.equal(kv.createRevision, kv.modRevision);
      assert.deepEqual(await s.get('/r/a'), kv);
      assert.equal(await s.get('/r/missing'), undefined);
      await rejectsWith(s.create('/r/a', 'v2'), 'Exists');
      assert.equal((await s.get('/r/a'))?.value, 'v1');
    });

    it('lists by prefix, sorted by key, with the store revision', async () => {
      await s.create('/r/pods/ns2/b', '1');
      await s.create('/r/pods/ns1/z', '2');
      await s.create('/r/pods/ns1/a', '3');
      await s.create('/r/podsx/ns1/a', '4');
      const last = await s.create('/r/services/ns1/a', '5');
      const all = await s.list('/r/pods/');
      assert.deepEqual(
        all.items.map((kv) => kv.key),
        ['/r/pods/ns1/a', '/r/pods/ns1/z', '/r/pods/ns2/b'],
      );
      assert.equal(all.revision, last.modRevision);
      assert.equal(await s.currentRevision(), last.modRevision);
      const ns1 = await s.list('/r/pods/ns1/');
      assert.deepEqual(
        ns1.items.map((kv) => kv.value),
        ['3', '2'],
      );
      assert.deepEqual((await s.list('/nothing/')).items, []);
      assert.equal((await s.list('')).items.length, 5);
    });

    it('updates with compare-and-swap and reports conflicts', async () => {
      const c = await s.create('/r/a', 'v1');
      const u = await s.update('/r/a', 'v2', c.modRevision);
      assert.equal(u.value, 'v2');
      assert.equal(u.createRevision, c.createRevision);
      assert.ok(u.modRevision > c.modRevision);
      const e = await rejectsWith(s.update('/r/a', 'v3', c.modRevision), 'Conflict');
      assert.equal(e.revision, u.modRevision);
      assert.equal((await s.get('/r/a'))?.value, 'v2');
      await rejectsWith(s.update('/r/missing', 'x', 1), 'NotFound');
    });

    it('deletes with and without an expected revision', async () => {
      const a = await s.create('/r/a', 'va');
      const b = await s.create('/r/b', 'vb');
      await rejectsWith(s.delete('/r/a', a.modRevision + 100), 'Conflict');
      const da = await s.delete('/r/a', a.modRevision);
      assert.equal(da.value, 'va');
      assert.ok(da.modRevision > b.modRevision);
      assert.equal(da.createRevision, a.createRevision);
      assert.equal(await s.get('/r/a'), undefined);
      const db = await s.delete('/r/b');
      assert.equal(db.value, 'vb');
      await rejectsWith(s.delete('/r/b'), 'NotFound');
      await rejectsWith(s.delete('/r/never', 5), 'NotFound');
      assert.deepEqual((await s.list('/r/')).items, []);
      // A deleted key can be created again, with a fresh create revision.
      const again = await s.create('/r/a', 'va2');
      assert.equal(again.createRevision, again.modRevision);
      assert.ok(again.modRevision > db.modRevision);
    });

    it('uses one global, strictly increasing revision for every write', async () => {
      const revs: number[] = [];
      revs.push((await s.create('/r/a', '1')).modRevision);
      revs.push((await s.create('/q/b', '1')).modRevision);
      revs.push((await s.update('/r/a', '2', revs[0])).modRevision);
      revs.push((await s.delete('/q/b')).modRevision);
      revs.push((await s.create('/q/b', '3')).modRevision);
      for (let i = 1; i < revs.length; i++) assert.ok(revs[i] > revs[i - 1], `revisions ${revs}`);
      assert.equal(await s.currentRevision(), revs[revs.length - 1]);
      // A failed write does not consume a revision.
      await rejectsWith(s.create('/r/a', 'dup'), 'Exists');
      assert.equal(await s.currentRevision(), revs[revs.length - 1]);
    });

    it('watch from a revision replays history in order, then delivers live events', async () => {
      const start = await s.currentRevision();
      const a = await s.create('/r/a', '1');
      const a2 = await s.update('/r/a', '2', a.modRevision);
      await s.create('/r/b', '1');
      await s.delete('/r/a', a2.modRevision);
      const seen: string[] = [];
      const h = s.watch('/r/', start, (ev) => seen.push(fmt(ev)));
      const r0 = a.modRevision;
      const expectReplay = [
        `ADDED /r/a@${r0}=1`,
        `MODIFIED /r/a@${r0 + 1}=2 (${r0}=1)`,
        `ADDED /r/b@${r0 + 2}=1`,
        `DELETED /r/a@${r0 + 3}=2 (${r0 + 1}=2)`,
      ];
      // Replay may be delivered synchronously or later; wait until the next write acknowledges.
      const c = await s.create('/r/c', 'live');
      assert.deepEqual(seen, [...expectReplay, `ADDED /r/c@${c.modRevision}=live`]);
      // Watch from the middle of history.
      const mid: string[] = [];
      const h2 = s.watch('/r/', r0 + 1, (ev) => mid.push(fmt(ev)));
      const d = await s.create('/r/d', 'x');
      assert.deepEqual(mid, [...expectReplay.slice(2), `ADDED /r/c@${c.modRevision}=live`, `ADDED /r/d@${d.modRevision}=x`]);
      assert.equal(seen.length, 6);
      h.stop();
      h2.stop();
      await s.create('/r/e', 'after-stop');
      assert.equal(seen.length, 6);
      assert.equal(mid.length, 4);
    });

    it('delivers an event to watchers before the write is acknowledged', async () => {
      const seen: number[] = [];
      s.watch('/r/', await s.currentRevision(), (ev) => seen.push(ev.revision));
      const kv = await s.create('/r/a', '1');
      assert.deepEqual(seen, [kv.modRevision]);
      const u = await s.update('/r/a', '2', kv.modRevision);
      assert.deepEqual(seen, [kv.modRevision, u.modRevision]);
    });

    it('watch from a revision ahead of the store skips events up to it', async () => {
      const now = await s.currentRevision();
      const seen: number[] = [];
      s.watch('/r/', now + 2, (ev) => seen.push(ev.revision));
      await s.create('/r/a', '1');
      await s.create('/r/b', '1');
      const c = await s.create('/r/c', '1');
      assert.deepEqual(seen, [c.modRevision]);
    });

    it('a watch handler may use the store while history is replayed', async () => {
      const from = await s.currentRevision();
      await s.create('/r/a', '1');
      await s.create('/r/b', '2');
      const reads: Promise<unknown>[] = [];
      s.watch('/r/', from, (ev) => reads.push(s.get(ev.kv.key), s.list('/r/')));
      const got = await Promise.all(reads);
      assert.equal(got.length, 4);
    });

    it('watch filters by prefix', async () => {
      const from = await s.currentRevision();
      const pods: string[] = [];
      const ns1: string[] = [];
      const all: string[] = [];
      s.watch('/r/pods/', from, (ev) => pods.push(ev.kv.key));
      s.watch('/r/pods/ns1/', from, (ev) => ns1.push(ev.kv.key));
      s.watch('', from, (ev) => all.push(ev.kv.key));
      // One after another: concurrent writes to different keys may be applied in any order.
      for (const k of ['/r/pods/ns1/a', '/r/pods/ns2/a', '/r/podsx/a', '/r/services/ns1/a']) await s.create(k, '1');
      assert.deepEqual(pods, ['/r/pods/ns1/a', '/r/pods/ns2/a']);
      assert.deepEqual(ns1, ['/r/pods/ns1/a']);
      assert.equal(all.length, 4);
      // Replay filters the same way.
      const replay: string[] = [];
      s.watch('/r/pods/', from, (ev) => replay.push(ev.kv.key));
      await s.create('/r/zzz', '1');
      assert.deepEqual(replay, ['/r/pods/ns1/a', '/r/pods/ns2/a']);
    });

    it('delete emits DELETED with the previous value', async () => {
      const a = await s.create('/r/a', 'v1');
      const a2 = await s.update('/r/a', 'v2', a.modRevision);
      const evs: StoreEvent[] = [];
      s.watch('/r/', a2.modRevision, (ev) => evs.push(ev));
      const d = await s.delete('/r/a');
      assert.equal(evs.length, 1);
      const ev = evs[0];
      assert.equal(ev.type, 'DELETED');
      assert.equal(ev.revision, d.modRevision);
      assert.equal(ev.kv.modRevision, d.modRevision);
      assert.equal(ev.kv.value, 'v2');
      assert.equal(ev.kv.createRevision, a.createRevision);
      assert.ok(ev.prev);
      assert.equal(ev.prev.value, 'v2');
      assert.equal(ev.prev.modRevision, a2.modRevision);
    });

    it('MODIFIED events carry the previous value, live and replayed', async () => {
      const evs: StoreEvent[] = [];
      const from = await s.currentRevision();
      s.watch('/r/', from, (ev) => evs.push(ev));
      const a = await s.create('/r/a', 'v1');
      await s.update('/r/a', 'v2', a.modRevision);
      assert.equal(evs[1].type, 'MODIFIED');
      assert.equal(evs[1].prev?.value, 'v1');
      assert.equal(evs[1].prev?.modRevision, a.modRevision);
      const replay: StoreEvent[] = [];
      s.watch('/r/', from, (ev) => replay.push(ev));
      await s.create('/r/b', 'x');
      assert.equal(replay[1].prev?.value, 'v1');
    });

    it('compaction keeps live values and refuses watches from before the horizon', async () => {
      const a = await s.create('/r/a', '1');
      const a2 = await s.update('/r/a', '2', a.modRevision);
      const b = await s.create('/r/b', '1');
      await s.delete('/r/b');
      const c = await s.create('/r/c', '1');
      const a3 = await s.update('/r/a', '3', a2.modRevision);
      await s.compact(c.modRevision);
      assert.equal(s.compactedRevision(), c.modRevision);
      const e = throwsWith(() => s.watch('/r/', b.modRevision, () => {}), 'Compacted');
      assert.equal(e.revision, c.modRevision);
      // Every live key and its value survives.
      assert.deepEqual(
        (await s.list('/r/')).items.map((kv) => `${kv.key}=${kv.value}@${kv.modRevision}`),
        [`/r/a=3@${a3.modRevision}`, `/r/c=1@${c.modRevision}`],
      );
      assert.equal((await s.get('/r/c'))?.createRevision, c.modRevision);
      // History after the horizon is still complete, including the previous value.
      const evs: StoreEvent[] = [];
      s.watch('/r/', c.modRevision, (ev) => evs.push(ev));
      await s.create('/r/d', 'x');
      assert.equal(evs[0].type, 'MODIFIED');
      assert.equal(evs[0].kv.value, '3');
      assert.equal(evs[0].prev?.value, '2');
      // Writes continue from the same revision sequence.
      assert.ok((await s.currentRevision()) > a3.modRevision);
      // Compacting to an older revision is a no-op.
      await s.compact(a.modRevision);
      assert.equal(s.compactedRevision(), c.modRevision);
      // CAS still works on a key whose history was compacted.
      await s.update('/r/c', '2', c.modRevision);
    });

    it('concurrent creates of the same key: exactly one succeeds', async () => {
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.create('/r/same', String(i))));
      const ok = results.filter((r) => r.status === 'fulfilled');
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(ok.length, 1);
      assert.equal(failed.length, 19);
      for (const f of failed) assert.equal((f.reason as StorageError).code, 'Exists');
    });

    it('concurrent updates with the same expected revision: exactly one succeeds', async () => {
      const a = await s.create('/r/a', '0');
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => s.update('/r/a', String(i + 1), a.modRevision)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as StorageError).code, 'Conflict');
    });

    it('many concurrent writes all get distinct revisions, seen in order by a watcher', async () => {
      const from = await s.currentRevision();
      const seen: number[] = [];
      s.watch('/r/', from, (ev) => seen.push(ev.revision));
      const n = 500;
      const kvs = await Promise.all(Array.from({ length: n }, (_, i) => s.create(`/r/k${i}`, String(i))));
      const revs = new Set(kvs.map((kv) => kv.modRevision));
      assert.equal(revs.size, n);
      assert.equal(Math.min(...revs), from + 1);
      assert.equal(Math.max(...revs), from + n);
      assert.equal(seen.length, n);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1]);
      assert.equal((await s.list('/r/')).items.length, n);
    });

    it('a mixed batch is checked in order, each op independently', async () => {
      const a = await s.create('/r/a', '0');
      const ops = [
        s.create('/r/b', '1'), // ok
        s.create('/r/b', '2'), // Exists (created just before in the same turn)
        s.update('/r/a', '1', a.modRevision), // ok
        s.update('/r/a', '2', a.modRevision), // Conflict (the previous op moved it)
        s.delete('/r/b'), // ok
        s.update('/r/b', 'x', 1), // NotFound
        s.create('/r/b', '3'), // ok again
      ];
      const res = await Promise.allSettled(ops);
      assert.deepEqual(
        res.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as StorageError).code)),
        ['ok', 'Exists', 'ok', 'Conflict', 'ok', 'NotFound', 'ok'],
      );
      assert.equal((await s.get('/r/a'))?.value, '1');
      assert.equal((await s.get('/r/b'))?.value, '3');
    });

    it('guaranteedUpdate retries on conflict', async () => {
      await s.create('/r/counter', '0');
      const inc = (cur: { value: string }) => String(Number(cur.value) + 1);
      await Promise.all(Array.from({ length: 10 }, () => guaranteedUpdate(s, '/r/counter', inc)));
      assert.equal((await s.get('/r/counter'))?.value, '10');
      // "No change" returns the current value without a write.
      const before = await s.currentRevision();
      const same = await guaranteedUpdate(s, '/r/counter', () => undefined);
      assert.equal(same.value, '10');
      assert.equal(await s.currentRevision(), before);
      await assert.rejects(guaranteedUpdate(s, '/r/nope', inc), (e: unknown) => e instanceof StorageError && e.code === 'NotFound');
    });
  });
}
