import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFieldManagerOptions, fieldManagerErrors, managerOrUserAgent } from './manager-name.ts';
import { StatusError } from '../../machinery/errors.ts';

test('the manager: fieldManager, else the user agent up to its first slash, printable characters only', () => {
  assert.equal(managerOrUserAgent('kubectl-edit', 'kubectl/v1.32.0 (linux/amd64) kubernetes/abc'), 'kubectl-edit');
  assert.equal(managerOrUserAgent(null, 'kubectl/v1.32.0 (linux/amd64) kubernetes/abc'), 'kubectl');
  assert.equal(managerOrUserAgent('', 'kube-controller-manager/v1.32.0 (linux/amd64) kubernetes/abc/deployment-controller'), 'kube-controller-manager');
  assert.equal(managerOrUserAgent(null, 'a\u0000b\tc/1'), 'abc');
  assert.equal(managerOrUserAgent(null, 'x'.repeat(200)), 'x'.repeat(128));
  assert.equal(managerOrUserAgent(null, undefined), '');
});

test('fieldManager parameters are checked with upstream messages', () => {
  assert.deepEqual(fieldManagerErrors('ok-name'), []);
  assert.deepEqual(fieldManagerErrors('a\u0001'), [{ type: 'FieldValueInvalid', field: 'fieldManager', detail: 'Invalid value: "a\\u0001": invalid characters at 1' }]);
  const err = (kind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions', q: string, apply = false) => {
    try {
      checkFieldManagerOptions(kind, new URLSearchParams(q), apply);
      return '';
    } catch (e) {
      return (e as StatusError).message;
    }
  };
  assert.equal(err('PatchOptions', '', true), 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  assert.equal(err('PatchOptions', 'force=true'), 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
  assert.equal(err('UpdateOptions', `fieldManager=${'m'.repeat(129)}`), 'UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes');
  assert.equal(err('CreateOptions', 'fieldManager=fine'), '');
});
