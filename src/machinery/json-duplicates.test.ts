import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findDuplicateFields } from './json-duplicates.ts';

test('no duplicates in ordinary objects', () => {
  assert.deepEqual(findDuplicateFields('{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}],"d":"x\\"y"}'), []);
});

test('duplicates are reported with their paths', () => {
  assert.deepEqual(findDuplicateFields('{"kind":"ConfigMap","data":{"a":"1"},"data":{"b":"2"}}'), ['data']);
  assert.deepEqual(findDuplicateFields('{"metadata":{"labels":{"app":"x","app":"y"}}}'), ['metadata.labels.app']);
  assert.deepEqual(findDuplicateFields('{"spec":{"containers":[{"name":"a"},{"name":"b","name":"c"}]}}'), ['spec.containers[1].name']);
});

test('strings with braces, commas and escapes do not confuse it', () => {
  assert.deepEqual(findDuplicateFields('{"a":"{,}[\\"","b":"\\\\","a\\u0062":1,"ab":2}'), ['ab']);
});

test('empty objects inside arrays are not mistaken for keys', () => {
  assert.deepEqual(findDuplicateFields('{"command":[{},"3600",{}],"x":[[],{"a":1}],"y":{}}'), []);
});
