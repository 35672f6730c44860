import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalFieldSet,
  difference,
  equals,
  fieldSetOf,
  has,
  intersection,
  paths,
  recursiveDifference,
  union,
  withPrefix,
  type FieldSet,
} from './set.ts';
import { compareElements, decodeElement, fieldElement, formatPath, keyElement, valueElement } from './path-element.ts';

const f = fieldElement;
/** Paths written as `spec.replicas` (fields only) or arrays of elements. */
const set = (...ps: Array<string | string[]>): FieldSet => fieldSetOf(...ps.map((p) => (typeof p === 'string' ? p.split('.').map(f) : p)));
const show = (s: FieldSet) => JSON.stringify(s);

test('sets serialize as fieldsV1: `.` marks a member that also has children', () => {
  assert.equal(show(set('spec.replicas')), '{"f:spec":{"f:replicas":{}}}');
  assert.equal(show(set('metadata.labels', 'metadata.labels.app')), '{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}');
  assert.equal(show(set('b', 'a', 'c.d')), '{"f:a":{},"f:b":{},"f:c":{"f:d":{}}}');
  assert.equal(show(set()), '{}');
});

const algebra: Array<{ name: string; a: FieldSet; b: FieldSet; union: FieldSet; intersection: FieldSet; difference: FieldSet; recursive: FieldSet }> = [
  {
    name: 'disjoint leaves',
    a: set('spec.replicas'),
    b: set('spec.paused'),
    union: set('spec.replicas', 'spec.paused'),
    intersection: set(),
    difference: set('spec.replicas'),
    recursive: set('spec.replicas'),
  },
  {
    name: 'shared leaf',
    a: set('spec.replicas', 'metadata.labels.app'),
    b: set('spec.replicas'),
    union: set('spec.replicas', 'metadata.labels.app'),
    intersection: set('spec.replicas'),
    difference: set('metadata.labels.app'),
    recursive: set('metadata.labels.app'),
  },
  {
    name: 'parent minus child keeps the parent',
    a: set('metadata.labels', 'metadata.labels.app'),
    b: set('metadata.labels.app'),
    union: set('metadata.labels', 'metadata.labels.app'),
    intersection: set('metadata.labels.app'),
    difference: set('metadata.labels'),
    recursive: set('metadata.labels'),
  },
  {
    name: 'child minus parent: difference keeps the child, recursive difference drops it',
    a: set('metadata.labels.app', 'metadata.labels.tier'),
    b: set('metadata.labels'),
    union: set('metadata.labels', 'metadata.labels.app', 'metadata.labels.tier'),
    intersection: set(),
    difference: set('metadata.labels.app', 'metadata.labels.tier'),
    recursive: set(),
  },
  {
    name: 'empty sides',
    a: set(),
    b: set('x'),
    union: set('x'),
    intersection: set(),
    difference: set(),
    recursive: set(),
  },
];

for (const c of algebra) {
  test(`set algebra: ${c.name}`, () => {
    assert.equal(show(union(c.a, c.b)), show(c.union), 'union');
    assert.equal(show(union(c.b, c.a)), show(c.union), 'union commutes');
    assert.equal(show(intersection(c.a, c.b)), show(c.intersection), 'intersection');
    assert.equal(show(difference(c.a, c.b)), show(c.difference), 'difference');
    assert.equal(show(recursiveDifference(c.a, c.b)), show(c.recursive), 'recursive difference');
  });
}

test('operations return an unchanged input itself', () => {
  const a = set('spec.replicas', 'spec.template.spec.containers');
  assert.equal(difference(a, set('status.x')), a);
  assert.equal(recursiveDifference(a, set('status')), a);
  assert.equal(union(a, set()), a);
  assert.equal(intersection(a, a), a);
  // A writer updating fields it already owns: the union is its old set itself.
  assert.equal(union(set('spec.replicas'), a), a);
  assert.equal(union(a, set('spec.template.spec.containers')), a);
  assert.equal(show(union(set('spec.b', 'spec.a'), set('spec.c'))), show(set('spec.a', 'spec.b', 'spec.c')));
});

test('has, withPrefix and paths follow upstream', () => {
  const s = set('spec.replicas', 'metadata.labels', 'metadata.labels.app', 'metadata.name');
  assert.ok(has(s, [f('spec'), f('replicas')]));
  assert.ok(has(s, [f('metadata'), f('labels')]));
  assert.ok(!has(s, [f('spec')]));
  assert.equal(show(withPrefix(s, f('metadata'))), show(set('labels', 'labels.app', 'name')));
  // Members of a node first, then the paths below its children.
  assert.deepEqual(paths(s).map(formatPath), ['.metadata.labels', '.metadata.name', '.metadata.labels.app', '.spec.replicas']);
});

test('list items: keys sort by their fields, values by type, then indexes', () => {
  const k = (name: string) => keyElement([['name', name]]);
  const s = fieldSetOf([f('c'), k('b')], [f('c'), k('a!')], [f('c'), k('a')], [f('c'), valueElement('x')], [f('c'), valueElement(3)]);
  assert.deepEqual(Object.keys(s['f:c']), ['k:{"name":"a"}', 'k:{"name":"a!"}', 'k:{"name":"b"}', 'v:3', 'v:"x"']);
  assert.ok(compareElements('f:z', 'k:{"a":1}') < 0);
  assert.ok(compareElements('v:"x"', 'i:0') < 0);
  assert.equal(keyElement([['protocol', 'TCP'], ['containerPort', 80]]), 'k:{"containerPort":80,"protocol":"TCP"}');
  assert.equal(valueElement('a<b&c'), 'v:"a\\u003cb\\u0026c"');
  assert.deepEqual(decodeElement('k:{"port":8080,"protocol":"UDP"}'), { kind: 'key', fields: [['port', 8080], ['protocol', 'UDP']] });
  assert.equal(formatPath([f('spec'), f('ports'), keyElement([['port', 8080], ['protocol', 'UDP']]), f('name')]), '.spec.ports[port=8080,protocol="UDP"].name');
  assert.equal(formatPath([f('finalizers'), valueElement('a')]), '.finalizers[=\"a\"]');
});

test('fieldsV1 from a client is checked and put in canonical order', () => {
  const s = canonicalFieldSet({ 'f:b': {}, 'f:a': { 'f:y': {}, '.': {} } }, decodeElement);
  assert.equal(show(s), '{"f:a":{".":{},"f:y":{}},"f:b":{}}');
  assert.ok(equals(s, set('a', 'a.y', 'b')));
  assert.throws(() => canonicalFieldSet({ 'x:1': {} }, decodeElement), /unknown path element type/);
  assert.throws(() => canonicalFieldSet({ 'f:a': [] }, decodeElement), /expected an object/);
});
