import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CachedObject, decodeKeyValue, encodeForStorage } from './cached-object.ts';

const kv = (value: string, rev = 7) => ({ key: 'k', value, createRevision: 1, modRevision: rev });

test('stored JSON has no resourceVersion and puts apiVersion, kind, metadata first', () => {
  const s = encodeForStorage({ spec: { template: { metadata: { name: 'x' } } }, metadata: { name: 'a', resourceVersion: '5' }, kind: 'Pod', apiVersion: 'v1' });
  assert.ok(s.startsWith('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}'));
  assert.ok(!s.includes('resourceVersion'));
});

test('decode splices the resourceVersion into the stored JSON', () => {
  const c = decodeKeyValue(kv(encodeForStorage({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' }, spec: {} }), 42));
  assert.equal(c.obj.metadata.resourceVersion, '42');
  assert.equal(JSON.parse(c.json).metadata.name, 'a');
  const empty = decodeKeyValue(kv('{"apiVersion":"v1","kind":"Pod","metadata":{}}', 3));
  assert.deepEqual(empty.obj.metadata, { resourceVersion: '3' });
});

test('decode falls back to parsing when the stored JSON has another key order', () => {
  const c = decodeKeyValue(kv('{"metadata":{"name":"b"},"kind":"Pod","apiVersion":"v1"}', 9));
  assert.equal(c.obj.metadata.resourceVersion, '9');
  assert.equal(JSON.parse(c.json).metadata.resourceVersion, '9');
});

test('a converted object is converted from the stored one when read, and each read gets the same answer', () => {
  let conversions = 0;
  const stored = decodeKeyValue(kv(encodeForStorage({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, message: 'hi' }), 11));
  const c = CachedObject.converted(stored, (o) => {
    conversions++;
    return { ...o, apiVersion: 'events.k8s.io/v1', note: o.message, message: undefined };
  });
  assert.equal(conversions, 0, 'nothing converted until read');
  const o = c.obj;
  assert.equal(o.apiVersion, 'events.k8s.io/v1');
  assert.equal(o.metadata.resourceVersion, '11');
  assert.equal(c.obj, o, 'shared while held');
  assert.equal(conversions, 1);
  assert.deepEqual(JSON.parse(c.json), JSON.parse(JSON.stringify(o)));
  assert.equal(c.copy().note, 'hi');
});
