import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKeyValue, encodeForStorage } from './cached-object.ts';

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
