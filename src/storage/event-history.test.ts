import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventHistory } from './event-history.ts';
import type { StoreEvent } from './store.ts';

const ev = (rev: number, key = `/k/${rev}`, value = 'x'): StoreEvent => ({
  type: 'ADDED',
  kv: { key, value, createRevision: rev, modRevision: rev },
  revision: rev,
});
const revs = (evs: StoreEvent[]) => evs.map((e) => e.revision);

describe('EventHistory', () => {
  it('keeps the newest events up to a count, and reports where complete history starts', () => {
    const h = new EventHistory({ maxEvents: 3, maxBytes: 1e9 }, 10);
    assert.equal(h.startRevision, 10);
    for (let r = 11; r <= 12; r++) h.push(ev(r));
    assert.deepEqual(revs(h.since(10, '')), [11, 12]);
    assert.equal(h.startRevision, 10);
    for (let r = 13; r <= 15; r++) h.push(ev(r));
    assert.equal(h.length, 3);
    assert.equal(h.startRevision, 12);
    assert.deepEqual(revs(h.since(12, '')), [13, 14, 15]);
    assert.deepEqual(revs(h.since(14, '')), [15]);
    assert.deepEqual(revs(h.since(15, '')), []);
    assert.deepEqual(revs(h.since(99, '')), []);
  });

  it('filters replay by key prefix', () => {
    const h = new EventHistory({ maxEvents: 10, maxBytes: 1e9 }, 0);
    h.push(ev(1, '/a/1'));
    h.push(ev(2, '/b/1'));
    h.push(ev(3, '/a/2'));
    assert.deepEqual(revs(h.since(0, '/a/')), [1, 3]);
    assert.deepEqual(revs(h.since(1, '/a/')), [3]);
  });

  it('evicts by size of keys and values', () => {
    const h = new EventHistory({ maxEvents: 100, maxBytes: 25 }, 0);
    h.push(ev(1, '/a', 'x'.repeat(10)));
    h.push(ev(2, '/b', 'x'.repeat(10)));
    assert.equal(h.length, 2);
    h.push(ev(3, '/c', 'x'.repeat(10)));
    assert.equal(h.length, 2);
    assert.equal(h.startRevision, 1);
    // An event bigger than the bound is not kept either; the horizon moves past it.
    h.push(ev(4, '/d', 'x'.repeat(30)));
    assert.equal(h.length, 0);
    assert.equal(h.startRevision, 4);
  });

  it('drops compacted events', () => {
    const h = new EventHistory({ maxEvents: 10, maxBytes: 1e9 }, 0);
    for (let r = 1; r <= 5; r++) h.push(ev(r));
    h.dropThrough(3);
    assert.equal(h.startRevision, 3);
    assert.deepEqual(revs(h.since(3, '')), [4, 5]);
    h.dropThrough(2);
    assert.equal(h.startRevision, 3);
    h.dropThrough(9);
    assert.equal(h.length, 0);
    assert.equal(h.startRevision, 9);
  });
});
