import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNesting, cloneJSON, copyFiltered, jsonEqual, maxNestingDepth, nestingDepth, stringifyJSON } from './json-values.ts';
import { StatusError } from './errors.ts';

/** `{"a":{"a":...{"a":1}}}` with `depth` objects. */
function deepObject(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v, n: null };
  return v;
}

test('nestingDepth counts levels of objects and arrays, and stops past its limit', () => {
  assert.equal(nestingDepth(1), 0);
  assert.equal(nestingDepth({}), 1);
  assert.equal(nestingDepth({ a: [1, { b: [] }] }), 4);
  assert.equal(nestingDepth(deepObject(300_000)), 300_000);
  assert.equal(nestingDepth(deepObject(300_000), 10), 11);
});

test('checkNesting allows upstream\'s 10,000 levels and refuses one more with a 400', () => {
  checkNesting(deepObject(maxNestingDepth), 'the body');
  assert.throws(
    () => checkNesting(deepObject(maxNestingDepth + 1), 'the body'),
    (e: unknown) => e instanceof StatusError && e.code === 400 && /the body is nested too deeply: it has more than 10000 levels/.test(e.message),
  );
  // Text too short to nest that deep is not walked.
  checkNesting(deepObject(maxNestingDepth + 1), 'the body', 100);
});

test('stringify, clone, compare and filter work at any depth', () => {
  const v = deepObject(maxNestingDepth);
  const text = stringifyJSON(v);
  assert.ok(text.startsWith('{"a":{"a":'));
  assert.ok(text.endsWith(',"n":null},"n":null}'));
  assert.equal(stringifyJSON({ a: [1, undefined, 'x'], b: undefined, c: { d: null } }), JSON.stringify({ a: [1, undefined, 'x'], b: undefined, c: { d: null } }));
  const copy = cloneJSON(v);
  assert.notEqual(copy, v);
  assert.ok(jsonEqual(copy, v));
  assert.equal(jsonEqual(deepObject(maxNestingDepth), deepObject(maxNestingDepth - 1)), false);
  const noNulls = copyFiltered(v, (_k, x) => x !== null);
  assert.equal(stringifyJSON(noNulls), `${'{"a":'.repeat(maxNestingDepth)}1${'}'.repeat(maxNestingDepth)}`);
  assert.deepEqual(
    copyFiltered({ keep: [1, { $patch: 'delete' }, { x: null }], drop: { $patch: 'replace' } }, (_k, x) => x !== null, (o) => '$patch' in o),
    { keep: [1, {}] },
  );
});
