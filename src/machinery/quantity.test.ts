import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from './errors.ts';
import {
  addQuantities,
  canonicalizeQuantity,
  compareQuantities,
  isValidQuantity,
  parseQuantity,
  quantityError,
  quantityFromInt,
  quantityFromJSON,
  quantityToMilli,
  quantityValue,
  subtractQuantities,
} from './quantity.ts';

test('canonical forms', () => {
  const cases: Array<[string, string]> = [
    ['0', '0'],
    ['0m', '0'],
    ['0Gi', '0'],
    ['-0', '0'],
    ['1', '1'],
    ['1.0', '1'],
    ['-1', '-1'],
    ['+1', '1'],
    ['1000m', '1'],
    ['1500m', '1500m'],
    ['0.1', '100m'],
    ['.5', '500m'],
    ['5.', '5'],
    ['100M', '100M'],
    ['1000', '1k'],
    ['1000000', '1M'],
    ['12345', '12345'],
    ['1.5Gi', '1536Mi'],
    ['0.5Gi', '512Mi'],
    ['1024Mi', '1Gi'],
    ['1Ki', '1Ki'],
    ['2048', '2048'],
    ['1023Ki', '1023Ki'],
    ['1.5Ki', '1536'],
    ['100Mi', '100Mi'],
    ['0.5Ki', '512'],
    ['1.1Ki', '1126400m'],
    ['1e3', '1e3'],
    ['1E3', '1e3'],
    ['1e-3', '1e-3'],
    ['100e0', '100'],
    ['1.5e3', '1500'],
    ['1e6', '1e6'],
    ['2.5e-1', '250e-3'],
    ['1n', '1n'],
    ['1u', '1u'],
    ['1k', '1k'],
    ['1E', '1E'],
    ['10E', '10E'],
    ['0.0000000001', '1n'],
    ['-0.0000000001', '-1n'],
    ['1.0000000001', '1000000001n'],
    ['1.5m', '1500u'],
    ['123456789012345678901234567890', '123456789012345678901234567890'],
    ['-1.5Gi', '-1536Mi'],
  ];
  for (const [input, want] of cases) assert.equal(parseQuantity(input).toString(), want, input);
});

test('invalid quantities', () => {
  const format = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  const suffix = "unable to parse quantity's suffix";
  const cases: Array<[string, string]> = [
    ['', format],
    ['1.5.5', format],
    ['1Kb', format],
    ['abc', format],
    ['.', format],
    ['-', format],
    [' 1', format],
    ['1 ', format],
    ['1KK', suffix],
    ['1K', suffix],
    ['1e', suffix],
    ['1i', suffix],
    ['1m5', suffix],
    ['1Mi5', suffix],
  ];
  for (const [input, msg] of cases) {
    assert.equal(isValidQuantity(input), false, input);
    assert.equal(quantityError(input), msg, input);
    assert.throws(
      () => parseQuantity(input),
      (e: unknown) => e instanceof StatusError && e.code === 400 && e.message === msg,
      input,
    );
  }
  assert.equal(isValidQuantity('100m'), true);
  assert.equal(isValidQuantity(2), true);
  assert.equal(isValidQuantity({}), false);
});

test('Value and MilliValue round away from zero', () => {
  const cases: Array<[string, number, number]> = [
    ['1', 1, 1000],
    ['100m', 1, 100],
    ['1500m', 2, 1500],
    ['0.5', 1, 500],
    ['1n', 1, 1],
    ['-1n', -1, -1],
    ['-1500m', -2, -1500],
    ['1Gi', 1073741824, 1073741824000],
    ['1.5u', 1, 1],
    ['0', 0, 0],
  ];
  for (const [input, value, milli] of cases) {
    const q = parseQuantity(input);
    assert.equal(quantityValue(q), value, `${input} value`);
    assert.equal(quantityToMilli(q), milli, `${input} milli`);
  }
});

test('compare and add are exact', () => {
  assert.equal(compareQuantities(parseQuantity('1'), parseQuantity('1000m')), 0);
  assert.equal(compareQuantities(parseQuantity('1Gi'), parseQuantity('1G')), 1);
  assert.equal(compareQuantities(parseQuantity('999m'), parseQuantity('1')), -1);
  assert.equal(compareQuantities(parseQuantity('0.1'), parseQuantity('100m')), 0);
  assert.equal(addQuantities(parseQuantity('100m'), parseQuantity('200m')).toString(), '300m');
  assert.equal(addQuantities(parseQuantity('0.1'), parseQuantity('0.2')).toString(), '300m');
  assert.equal(addQuantities(parseQuantity('1Gi'), parseQuantity('512Mi')).toString(), '1536Mi');
  assert.equal(addQuantities(parseQuantity('0'), parseQuantity('1Gi')).toString(), '1Gi');
  assert.equal(subtractQuantities(parseQuantity('1'), parseQuantity('250m')).toString(), '750m');
  assert.equal(quantityFromInt(3).toString(), '3');
});

test('JSON values: numbers, trimmed strings, null', () => {
  assert.equal(canonicalizeQuantity(1), '1');
  assert.equal(canonicalizeQuantity(0.5), '500m');
  assert.equal(canonicalizeQuantity(1e21), '1e21');
  assert.equal(canonicalizeQuantity(' 2Gi '), '2Gi');
  assert.equal(quantityFromJSON(null).toString(), '0');
  assert.equal(JSON.stringify({ cpu: parseQuantity('1000m') }), '{"cpu":"1"}');
  assert.throws(() => quantityFromJSON(true), { code: 400 });
});

test('parses stay right when the same texts come back, valid or not, after many others', () => {
  for (let round = 0; round < 2; round++) {
    assert.equal(parseQuantity('100m').toString(), '100m');
    assert.throws(() => parseQuantity('12x'), { code: 400 });
    // More distinct texts than are remembered, so the next round parses everything again.
    for (let i = 0; i < 3000; i++) assert.equal(parseQuantity(`${i}Mi`).nanos, BigInt(i) * 1024n * 1024n * 1_000_000_000n);
  }
});
