import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prune } from './pruning.ts';
import { coerceMetadata, validateEmbeddedResources } from './objectmeta.ts';
import { validateListTypes } from './listtype.ts';
import type { JSONSchemaProps } from './types.ts';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        known: { type: 'string' },
        list: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { typed: { type: 'object', properties: { a: { type: 'string' } } } } },
        template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', properties: { x: { type: 'string' } } } } },
      },
    },
  },
};

test('unknown fields are pruned and reported in document order; preserved and map fields stay', () => {
  const obj: any = {
    apiVersion: 'g/v1',
    kind: 'K',
    metadata: { name: 'a' },
    spec: {
      known: 'k',
      unknown: 1,
      list: [{ name: 'n', extra: true }],
      labels: { anything: 'goes' },
      free: { whatever: { deep: 1 }, typed: { a: 'x', b: 'pruned' } },
      template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { x: 'y', z: 1 } },
    },
    status: { gone: true },
  };
  const pruned = prune(obj, schema);
  assert.deepEqual(pruned, ['spec.unknown', 'spec.list[0].extra', 'spec.free.typed.b', 'spec.template.spec.z', 'status']);
  assert.deepEqual(obj.spec, {
    known: 'k',
    list: [{ name: 'n' }],
    labels: { anything: 'goes' },
    free: { whatever: { deep: 1 }, typed: { a: 'x' } },
    template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { x: 'y' } },
  });
  assert.equal(obj.status, undefined);
});

test('unknown metadata fields are dropped at the root and in embedded resources; wrong types are reported', () => {
  const obj: any = { metadata: { name: 'a', bogus: 1 }, spec: { template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', nope: 2 } } } };
  const r = coerceMetadata(obj, schema);
  assert.deepEqual(r.unknown, ['metadata.bogus', 'spec.template.metadata.nope']);
  assert.deepEqual(obj.metadata, { name: 'a' });
  assert.deepEqual(coerceMetadata({ metadata: { labels: ['x'] } }, schema).problem?.found, 'array');
});

test('embedded resources need apiVersion and kind', () => {
  const errs = validateEmbeddedResources({ spec: { template: { metadata: { labels: { 'bad key!': 'x' } } } } }, schema).map((e) => `${e.field}: ${e.detail}`);
  assert.equal(errs[0], 'spec.template.apiVersion: Required value: must not be empty');
  assert.equal(errs[1], 'spec.template.kind: Required value: must not be empty');
  assert.match(errs[2], /^spec\.template\.metadata\.labels: Invalid value: "bad key!"/);
});

test('list types: sets hold no duplicates, maps no duplicate keys', () => {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: {
      set: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
      map: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' }, v: { type: 'integer' } } } },
    },
  };
  const errs = validateListTypes({ set: ['a', 'b', 'a'], map: [{ name: 'x', v: 1 }, { name: 'y' }, { name: 'x', v: 2 }] }, s).map((e) => `${e.field}: ${e.detail}`);
  assert.deepEqual(errs, ['set[2]: Duplicate value: "a"', 'map[2]: Duplicate value: {"name":"x"}']);
});
