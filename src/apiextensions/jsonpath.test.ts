import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findResults, parseJSONPath } from './jsonpath.ts';

const obj = {
  metadata: { name: 'x', labels: { 'app.kubernetes.io/name': 'web' } },
  spec: { replicas: 3, list: [{ name: 'a' }, { name: 'b' }] },
  status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Synced', status: 'False' }] },
};
const find = (p: string) => findResults(obj, parseJSONPath(p)!);

test('printer-column paths: fields, indexes, wildcards, quoted keys, filters', () => {
  assert.deepEqual(find('.spec.replicas'), [3]);
  assert.deepEqual(find('{.spec.replicas}'), [3]);
  assert.deepEqual(find('.spec.list[1].name'), ['b']);
  assert.deepEqual(find('.spec.list[-1].name'), ['b']);
  assert.deepEqual(find('.spec.list[*].name'), ['a', 'b']);
  assert.deepEqual(find(".metadata.labels['app.kubernetes.io/name']"), ['web']);
  assert.deepEqual(find('.status.conditions[?(@.type=="Ready")].status'), ['True']);
  assert.deepEqual(find('.spec.missing'), []);
  assert.equal(parseJSONPath('spec.replicas'), null);
});
