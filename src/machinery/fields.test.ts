import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from './errors.ts';
import { checkFieldSelectorSupported, escapeFieldValue, parseFieldSelector, unescapeFieldValue } from './fields.ts';

test('parse: terms, operators and canonical string', () => {
  const cases: Array<[string, Array<[string, string, string]>, string]> = [
    ['', [], ''],
    ['metadata.name=foo', [['metadata.name', '=', 'foo']], 'metadata.name=foo'],
    ['metadata.name==foo', [['metadata.name', '==', 'foo']], 'metadata.name=foo'],
    ['status.phase!=Running', [['status.phase', '!=', 'Running']], 'status.phase!=Running'],
    ['b=2,a=1', [['a', '=', '1'], ['b', '=', '2']], 'a=1,b=2'],
    ['a=', [['a', '=', '']], 'a='],
    ['a=x\\,y\\=z\\\\w', [['a', '=', 'x,y=z\\w']], 'a=x\\,y\\=z\\\\w'],
    ['a=1,,b=2', [['a', '=', '1'], ['b', '=', '2']], 'a=1,b=2'],
  ];
  for (const [input, reqs, str] of cases) {
    const sel = parseFieldSelector(input);
    assert.deepEqual(
      sel.requirements.map((r) => [r.field, r.operator, r.value]),
      reqs,
      input,
    );
    assert.equal(sel.toString(), str, input);
  }
});

test('parse: errors', () => {
  const cases: Array<[string, string]> = [
    ['foo', "invalid selector: 'foo'; can't understand 'foo'"],
    ['a=b,foo', "invalid selector: 'a=b,foo'; can't understand 'foo'"],
    ['a=b=c', 'invalid field selector: unescaped character in value: 61'],
    ['a=b\\x', 'invalid field selector: invalid escape sequence: \\x'],
    ['a=b\\', 'invalid field selector: invalid escape sequence: \\'],
  ];
  for (const [input, msg] of cases) {
    assert.throws(
      () => parseFieldSelector(input),
      (e: unknown) => e instanceof StatusError && e.code === 400 && e.message === msg,
      input,
    );
  }
});

test('matches: missing fields compare as empty', () => {
  const obj: Record<string, string> = { 'metadata.name': 'web', 'status.phase': 'Running' };
  const get = (f: string) => obj[f];
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['metadata.name=web', true],
    ['metadata.name==web', true],
    ['metadata.name=db', false],
    ['status.phase!=Running', false],
    ['status.phase!=Pending', true],
    ['spec.nodeName=', true],
    ['spec.nodeName!=', false],
    ['metadata.name=web,status.phase=Running', true],
    ['metadata.name=web,status.phase=Failed', false],
  ];
  for (const [sel, want] of cases) assert.equal(parseFieldSelector(sel).matches(get), want, sel);
});

test('supported fields and exact-match lookup', () => {
  const sel = parseFieldSelector('metadata.name=a,spec.foo=b');
  assert.throws(() => checkFieldSelectorSupported(sel, ['metadata.name', 'metadata.namespace']), {
    code: 400,
    reason: 'BadRequest',
    message: 'field label not supported: spec.foo',
  });
  checkFieldSelectorSupported(sel, ['metadata.name', 'spec.foo']);
  assert.equal(sel.requiresExactMatch('metadata.name'), 'a');
  assert.equal(parseFieldSelector('metadata.name!=a').requiresExactMatch('metadata.name'), undefined);
});

test('escape round trip', () => {
  for (const v of ['', 'plain', 'a,b', 'a=b', 'a\\b', ',=\\']) assert.equal(unescapeFieldValue(escapeFieldValue(v)), v);
});
