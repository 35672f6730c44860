import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults, pruneNonNullableNulls } from './defaulting.ts';
import type { JSONSchemaProps } from './types.ts';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      default: {},
      properties: {
        cronSpec: { type: 'string', default: '5 0 * * *' },
        replicas: { type: 'integer', default: 1 },
        nested: { type: 'object', default: { a: 'x' }, properties: { a: { type: 'string' }, b: { type: 'string', default: 'b' } } },
        list: { type: 'array', items: { type: 'object', properties: { port: { type: 'integer', default: 80 } } } },
        map: { type: 'object', additionalProperties: { type: 'object', properties: { on: { type: 'boolean', default: true } } } },
        nullable: { type: 'string', nullable: true, default: 'n' },
        plain: { type: 'string' },
      },
    },
  },
};

test('absent fields get copies of their defaults, and defaulting goes on inside them', () => {
  const obj: any = {};
  applyDefaults(obj, schema);
  assert.deepEqual(obj, { spec: { cronSpec: '5 0 * * *', replicas: 1, nested: { a: 'x', b: 'b' }, nullable: 'n' } });
  obj.spec.nested.a = 'changed';
  assert.deepEqual(schema.properties!.spec.properties!.nested.default, { a: 'x' });
});

test('list items and map values are defaulted; set values are kept', () => {
  const obj: any = { spec: { replicas: 3, list: [{}, { port: 8080 }], map: { x: {}, y: { on: false } } } };
  applyDefaults(obj, schema);
  assert.equal(obj.spec.replicas, 3);
  assert.deepEqual(obj.spec.list, [{ port: 80 }, { port: 8080 }]);
  assert.deepEqual(obj.spec.map, { x: { on: true }, y: { on: false } });
});

test('null takes the default where null is not allowed; nullable fields keep null; other nulls are dropped', () => {
  const obj: any = { spec: { replicas: null, nullable: null, plain: null } };
  applyDefaults(obj, schema);
  pruneNonNullableNulls(obj, schema);
  assert.equal(obj.spec.replicas, 1);
  assert.equal(obj.spec.nullable, null);
  assert.ok(!('plain' in obj.spec));
});
