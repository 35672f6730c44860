import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateStructural } from './structural.ts';
import type { JSONSchemaProps } from './types.ts';

const at = 'spec.validation.openAPIV3Schema';
const messages = (s: JSONSchemaProps) => validateStructural(s, at).map((e) => `${e.field}: ${e.detail}`);

test('a typed schema is structural', () => {
  assert.deepEqual(messages({ type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'string' }, l: { type: 'array', items: { type: 'integer' } } } } } }), []);
});

test('missing types are reported with upstream messages at every level', () => {
  assert.deepEqual(messages({ properties: { spec: { properties: { a: {} } }, l: { type: 'array', items: {} } } }), [
    `${at}.properties[l].items.type: Required value: must not be empty for specified array items`,
    `${at}.properties[spec].properties[a].type: Required value: must not be empty for specified object fields`,
    `${at}.properties[spec].type: Required value: must not be empty for specified object fields`,
    `${at}.type: Required value: must not be empty at the root`,
  ]);
});

test('x-kubernetes-int-or-string and preserve-unknown-fields need no type; arrays need items', () => {
  assert.deepEqual(messages({ type: 'object', properties: { p: { 'x-kubernetes-int-or-string': true }, q: { 'x-kubernetes-preserve-unknown-fields': true }, r: { type: 'array' } } }), [
    `${at}.properties[r].items: Required value: must be specified`,
  ]);
});

test('value validations may not add types or structure', () => {
  const errs = messages({
    type: 'object',
    properties: { a: { type: 'string', anyOf: [{ type: 'string', description: 'x' }, { properties: { b: { maxLength: 1 } } }] } },
  });
  assert.deepEqual(errs, [
    `${at}.properties[a].anyOf[0].description: Forbidden: must be empty to be structural`,
    `${at}.properties[a].anyOf[0].type: Forbidden: must be empty to be structural`,
    `${at}.properties[a].properties[b]: Required value: because it is defined in ${at}.properties[a].anyOf[1].properties[b]`,
  ]);
});

test('int-or-string anyOf pattern is allowed', () => {
  assert.deepEqual(messages({ type: 'object', properties: { p: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] } } }), []);
});

test('root metadata may only restrict name and generateName; additionalProperties not at the root', () => {
  assert.deepEqual(messages({ type: 'object', properties: { metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 5 } } } } }), []);
  assert.deepEqual(messages({ type: 'object', additionalProperties: { type: 'string' }, properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } } }), [
    `${at}.additionalProperties: Forbidden: must not be used at the root`,
    `${at}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
  ]);
});

test('embedded resources must be objects with properties or preserved fields', () => {
  assert.deepEqual(messages({ type: 'object', properties: { e: { type: 'string', 'x-kubernetes-embedded-resource': true } } }), [
    `${at}.properties[e].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields`,
    `${at}.properties[e].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true`,
  ]);
});
