import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goEscapeJSON, goJSON } from './go-json.ts';

test("goJSON writes decoded JSON as Go's json.Marshal of a map: sorted keys, Go's escapes", () => {
  assert.equal(goJSON({ b: 1, a: [true, null, 'x'], c: { z: {}, y: [] } }), '{"a":[true,null,"x"],"b":1,"c":{"y":[],"z":{}}}');
  assert.equal(goJSON({ cmd: 'a && b < c > d', sep: '\u2028' }), '{"cmd":"a \\u0026\\u0026 b \\u003c c \\u003e d","sep":"\\u2028"}');
  assert.equal(goJSON({ $patch: 'replace', metadata: {} }), '{"$patch":"replace","metadata":{}}');
  assert.equal(goJSON({ q: 'say "hi"\n\t\u0001' }), '{"q":"say \\"hi\\"\\n\\t\\u0001"}');
  assert.equal(goJSON({ n: 1.5, big: 1e21, small: 1e-7 }), '{"big":1e+21,"n":1.5,"small":1e-7}');
});

test('goEscapeJSON escapes only where Go does, and leaves other text alone', () => {
  const plain = '{"a":"b"}';
  assert.equal(goEscapeJSON(plain), plain);
  assert.equal(goEscapeJSON('{"a":"<&>"}'), '{"a":"\\u003c\\u0026\\u003e"}');
  assert.deepEqual(JSON.parse(goEscapeJSON('{"a":"<&>"}')), { a: '<&>' });
});
