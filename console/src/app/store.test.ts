// The map's node order: naturalSort (names split once into text and number) agrees with
// naturalCompare on every kind of name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { naturalCompare, naturalSort } from './store.ts';

test('naturalSort orders names as naturalCompare does', () => {
  const names = ['sim-10', 'sim-2', 'sim-1', 'sim-01', 'sim-002', 'node', 'node-a', 'a1b2', 'a1b10', 'a2b1', 'sim-100', 'sim-99', 'zz-3', 'sim-', 'x', '1', '10', '9', 'big-123456789012345678901', 'big-2'];
  for (let i = 0; i < 5000; i++) names.push(`w-${(i * 7919) % 5000}`);
  const expect = [...names].sort(naturalCompare);
  const got = naturalSort(names.map((name) => ({ name }))).map((x) => x.name);
  assert.deepEqual(got, expect);
  assert.deepEqual(got.slice(0, 3), ['1', '9', '10']);
});
