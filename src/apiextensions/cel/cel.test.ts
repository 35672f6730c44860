import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRules } from './compile.ts';
import { evaluateRules } from './validator.ts';
import type { JSONSchemaProps, ValidationRule } from '../schema/types.ts';

const at = 'spec.validation.openAPIV3Schema';
const fmt = (errs: { field: string; detail: string }[]) => errs.map((e) => `${e.field}: ${e.detail}`);

function specSchema(rules: ValidationRule[], properties: Record<string, JSONSchemaProps> = {}): JSONSchemaProps {
  return {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        'x-kubernetes-validations': rules,
        properties: {
          replicas: { type: 'integer' },
          maxReplicas: { type: 'integer' },
          name: { type: 'string', maxLength: 64 },
          tags: { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 16 } },
          ...properties,
        },
      },
    },
  };
}

function check(schema: JSONSchemaProps, obj: unknown, old?: unknown): string[] {
  const c = compileRules(schema, at);
  assert.deepEqual(fmt(c.errors), []);
  return fmt(evaluateRules(c.root, obj, old, old !== undefined));
}

test('a failing rule gives its message at its node, or "failed rule"', () => {
  const s = specSchema([{ rule: 'self.replicas <= self.maxReplicas', message: 'replicas should be smaller than or equal to maxReplicas.' }, { rule: 'self.name.startsWith("a")' }]);
  assert.deepEqual(check(s, { spec: { replicas: 5, maxReplicas: 3, name: 'bob' } }), [
    'spec: Invalid value: "object": replicas should be smaller than or equal to maxReplicas.',
    'spec: Invalid value: "object": failed rule: self.name.startsWith("a")',
  ]);
  assert.deepEqual(check(s, { spec: { replicas: 1, maxReplicas: 3, name: 'alice' } }), []);
});

test('reason, fieldPath and messageExpression', () => {
  const s = specSchema([
    { rule: 'self.replicas >= 0', reason: 'FieldValueForbidden', fieldPath: '.replicas', messageExpression: '"replicas is " + string(self.replicas)' },
    { rule: 'has(self.name)', reason: 'FieldValueRequired', fieldPath: '.name', message: 'name is needed' },
  ]);
  assert.deepEqual(check(s, { spec: { replicas: -1 } }), ['spec.replicas: Forbidden: replicas is -1', 'spec.name: Required value: name is needed']);
});

test('transition rules see oldSelf on update only; optionalOldSelf runs on create too', () => {
  const s = specSchema([
    { rule: 'self.name == oldSelf.name', message: 'name is immutable' },
    { rule: '!oldSelf.hasValue() || self.replicas >= oldSelf.value().replicas', optionalOldSelf: true, message: 'replicas may only grow' },
  ]);
  assert.deepEqual(check(s, { spec: { name: 'a', replicas: 1 } }), []);
  assert.deepEqual(check(s, { spec: { name: 'b', replicas: 1 } }, { spec: { name: 'a', replicas: 2 } }), [
    'spec: Invalid value: "object": name is immutable',
    'spec: Invalid value: "object": replicas may only grow',
  ]);
});

test('rules on list items and map values; transition rules correlate map-lists by key', () => {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: {
      ports: {
        type: 'array',
        maxItems: 4,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 8 }, port: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.port == oldSelf.port', message: 'port is immutable' }, { rule: 'self.port > 0' }] },
      },
      env: { type: 'object', maxProperties: 4, additionalProperties: { type: 'string', maxLength: 8, 'x-kubernetes-validations': [{ rule: 'self != ""', message: 'empty' }] } },
    },
  };
  const errs = check(s, { ports: [{ name: 'http', port: 81 }, { name: 'new', port: 0 }], env: { A: '' } }, { ports: [{ name: 'http', port: 80 }] });
  assert.deepEqual(errs, ['ports[0]: Invalid value: "object": port is immutable', 'ports[1]: Invalid value: "object": failed rule: self.port > 0', 'env[A]: Invalid value: "string": empty']);
});

test('Kubernetes libraries: lists, strings, regex, quantity, url', () => {
  const s = specSchema(
    [
      { rule: 'self.tags.isSorted() && [1, 3, 2].max() == 3 && [1, 2].sum() == 3 && self.tags.indexOf("b") == 1' },
      { rule: '"abc".charAt(1) == "b" && "a-b".replace("-", "+") == "a+b" && "abc".reverse() == "cba" && "ABC".lowerAscii() == "abc"' },
      { rule: '"x12y345".find("[0-9]+") == "12" && "x12y345".findAll("[0-9]+").size() == 2 && self.name.matches("^[a-z]+$")' },
      { rule: 'quantity(self.mem).isLessThan(quantity("1Gi")) && isQuantity("100m") && !isQuantity("x")' },
      { rule: 'isURL(self.url) && url(self.url).getHost() == "example.com:8443" && url(self.url).getScheme() == "https"' },
      { rule: 'duration("1h") > duration("30m") && timestamp("2024-01-01T00:00:00Z") < timestamp("2025-01-01T00:00:00Z")' },
    ],
    { mem: { type: 'string', maxLength: 16 }, url: { type: 'string', maxLength: 64 } },
  );
  assert.deepEqual(check(s, { spec: { tags: ['a', 'b'], name: 'abc', mem: '512Mi', url: 'https://example.com:8443/x' } }), []);
});

test('runtime errors are reported with the rule', () => {
  const s = specSchema([{ rule: 'self.name.size() > 1' }]);
  assert.deepEqual(check(s, { spec: { replicas: 1 } }), ['spec: Invalid value: "object": no such key: name evaluating rule: self.name.size() > 1']);
});

test('compile errors: undeclared fields, non-boolean rules, bad reasons, empty rules', () => {
  const s = specSchema([{ rule: 'self.nope > 1' }, { rule: 'self.replicas + 1' }, { rule: 'true', reason: 'Wrong' }, { rule: ' ' }, { rule: 'self.replicas > 1.5' }]);
  const errs = fmt(compileRules(s, at).errors);
  const base = `${at}.properties[spec].x-kubernetes-validations`;
  assert.match(errs[0], new RegExp(`^${base.replace(/[[\].]/g, '\\$&')}\\[0\\]\\.rule: Invalid value: .*compilation failed: ERROR: <input>:1:\\d+: .*nope`));
  assert.match(errs[1], /x-kubernetes-validations\[1\]\.rule: Invalid value: .*: cel expression must evaluate to a bool$/);
  assert.equal(errs[2], `${base}[2].reason: Unsupported value: "Wrong": supported values: "FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"`);
  assert.equal(errs[3], `${base}[3].rule: Required value: rule is not specified`);
  assert.equal(errs.length, 4);
});

test('transition rules may not be used under atomic lists', () => {
  const s: JSONSchemaProps = { type: 'object', properties: { l: { type: 'array', maxItems: 2, items: { type: 'object', properties: { a: { type: 'string' } }, 'x-kubernetes-validations': [{ rule: 'self.a == oldSelf.a' }] } } } };
  assert.match(fmt(compileRules(s, at).errors)[0], /oldSelf cannot be used on the uncorrelatable portion of the schema within spec\.validation\.openAPIV3Schema\.properties\[l\]$/);
});

test('estimated cost over budget is refused with upstream wording', () => {
  const unbounded = { type: 'object', properties: { spec: { type: 'object', properties: { l: { type: 'array', items: { type: 'string' } } }, 'x-kubernetes-validations': [{ rule: 'self.l.all(x, self.l.exists(y, x.matches(y)))' }] } } } as JSONSchemaProps;
  const errs = fmt(compileRules(unbounded, at).errors);
  assert.equal(
    errs[0],
    `${at}.properties[spec].x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`,
  );
  assert.ok(errs.some((e) => e.startsWith(`${at}: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of`)));
  const bounded = structuredClone(unbounded);
  Object.assign(bounded.properties!.spec.properties!.l, { maxItems: 10, items: { type: 'string', maxLength: 10 } });
  assert.deepEqual(fmt(compileRules(bounded, at).errors), []);
});

test("runtime cost: a rule over the per-call limit stops the object's validation with upstream's message", () => {
  // Estimated within the per-rule limit (1,000 × 1,000 steps), yet over the 1,000,000 per call.
  const rule = 'self.nums.all(x, self.nums.all(y, x + y > -1))';
  const s = specSchema([{ rule }, { rule: 'false', message: 'never reached' }], { nums: { type: 'array', maxItems: 1000, items: { type: 'integer' } } });
  const nums = (n: number) => Array.from({ length: n }, (_, i) => i);
  assert.deepEqual(check(s, { spec: { nums: nums(1000) } }), [
    `spec: Invalid value: "object": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: ${rule}`,
  ]);
  // Small enough: both rules run.
  assert.deepEqual(check(s, { spec: { nums: nums(10) } }), ['spec: Invalid value: "object": never reached']);
  // `||` and `exists` swallow their operands' errors; the limit still holds.
  const swallowing = specSchema([{ rule: 'self.nums.exists(x, self.nums.all(y, x + y > -1) && x < 0) || true' }], { nums: { type: 'array', maxItems: 1000, items: { type: 'integer' } } });
  assert.match(check(swallowing, { spec: { nums: nums(1000) } })[0]!, /call cost exceeds limit for rule/);
});

test("runtime cost: rules share one budget per object; messageExpression counts and has its own messages", () => {
  const s = specSchema([{ rule: 'self.tags.all(t, t != "")' }, { rule: 'self.tags.all(t, t != "x")', message: 'no x' }], {});
  const obj = { spec: { tags: ['a', 'b', 'x'] } };
  const c = compileRules(s, at);
  const withBudget = (budget: number) => fmt(evaluateRules(c.root, obj, undefined, false, '', budget));
  assert.deepEqual(withBudget(1_000), ['spec: Invalid value: "object": no x']);
  assert.deepEqual(withBudget(20), ['spec: Invalid value: "object": validation failed due to running out of cost budget, no further validation rules will be run']);
  // A node reached with nothing left, as upstream: the same message at that node.
  const nested = specSchema([{ rule: 'self.tags.all(t, t != "")' }], { inner: { type: 'object', properties: { a: { type: 'string', maxLength: 4 } }, 'x-kubernetes-validations': [{ rule: 'self.a != ""' }] } });
  const nc = compileRules(nested, at);
  const nestedErrs = (budget: number) => fmt(evaluateRules(nc.root, { spec: { tags: ['a'], inner: { a: 'x' } } }, undefined, false, '', budget));
  assert.deepEqual(nestedErrs(1_000), []);
  const budgets = Array.from({ length: 100 }, (_, i) => i + 1);
  const innerStopped = budgets.map(nestedErrs).find((e) => e[0]?.startsWith('spec.inner: '));
  assert.deepEqual(innerStopped, ['spec.inner: Invalid value: "object": validation failed due to running out of cost budget, no further validation rules will be run']);

  const msgRule = 'self.nums.map(x, self.nums.map(y, y)).size() > 0 ? "too costly" : "no"';
  const m = specSchema([{ rule: 'false', messageExpression: msgRule }, { rule: 'false', message: 'never reached' }], { nums: { type: 'array', maxItems: 1000, items: { type: 'integer' } } });
  assert.deepEqual(check(m, { spec: { nums: Array.from({ length: 1000 }, (_, i) => i) } }), [
    `spec: Invalid value: "object": no further validation rules will be run due to call cost exceeds limit for messageExpression: ${JSON.stringify(msgRule)}`,
  ]);
});
