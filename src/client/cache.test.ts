import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Indexer, Lister, NAMESPACE_INDEX, metaNamespaceKey, namespaceIndexFunc, splitMetaNamespaceKey } from './cache.ts';
import type { KObject } from '../api/types.ts';

const pod = (ns: string, name: string, node?: string, labels?: Record<string, string>): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: ns, name, labels },
  spec: { nodeName: node },
});

const byNode = (o: KObject) => (o.spec?.nodeName ? [o.spec.nodeName as string] : []);

test('keys: namespace/name, or name when cluster-scoped', () => {
  assert.equal(metaNamespaceKey(pod('ns', 'a')), 'ns/a');
  assert.equal(metaNamespaceKey({ metadata: { name: 'n1' } }), 'n1');
  assert.deepEqual(splitMetaNamespaceKey('ns/a'), { namespace: 'ns', name: 'a' });
  assert.deepEqual(splitMetaNamespaceKey('n1'), { name: 'n1' });
});

test('add/update/delete keep indexes current', () => {
  const idx = new Indexer<KObject>({ node: byNode, [NAMESPACE_INDEX]: namespaceIndexFunc });
  idx.add(pod('a', 'p1', 'n1'));
  idx.add(pod('a', 'p2', 'n1'));
  idx.add(pod('b', 'p3'));
  assert.deepEqual(idx.byIndex('node', 'n1').map(metaNamespaceKey).sort(), ['a/p1', 'a/p2']);
  assert.deepEqual(idx.indexKeys(NAMESPACE_INDEX, 'b'), ['b/p3']);

  idx.update(pod('a', 'p1', 'n2'));
  assert.deepEqual(idx.indexKeys('node', 'n1'), ['a/p2']);
  assert.deepEqual(idx.indexKeys('node', 'n2'), ['a/p1']);
  idx.update(pod('b', 'p3', 'n2'));
  assert.equal(idx.byIndex('node', 'n2').length, 2);

  assert.equal(idx.delete('a/p1')?.metadata.name, 'p1');
  assert.deepEqual(idx.indexKeys('node', 'n2'), ['b/p3']);
  idx.delete(pod('a', 'p2'));
  assert.deepEqual(idx.listIndexFuncValues('node'), ['n2']);
  assert.equal(idx.size(), 1);
  assert.equal(idx.delete('missing'), undefined);
  assert.throws(() => idx.byIndex('nope', 'x'), /does not exist/);
});

test('replace resets content and indexes; addIndexers indexes existing objects', () => {
  const idx = new Indexer<KObject>({ node: byNode });
  idx.add(pod('a', 'old', 'n1'));
  idx.replace([pod('a', 'x', 'n2'), pod('b', 'y', 'n2')]);
  assert.deepEqual(idx.byIndex('node', 'n1'), []);
  assert.equal(idx.byIndex('node', 'n2').length, 2);
  idx.addIndexers({ [NAMESPACE_INDEX]: namespaceIndexFunc });
  assert.deepEqual(idx.indexKeys(NAMESPACE_INDEX, 'b'), ['b/y']);
  assert.throws(() => idx.addIndexers({ node: byNode }), /conflict/);
  assert.deepEqual(idx.index('node', pod('z', 'z', 'n2')).length, 2);
});

test('multi-valued index functions', () => {
  const idx = new Indexer<KObject>({ label: (o) => Object.keys(o.metadata.labels ?? {}) });
  idx.add(pod('a', 'p', undefined, { x: '1', y: '2' }));
  assert.equal(idx.byIndex('label', 'x').length, 1);
  idx.update(pod('a', 'p', undefined, { y: '2' }));
  assert.equal(idx.byIndex('label', 'x').length, 0);
  assert.equal(idx.byIndex('label', 'y').length, 1);
});

test('listers: namespace views, label filters, cluster-scoped get', () => {
  const idx = new Indexer<KObject>({ [NAMESPACE_INDEX]: namespaceIndexFunc });
  idx.add(pod('a', 'p1', undefined, { app: 'web' }));
  idx.add(pod('a', 'p2', undefined, { app: 'db' }));
  idx.add(pod('b', 'p3', undefined, { app: 'web' }));
  idx.add({ metadata: { name: 'node-1' } });
  const l = new Lister(idx);
  assert.equal(l.list().length, 4);
  assert.equal(l.list({ app: 'web' }).length, 2);
  assert.equal(l.namespace('a').list().length, 2);
  assert.equal(l.namespace('a').list((o) => o.metadata.name === 'p2').length, 1);
  assert.equal(l.namespace('b').get('p3')?.metadata.name, 'p3');
  assert.equal(l.namespace('b').get('p1'), undefined);
  assert.equal(l.get('node-1')?.metadata.name, 'node-1');
  // Without the namespace index a namespace lister still works.
  const plain = new Indexer<KObject>();
  plain.add(pod('a', 'p1'));
  assert.equal(new Lister(plain).namespace('a').list().length, 1);
});
