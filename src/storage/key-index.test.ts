import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyIndex } from './key-index.ts';

const kv = (key: string, rev = 1) => ({ key, value: `v${rev}`, createRevision: rev, modRevision: rev });
const keys = (idx: KeyIndex, prefix: string) => idx.list(prefix).map((e) => e.key);

describe('KeyIndex', () => {
  it('lists by prefix in key order across additions, deletions and re-creations', () => {
    const idx = new KeyIndex();
    for (const k of ['/b/2', '/a/1', '/b/1', '/c']) idx.set(kv(k));
    assert.deepEqual(keys(idx, ''), ['/a/1', '/b/1', '/b/2', '/c']);
    assert.deepEqual(keys(idx, '/b/'), ['/b/1', '/b/2']);
    idx.delete('/b/1');
    idx.set(kv('/b/0'));
    idx.set(kv('/a/0'));
    assert.deepEqual(keys(idx, '/b/'), ['/b/0', '/b/2']);
    // Deleted and created again between two listings: listed once.
    idx.delete('/c');
    idx.set(kv('/c', 2));
    idx.set(kv('/a/9'));
    idx.delete('/a/9');
    assert.deepEqual(keys(idx, ''), ['/a/0', '/a/1', '/b/0', '/b/2', '/c']);
    assert.equal(idx.get('/c')?.modRevision, 2);
    assert.equal(idx.size, 5);
    assert.deepEqual(keys(idx, '/z'), []);
    assert.deepEqual(keys(idx, '/a/1/'), []);
  });

  it('returns the latest value of a key that is overwritten', () => {
    const idx = new KeyIndex();
    idx.set(kv('/k', 1));
    idx.set(kv('/k', 5));
    assert.deepEqual(idx.list('/'), [kv('/k', 5)]);
    idx.delete('/missing');
    assert.equal(idx.size, 1);
  });
});

describe('KeyIndex at scale', () => {
  // A model: the live keys, sorted, compared with every answer after random writes that split,
  // empty and join the index's blocks.
  it('scans and counts from any key as a sorted array of the live keys would', () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const idx = new KeyIndex();
    const live = new Set<string>();
    const key = () => `/r/ns-${rand(4)}/p-${String(rand(3000)).padStart(4, '0')}`;
    for (let round = 0; round < 30; round++) {
      // Bursts of creates, then bursts of deletes, so blocks grow, split, thin out and join.
      const creates = round % 3 === 2 ? 50 : 400;
      for (let i = 0; i < creates; i++) {
        const k = key();
        idx.set(kv(k, round));
        live.add(k);
      }
      const deletes = round % 3 === 2 ? 900 : 100;
      for (let i = 0; i < deletes; i++) {
        const k = key();
        idx.delete(k);
        live.delete(k);
      }
      const sorted = [...live].sort();
      assert.equal(idx.size, sorted.length);
      assert.deepEqual(keys(idx, ''), sorted);
      for (const prefix of ['/r/', `/r/ns-${rand(4)}/`, '/r/ns-9/', '/r/ns-1/p-1']) {
        const under = sorted.filter((k) => k.startsWith(prefix));
        assert.deepEqual(keys(idx, prefix), under);
        for (const after of [undefined, '/', '/r/ns-0', under[0], under[rand(under.length + 1)], `${prefix}p-1500`, '/z']) {
          const want = under.filter((k) => after === undefined || k > after);
          assert.deepEqual([...idx.scan(prefix, after)].map((e) => e.key), want, `scan ${prefix} after ${after}`);
          assert.equal(idx.countAfter(prefix, after), want.length, `count ${prefix} after ${after}`);
        }
      }
    }
  });

  it('goes on after its last key when written to while a scan is paused', () => {
    const idx = new KeyIndex();
    for (let i = 0; i < 2000; i++) idx.set(kv(`/k/${String(i).padStart(4, '0')}`));
    const it = idx.scan('/k/', '/k/0999');
    const seen = [it.next().value!.key, it.next().value!.key];
    assert.deepEqual(seen, ['/k/1000', '/k/1001']);
    // Removed before the scan reaches it: not given. Added behind it: not given again. Added ahead: given.
    for (let i = 0; i < 1000; i++) idx.delete(`/k/${String(i).padStart(4, '0')}`);
    idx.delete('/k/1002');
    idx.set(kv('/k/0500'));
    idx.set(kv('/k/1002a'));
    const rest = [...it].map((e) => e.key);
    assert.equal(rest[0], '/k/1002a');
    assert.equal(rest[1], '/k/1003');
    assert.equal(rest.length, 1 + 997);
  });
});
