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
