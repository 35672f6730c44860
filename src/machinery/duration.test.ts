import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from './duration.ts';

test('parseDuration reads Go durations', () => {
  assert.equal(parseDuration('2s'), 2000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('0'), 0);
  assert.throws(() => parseDuration('2'), /invalid duration "2"/);
  assert.throws(() => parseDuration('two seconds'), /invalid duration/);
  assert.throws(() => parseDuration(''), /invalid duration/);
});
