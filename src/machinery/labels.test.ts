import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from './errors.ts';
import {
  everythingSelector,
  labelSelectorFromObject,
  labelSelectorFromObjectOrEverything,
  nothingSelector,
  parseLabelSelector,
  selectorFromSet,
  selectorToString,
  validateLabelSelector,
} from './labels.ts';

test('parse: canonical string form', () => {
  const cases: Array<[string, string]> = [
    ['', ''],
    ['a=b', 'a=b'],
    ['a==b', 'a==b'],
    ['a!=b', 'a!=b'],
    ['x=a,y=b,z=c', 'x=a,y=b,z=c'],
    ['z=c,x=a', 'x=a,z=c'],
    ['  a  =  b , c  !=  d ', 'a=b,c!=d'],
    ['e in (y,x)', 'e in (x,y)'],
    ['e in(x,y)', 'e in (x,y)'],
    ['f notin (z)', 'f notin (z)'],
    ['g', 'g'],
    ['!h', '!h'],
    [' ! h ', '!h'],
    ['a>1', 'a>1'],
    ['a < 5', 'a<5'],
    ['a=', 'a='],
    ['a=,b=c', 'a=,b=c'],
    ['x in ()', 'x in ()'],
    ['x in (a,,b)', 'x in (,a,b)'],
    ['x in (a,a)', 'x in (a)'],
    ['in=notin', 'in=notin'],
    ['example.com/app=web,tier in (fe,be)', 'example.com/app=web,tier in (be,fe)'],
  ];
  for (const [input, want] of cases) assert.equal(parseLabelSelector(input).toString(), want, input);
});

test('parse: errors are 400 with upstream messages', () => {
  const cases: Array<[string, string | RegExp]> = [
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a=b,', "found '', expected: identifier after ','"],
    [',a', "found ',', expected: !, identifier, or 'end of string'"],
    ['x in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['x in a', "unable to parse requirement: found 'a' expected: '('"],
    ['x=(', "unable to parse requirement: found '(', expected: identifier"],
    ['!a=b', "unable to parse requirement: found '=', expected: ',' or 'end of string'"],
    ['a>x', `unable to parse requirement: values[0]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer`],
    ['app:monolith', /^unable to parse requirement: <nil>: Invalid value: "app:monolith": name part must consist of/],
    ['a=b$', /^unable to parse requirement: values\[0\]\[a\]: Invalid value: "b\$": a valid label must be/],
  ];
  for (const [input, want] of cases) {
    assert.throws(
      () => parseLabelSelector(input),
      (e: unknown) => {
        assert.ok(e instanceof StatusError, input);
        assert.equal(e.code, 400);
        assert.equal(e.reason, 'BadRequest');
        if (typeof want === 'string') assert.equal(e.message, want, input);
        else assert.match(e.message, want, input);
        return true;
      },
    );
  }
});

test('matches: all operators', () => {
  const ls = { app: 'web', tier: 'fe', n: '3' };
  const cases: Array<[string, Record<string, string> | undefined, boolean]> = [
    ['', ls, true],
    ['', undefined, true],
    ['app=web', ls, true],
    ['app==web', ls, true],
    ['app=db', ls, false],
    ['app!=db', ls, true],
    ['missing!=x', ls, true],
    ['missing=x', ls, false],
    ['app in (web,db)', ls, true],
    ['app notin (web)', ls, false],
    ['missing notin (web)', ls, true],
    ['app', ls, true],
    ['missing', ls, false],
    ['!app', ls, false],
    ['!missing', ls, true],
    ['n>2', ls, true],
    ['n>3', ls, false],
    ['n<4', ls, true],
    ['app>1', ls, false],
    ['missing<1', ls, false],
    ['app=web,tier=be', ls, false],
    ['app=web,tier=fe', ls, true],
    ['x=', {}, false],
    ['x=', { x: '' }, true],
  ];
  for (const [sel, labels, want] of cases) assert.equal(parseLabelSelector(sel).matches(labels), want, `${sel} on ${JSON.stringify(labels)}`);
});

test('from object: empty matches everything, null matches nothing', () => {
  assert.equal(labelSelectorFromObject({}).matches({ a: 'b' }), true);
  assert.equal(labelSelectorFromObject({ matchLabels: {}, matchExpressions: [] }).empty(), true);
  assert.equal(labelSelectorFromObject(undefined).matches({ a: 'b' }), false);
  assert.equal(labelSelectorFromObject(null).matches({}), false);
  assert.equal(labelSelectorFromObjectOrEverything(undefined).matches({}), true);
  assert.equal(everythingSelector().matches({}), true);
  assert.equal(nothingSelector().matches({}), false);
  assert.equal(selectorFromSet({}).matches({ a: 'b' }), true);
  assert.equal(selectorFromSet({ a: 'b' }).matches({ a: 'c' }), false);
});

test('from object: requirements and string form', () => {
  const sel = labelSelectorFromObject({
    matchLabels: { tier: 'fe', app: 'web' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['prod', 'dev'] },
      { key: 'zone', operator: 'NotIn', values: ['b'] },
      { key: 'gpu', operator: 'Exists' },
      { key: 'legacy', operator: 'DoesNotExist', values: [] },
    ],
  });
  assert.equal(sel.toString(), 'app=web,env in (dev,prod),gpu,!legacy,tier=fe,zone notin (b)');
  assert.equal(sel.matches({ app: 'web', tier: 'fe', env: 'prod', gpu: '1', zone: 'a' }), true);
  assert.equal(sel.matches({ app: 'web', tier: 'fe', env: 'prod', gpu: '1', zone: 'b' }), false);
  assert.equal(sel.matches({ app: 'web', tier: 'fe', env: 'prod', gpu: '1', legacy: 'y' }), false);
  assert.equal(selectorToString({ matchLabels: { app: 'nginx' } }), 'app=nginx');
  assert.equal(selectorToString(null), '');
  assert.equal(selectorToString(parseLabelSelector('b=1,a=2')), 'a=2,b=1');
});

test('from object: invalid operator and empty In values throw 400', () => {
  assert.throws(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }), {
    code: 400,
    message: '"Gt" is not a valid label selector operator',
  });
  assert.throws(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), /values set can't be empty/);
  assert.throws(() => labelSelectorFromObject({ matchLabels: { 'bad key': 'x' } }), /key: Invalid value: "bad key"/);
});

test('validateLabelSelector: field paths and messages', () => {
  assert.deepEqual(validateLabelSelector(undefined, 'spec.selector'), []);
  assert.deepEqual(validateLabelSelector({ matchLabels: { app: 'x' } }, 'spec.selector'), []);
  const errs = validateLabelSelector(
    {
      matchLabels: { 'bad key': 'v' },
      matchExpressions: [
        { key: 'a', operator: 'In', values: [] },
        { key: 'b', operator: 'Exists', values: ['x'] },
        { key: 'c', operator: 'Foo' },
        { key: '', operator: 'NotIn', values: ['ok', 'bad value'] },
      ],
    },
    'spec.selector',
  );
  const got = errs.map((e) => `${e.type} ${e.field}`);
  assert.deepEqual(got, [
    'FieldValueInvalid spec.selector.matchLabels',
    'FieldValueRequired spec.selector.matchExpressions[0].values',
    'FieldValueForbidden spec.selector.matchExpressions[1].values',
    'FieldValueInvalid spec.selector.matchExpressions[2].operator',
    'FieldValueInvalid spec.selector.matchExpressions[3].key',
    'FieldValueInvalid spec.selector.matchExpressions[3].values[1]',
  ]);
  assert.equal(errs[1].detail, "Required value: must be specified when `operator` is 'In' or 'NotIn'");
  assert.equal(errs[2].detail, "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
  assert.equal(errs[3].detail, 'Invalid value: "Foo": not a valid selector operator');
});
