import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateValue } from './value-validation.ts';
import type { JSONSchemaProps } from './types.ts';

const spec = (properties: Record<string, JSONSchemaProps>, extra: JSONSchemaProps = {}): JSONSchemaProps => ({
  type: 'object',
  properties: { spec: { type: 'object', properties, ...extra } },
});
const messages = (s: JSONSchemaProps, v: unknown) => validateValue(s, v).map((e) => `${e.field}: ${e.detail}`);

test('types, as kube-openapi words them', () => {
  const s = spec({ replicas: { type: 'integer' }, name: { type: 'string' }, on: { type: 'boolean' }, ratio: { type: 'number' }, l: { type: 'array', items: { type: 'string' } } });
  assert.deepEqual(messages(s, { spec: { replicas: 'three', name: 5, on: 'yes', ratio: 1.5, l: ['a', 2] } }), [
    'spec.replicas: Invalid value: "three": spec.replicas in body must be of type integer: "string"',
    'spec.name: Invalid value: 5: spec.name in body must be of type string: "integer"',
    'spec.on: Invalid value: "yes": spec.on in body must be of type boolean: "string"',
    'spec.l.1: Invalid value: 2: spec.l.1 in body must be of type string: "integer"',
  ]);
  assert.deepEqual(messages(s, { spec: { replicas: 1.5 } }), ['spec.replicas: Invalid value: 1.5: spec.replicas in body must be of type integer: "number"']);
});

test('numbers: minimum, maximum, exclusive, multipleOf', () => {
  const s = spec({ a: { type: 'integer', minimum: 1, maximum: 10 }, b: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true }, c: { type: 'integer', multipleOf: 5 } });
  assert.deepEqual(messages(s, { spec: { a: 0, b: 1, c: 7 } }), [
    'spec.a: Invalid value: 0: spec.a in body should be greater than or equal to 1',
    'spec.b: Invalid value: 1: spec.b in body should be less than 1',
    'spec.c: Invalid value: 7: spec.c in body should be a multiple of 5',
  ]);
  assert.deepEqual(messages(s, { spec: { a: 11, b: 0 } }), [
    'spec.a: Invalid value: 11: spec.a in body should be less than or equal to 10',
    'spec.b: Invalid value: 0: spec.b in body should be greater than 0',
  ]);
});

test('strings: lengths, pattern, enum, formats', () => {
  const s = spec({
    a: { type: 'string', minLength: 2, maxLength: 3 },
    cron: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
    e: { type: 'string', enum: ['x', 'y'] },
    t: { type: 'string', format: 'date-time' },
    i: { type: 'integer', format: 'int32' },
  });
  assert.deepEqual(messages(s, { spec: { a: 'abcd', cron: 'every minute', e: 'z', t: 'yesterday', i: 2 ** 31 } }), [
    'spec.a: Too long: may not be more than 3 bytes',
    "spec.cron: Invalid value: \"every minute\": spec.cron in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'",
    'spec.e: Unsupported value: "z": supported values: "x", "y"',
    'spec.t: Invalid value: "yesterday": spec.t in body must be of type date-time: "yesterday"',
    'spec.i: Invalid value: 2147483648: spec.i in body must be of type int32: "2147483648"',
  ]);
  assert.deepEqual(messages(s, { spec: { a: 'a' } }), ['spec.a: Invalid value: "a": spec.a in body should be at least 2 chars long']);
  assert.deepEqual(messages(s, { spec: { cron: '* * * * */5', t: '2024-01-02T03:04:05Z', e: 'x', a: 'ab' } }), []);
});

test('objects and arrays: required, min/max items and properties, nullable', () => {
  const s = spec(
    { l: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 2 }, m: { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 1, minProperties: 1 }, n: { type: 'string', nullable: true }, o: { type: 'string' } },
    { required: ['l'] },
  );
  assert.deepEqual(messages(s, { spec: { m: {} } }), ['spec.l: Required value', 'spec.m: Invalid value: {}: spec.m in body should have at least 1 properties']);
  assert.deepEqual(messages(s, { spec: { l: ['a', 'b', 'c'], m: { a: 'x', b: 'y' }, n: null, o: null } }), [
    'spec.l: Too many: 3: must have at most 2 items',
    'spec.m: Too many: 2: must have at most 1 items',
    'spec.o: Invalid value: null: spec.o in body must be of type string: "null"',
  ]);
  assert.deepEqual(messages(s, { spec: { l: [] } }), ['spec.l: Invalid value: []: spec.l in body should have at least 1 items']);
});

test('x-kubernetes-int-or-string takes integers and strings only', () => {
  const s = spec({ port: { 'x-kubernetes-int-or-string': true } });
  assert.deepEqual(messages(s, { spec: { port: 80 } }), []);
  assert.deepEqual(messages(s, { spec: { port: 'http' } }), []);
  assert.deepEqual(messages(s, { spec: { port: 1.5 } }), ['spec.port: Invalid value: 1.5: spec.port in body must be of type integer,string: "number"']);
});

test('anyOf, oneOf, not', () => {
  const s = spec({ a: { type: 'string', anyOf: [{ pattern: '^x' }, { pattern: '^y' }] }, b: { type: 'integer', not: { minimum: 5 } } });
  assert.deepEqual(messages(s, { spec: { a: 'x1', b: 1 } }), []);
  const errs = messages(s, { spec: { a: 'z', b: 6 } });
  assert.ok(errs.includes('spec.a: Invalid value: "z": spec.a in body must validate at least one schema (anyOf)'), errs.join('\n'));
  assert.ok(errs.includes('spec.b: Invalid value: 6: spec.b in body must not validate the schema (not)'), errs.join('\n'));
});
