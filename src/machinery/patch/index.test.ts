import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../errors.ts';
import { applyPatch, patchMediaType } from './index.ts';
import { applyJSONPatch } from './json-patch.ts';
import { applyMergePatch } from './merge-patch.ts';

const pod = () => ({ metadata: { name: 'p', labels: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'x' }], list: [1, 2, 3] } });

test('json patch: operations', () => {
  const cases: Array<[string, unknown[], (r: any) => void]> = [
    ['add label', [{ op: 'add', path: '/metadata/labels/b', value: '2' }], (r) => assert.deepEqual(r.metadata.labels, { a: '1', b: '2' })],
    ['add escaped key', [{ op: 'add', path: '/metadata/labels/x.io~1name', value: 'v' }], (r) => assert.equal(r.metadata.labels['x.io/name'], 'v')],
    ['append with -', [{ op: 'add', path: '/spec/list/-', value: 4 }], (r) => assert.deepEqual(r.spec.list, [1, 2, 3, 4])],
    ['insert at index', [{ op: 'add', path: '/spec/list/0', value: 0 }], (r) => assert.deepEqual(r.spec.list, [0, 1, 2, 3])],
    ['remove', [{ op: 'remove', path: '/metadata/labels/a' }], (r) => assert.deepEqual(r.metadata.labels, {})],
    ['remove negative index', [{ op: 'remove', path: '/spec/list/-1' }], (r) => assert.deepEqual(r.spec.list, [1, 2])],
    ['replace', [{ op: 'replace', path: '/spec/containers/0/image', value: 'y' }], (r) => assert.equal(r.spec.containers[0].image, 'y')],
    ['replace missing object key acts as add', [{ op: 'replace', path: '/metadata/labels/z', value: 'z' }], (r) => assert.equal(r.metadata.labels.z, 'z')],
    ['move', [{ op: 'move', from: '/metadata/labels/a', path: '/metadata/labels/b' }], (r) => assert.deepEqual(r.metadata.labels, { b: '1' })],
    ['copy', [{ op: 'copy', from: '/spec/list/0', path: '/spec/list/-' }], (r) => assert.deepEqual(r.spec.list, [1, 2, 3, 1])],
    ['test then replace', [{ op: 'test', path: '/metadata/name', value: 'p' }, { op: 'replace', path: '/metadata/name', value: 'q' }], (r) => assert.equal(r.metadata.name, 'q')],
    ['test missing equals null', [{ op: 'test', path: '/metadata/nope', value: null }], (r) => assert.equal(r.metadata.name, 'p')],
  ];
  for (const [name, ops, check] of cases) {
    const original = pod();
    check(applyJSONPatch(original, ops));
    assert.deepEqual(original, pod(), `${name}: original untouched`);
  }
});

test('json patch: failures are 422 with the library message as cause', () => {
  const cases: Array<[unknown[], string]> = [
    [[{ op: 'test', path: '/metadata/name', value: 'other' }], 'testing value /metadata/name failed: test failed'],
    [[{ op: 'remove', path: '/metadata/labels/zz' }], "error in remove for path: '/metadata/labels/zz': Unable to remove nonexistent key: zz: missing value"],
    [[{ op: 'add', path: '/nope/deeper/x', value: 1 }], 'add operation does not apply: doc is missing path: "/nope/deeper/x": missing value'],
    [[{ op: 'replace', path: '/nope/x', value: 1 }], 'replace operation does not apply: doc is missing path: /nope/x: missing value'],
    [[{ op: 'replace', path: '/spec/list/9', value: 1 }], 'replace operation does not apply: doc is missing key: /spec/list/9: missing value'],
    [[{ op: 'add', path: '/spec/list/9', value: 1 }], "error in add for path: '/spec/list/9': Unable to access invalid index: 9: invalid index referenced"],
    [[{ op: 'frob', path: '/a' }], 'Unexpected kind: frob'],
  ];
  for (const [ops, cause] of cases) {
    assert.throws(
      () => applyJSONPatch(pod(), ops),
      (e: unknown) => {
        assert.ok(e instanceof StatusError);
        assert.equal(e.code, 422);
        assert.equal(e.reason, 'Invalid');
        assert.equal(e.message, 'the server rejected our request due to an error in our request');
        assert.deepEqual(e.details?.causes, [{ reason: 'UnexpectedServerResponse', message: cause }]);
        return true;
      },
    );
  }
});

test('json patch: bad document 400, too many operations 413', () => {
  assert.throws(() => applyJSONPatch(pod(), { op: 'add' }), { code: 400 });
  const many = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/metadata/name', value: 'p' }));
  assert.throws(() => applyJSONPatch(pod(), many), {
    code: 413,
    message: 'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001',
  });
});

test('merge patch: RFC 7386', () => {
  const r = applyMergePatch(pod(), { metadata: { labels: { a: null, b: '2' }, annotations: { x: 'y', gone: null } }, spec: { list: [9] } });
  assert.deepEqual(r, {
    metadata: { name: 'p', labels: { b: '2' }, annotations: { x: 'y' } },
    spec: { containers: [{ name: 'c', image: 'x' }], list: [9] },
  });
  assert.throws(() => applyMergePatch(pod(), [1]), { code: 400 });
  assert.throws(() => applyMergePatch(pod(), null), { code: 400 });
});

test('applyPatch: dispatch on content type', () => {
  assert.equal(applyPatch('application/json-patch+json', pod(), '[{"op":"replace","path":"/metadata/name","value":"j"}]').metadata.name, 'j');
  assert.equal(applyPatch('application/merge-patch+json; charset=utf-8', pod(), Buffer.from('{"metadata":{"name":"m"}}')).metadata.name, 'm');
  // Strategic merge without a schema: lists are replaced, maps merged.
  const smp = applyPatch('application/strategic-merge-patch+json', pod(), '{"spec":{"list":[7]},"metadata":{"labels":{"b":"2"}}}');
  assert.deepEqual(smp.spec.list, [7]);
  assert.deepEqual(smp.metadata.labels, { a: '1', b: '2' });
  assert.equal(patchMediaType('Application/Merge-Patch+JSON ; charset=utf-8'), 'application/merge-patch+json');
});

test('applyPatch: unknown type 415, malformed JSON 400', () => {
  assert.throws(() => applyPatch('application/json', pod(), '{}'), {
    code: 415,
    reason: 'UnsupportedMediaType',
    message:
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
  });
  assert.throws(() => applyPatch('application/merge-patch+json', pod(), '{nope'), (e: unknown) => e instanceof StatusError && e.code === 400 && /^error decoding patch:/.test(e.message));
  assert.throws(() => applyPatch('application/json-patch+json', pod(), '[{"op":"replace","path":"/metadata","value":1},{"op":"add","path":"/metadata/x","value":1}]'), { code: 422 });
});

test('applyPatch leaves the original alone unless the caller owns it, with the same result', () => {
  const original = () => ({ metadata: { name: 'p', labels: { a: '1' } }, status: { conditions: [{ type: 'Ready', status: 'False' }] } });
  const body = JSON.stringify({ metadata: { labels: { b: '2' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  for (const type of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) {
    const kept = original();
    const copied = applyPatch(type, kept, body);
    assert.deepEqual(kept, original(), `${type}: the original is not modified`);
    const owned = original();
    const inPlace = applyPatch(type, owned, body, undefined, true);
    assert.deepEqual(inPlace, copied, `${type}: same result when patched in place`);
    assert.equal(inPlace, owned, `${type}: no copy when owned`);
  }
});
