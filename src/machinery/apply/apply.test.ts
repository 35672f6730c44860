import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare } from './compare.ts';
import { merge } from './merge.ts';
import { toFieldSet, ensureNamedFieldsAreMembers } from './to-field-set.ts';
import { applyManagers, updateManagers, ConflictsError, type Managers } from './updater.ts';
import { validateConfig } from './validate.ts';
import { fieldTypeFromOpenAPI } from './openapi-types.ts';
import { fieldSetOf, type FieldSet } from '../fieldpath/set.ts';
import { fieldElement, formatPath } from '../fieldpath/path-element.ts';

// A custom resource's structural schema exercises the same machinery as the built-ins.
const type = fieldTypeFromOpenAPI({
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object', properties: { name: { type: 'string' }, labels: { type: 'object', additionalProperties: { type: 'string' } } } },
    spec: {
      type: 'object',
      properties: {
        replicas: { type: 'integer' },
        image: { type: 'string' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
          items: { type: 'object', properties: { containerPort: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' }, name: { type: 'string' } } },
        },
        finalizers: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
        args: { type: 'array', items: { type: 'string' } },
        selector: { type: 'object', 'x-kubernetes-map-type': 'atomic', properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } } } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
  },
});

const show = (s: FieldSet) => JSON.stringify(s);
const P = (...names: string[]) => names.map(fieldElement);

test('toFieldSet: leaves, atomic values, list items and map keys', () => {
  const config = {
    spec: {
      replicas: 2,
      labels: { a: 'x' },
      ports: [{ containerPort: 80, name: 'http' }],
      finalizers: ['f1'],
      args: ['--x'],
      selector: { matchLabels: { app: 'x' } },
      extra: { deep: { leaf: 1 } },
    },
  };
  assert.equal(
    show(toFieldSet(config, type)),
    '{"f:spec":{"f:args":{},"f:extra":{"f:deep":{".":{},"f:leaf":{}}},"f:finalizers":{"v:\\"f1\\"":{}},"f:labels":{"f:a":{}},' +
      '"f:ports":{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{},"f:name":{}}},"f:replicas":{},"f:selector":{}}}',
  );
});

test('ensureNamedFieldsAreMembers claims declared fields on the way, not map keys or items', () => {
  const s = fieldSetOf(P('spec', 'labels', 'a'), P('spec', 'replicas'));
  assert.equal(show(ensureNamedFieldsAreMembers(s, type)), '{"f:spec":{".":{},"f:labels":{".":{},"f:a":{}},"f:replicas":{}}}');
});

test('compare: what appears, changes and goes; new maps and items are members themselves', () => {
  const before = { spec: { replicas: 1, labels: { a: 'x' }, ports: [{ containerPort: 80, protocol: 'TCP' }] } };
  const after = { spec: { replicas: 2, labels: { b: 'y' }, ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }, { containerPort: 81, protocol: 'UDP' }] }, metadata: { labels: { l: '1' } } };
  const c = compare(before, after, type);
  assert.equal(
    show(c.added),
    '{"f:metadata":{".":{},"f:labels":{".":{},"f:l":{}}},"f:spec":{"f:labels":{"f:b":{}},"f:ports":{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{"f:name":{}},"k:{\\"containerPort\\":81,\\"protocol\\":\\"UDP\\"}":{".":{},"f:containerPort":{},"f:protocol":{}}}}}',
  );
  assert.equal(show(c.modified), '{"f:spec":{"f:replicas":{}}}');
  assert.equal(show(c.removed), '{"f:spec":{"f:labels":{"f:a":{}}}}');
  assert.equal(show(compare(after, after, type).added), '{}');
  // Ignored subtrees are not looked at.
  assert.equal(show(compare(before, after, type, fieldSetOf(P('spec'))).modified), '{}');
});

const mergeCases: Array<{ name: string; live: unknown; config: unknown; want: unknown }> = [
  { name: 'leaf replaced, other fields kept', live: { spec: { replicas: 1, image: 'a' } }, config: { spec: { replicas: 3 } }, want: { spec: { replicas: 3, image: 'a' } } },
  { name: 'maps merge key by key', live: { spec: { labels: { a: '1', b: '2' } } }, config: { spec: { labels: { b: '3', c: '4' } } }, want: { spec: { labels: { a: '1', b: '3', c: '4' } } } },
  {
    name: 'map lists merge by key (a defaulted key matches)',
    live: { spec: { ports: [{ containerPort: 80, protocol: 'TCP', name: 'old' }, { containerPort: 90, protocol: 'TCP' }] } },
    config: { spec: { ports: [{ containerPort: 80, name: 'new' }, { containerPort: 100 }] } },
    want: { spec: { ports: [{ containerPort: 80, protocol: 'TCP', name: 'new' }, { containerPort: 90, protocol: 'TCP' }, { containerPort: 100 }] } },
  },
  {
    name: 'shared items follow the configuration order',
    live: { spec: { ports: [{ containerPort: 1 }, { containerPort: 2 }, { containerPort: 3 }] } },
    config: { spec: { ports: [{ containerPort: 3 }, { containerPort: 1 }] } },
    want: { spec: { ports: [{ containerPort: 2 }, { containerPort: 3 }, { containerPort: 1 }] } },
  },
  { name: 'sets merge by value', live: { spec: { finalizers: ['a', 'b'] } }, config: { spec: { finalizers: ['c', 'a'] } }, want: { spec: { finalizers: ['c', 'a', 'b'] } } },
  { name: 'atomic lists are replaced', live: { spec: { args: ['a', 'b'] } }, config: { spec: { args: ['c'] } }, want: { spec: { args: ['c'] } } },
  {
    name: 'atomic maps are replaced',
    live: { spec: { selector: { matchLabels: { a: '1' } } } },
    config: { spec: { selector: { matchLabels: { b: '2' } } } },
    want: { spec: { selector: { matchLabels: { b: '2' } } } },
  },
  { name: 'null removes a field', live: { spec: { replicas: 1, image: 'a' } }, config: { spec: { image: null } }, want: { spec: { replicas: 1 } } },
  { name: 'creating from nothing', live: undefined, config: { spec: { replicas: 1, labels: { a: null } } }, want: { spec: { replicas: 1, labels: {} } } },
];

for (const c of mergeCases) {
  test(`merge: ${c.name}`, () => {
    assert.deepEqual(merge(c.live, c.config, type), c.want);
  });
}

test('validateConfig reports what upstream reports', () => {
  assert.deepEqual(validateConfig({ spec: { replicass: 1, replicas: 'x', ports: [{ name: 'a' }, { containerPort: 1 }, { containerPort: 1 }] } }, type), [
    '.spec.replicass: field not declared in schema',
    '.spec.replicas: expected numeric (int or float), got string "x"',
    '.spec.ports: element 0: associative list with keys has an element that omits key field "containerPort" (and doesn\'t have default value)',
    '.spec.ports: duplicate entries for key [containerPort=1,protocol="TCP"]',
  ]);
  assert.deepEqual(validateConfig({ spec: { extra: { anything: [1, { x: 2 }] } } }, type), []);
});

function managers(entries: Record<string, Array<string[]>>, applied: string[] = []): Managers {
  const m: Managers = new Map();
  for (const [k, ps] of Object.entries(entries)) m.set(k, { set: fieldSetOf(...ps.map((p) => P(...p))), apiVersion: 'v1', applied: applied.includes(k) });
  return m;
}

const o = { type, version: 'v1' };

test('apply: a field another manager owns conflicts; force takes it', () => {
  const live = { spec: { replicas: 3, image: 'a' } };
  const ms = managers({ editor: [['spec', 'replicas']], mine: [['spec', 'image']] }, ['mine']);
  try {
    applyManagers(live, { spec: { replicas: 5, image: 'a' } }, new Map(ms), 'mine', false, o);
    assert.fail('expected conflicts');
  } catch (e) {
    assert.ok(e instanceof ConflictsError);
    assert.deepEqual(e.conflicts.map((c) => [c.manager, formatPath(c.path)]), [['editor', '.spec.replicas']]);
  }
  const forced = new Map(ms);
  const r = applyManagers(live, { spec: { replicas: 5, image: 'a' } }, forced, 'mine', true, o);
  assert.deepEqual(r.object, { spec: { replicas: 5, image: 'a' } });
  assert.equal(forced.has('editor'), false, 'the editor lost its only field');
  assert.equal(show(forced.get('mine')!.set), '{"f:spec":{"f:image":{},"f:replicas":{}}}');
});

test('apply: the same value is shared ownership, not a conflict', () => {
  const ms = managers({ other: [['spec', 'replicas']] }, ['other']);
  const r = applyManagers({ spec: { replicas: 3 } }, { spec: { replicas: 3 } }, ms, 'mine', false, o);
  assert.equal(r.noop, true);
  assert.ok(ms.has('other') && ms.has('mine'));
});

test('apply: a field the applier stops setting is removed unless someone else owns it', () => {
  const live = { spec: { replicas: 3, image: 'a', labels: { x: '1' } } };
  // Sole owner: removed, and the map left empty goes too.
  const alone = managers({ mine: [['spec', 'replicas'], ['spec', 'image'], ['spec', 'labels', 'x']] }, ['mine']);
  assert.deepEqual(applyManagers(live, { spec: { image: 'a' } }, alone, 'mine', false, o).object, { spec: { image: 'a' } });
  // Shared with another applier or an updater: kept.
  for (const applied of [['mine', 'other'], ['mine']]) {
    const shared = managers({ mine: [['spec', 'replicas'], ['spec', 'image']], other: [['spec', 'replicas']] }, applied);
    assert.deepEqual(applyManagers(live, { spec: { image: 'a' } }, shared, 'mine', false, o).object, live);
  }
});

test('apply: a list item the applier drops is removed', () => {
  const live = { spec: { ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 81, protocol: 'TCP' }] } };
  const last = toFieldSet({ spec: { ports: [{ containerPort: 80 }, { containerPort: 81 }] } }, type);
  const ms: Managers = new Map([['mine', { set: last, apiVersion: 'v1', applied: true }]]);
  const r = applyManagers(live, { spec: { ports: [{ containerPort: 80 }] } }, ms, 'mine', false, o);
  assert.deepEqual(r.object, { spec: { ports: [{ containerPort: 80, protocol: 'TCP' }] } });
});

test('update: the writer owns what it changed; others lose it and what was removed', () => {
  const ms = managers({ applier: [['spec', 'replicas'], ['spec', 'labels', 'a']] }, ['applier']);
  const owned = updateManagers({ spec: { replicas: 1, labels: { a: '1' } } }, { spec: { replicas: 2 } }, ms, 'editor', o);
  assert.equal(show(owned), '{"f:spec":{"f:replicas":{}}}');
  assert.equal(ms.has('applier'), false);
});
