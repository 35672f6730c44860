import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scaledValue } from './intstr.ts';

test('scaledValue takes ints as they are and rounds percentages as asked', () => {
  assert.equal(scaledValue(2, 10, true), 2);
  assert.equal(scaledValue('3', 10, true), 3);
  assert.equal(scaledValue('50%', 3, true), 2);
  assert.equal(scaledValue('50%', 3, false), 1);
  assert.equal(scaledValue('25%', 0, true), 0);
  assert.throws(() => scaledValue('12x', 10, true), /invalid value for IntOrString/);
  assert.throws(() => scaledValue(undefined, 10, true), /invalid value for IntOrString/);
});
