import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterrolebindings } from './cluster-role-binding.ts';
import { clusterroles } from './cluster-role.ts';
import { rbacNameErrors } from './rbac-common.ts';
import { rolebindings } from './role-binding.ts';
import { roles } from './role.ts';

test('role rules validation', () => {
  const ok = { metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] };
  assert.deepEqual(roles.strategy.validate!(ok), []);
  const bad = { metadata: { name: 'r' }, rules: [{ resources: ['pods'] }, { nonResourceURLs: ['/healthz'], verbs: ['get'] }] };
  assert.deepEqual(roles.strategy.validate!(bad).map((e) => e.field), ['rules[0].verbs', 'rules[0].apiGroups', 'rules[1].nonResourceURLs']);
  const cr = { metadata: { name: 'system:x' }, rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] };
  assert.deepEqual(clusterroles.strategy.validate!(cr), []);
  const agg = { metadata: { name: 'a' }, aggregationRule: { clusterRoleSelectors: [] } };
  assert.deepEqual(clusterroles.strategy.validate!(agg).map((e) => e.field), ['aggregationRule.clusterRoleSelectors']);
  assert.deepEqual(roles.table!.row({ metadata: { name: 'r', creationTimestamp: '2024-01-01T00:00:00.000Z' } }, 0), ['r', '2024-01-01T00:00:00Z']);
  assert.deepEqual(roles.table!.columns.map((c) => [c.name, c.type]), [['Name', 'string'], ['Created At', 'date']]);
  assert.deepEqual(rbacNameErrors('system:node'), []);
  assert.deepEqual(rbacNameErrors('a/b'), ["may not contain '/'"]);
});

function binding(): any {
  return {
    metadata: { name: 'b', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' },
    roleRef: { kind: 'Role', name: 'reader' },
    subjects: [
      { kind: 'User', name: 'alice' },
      { kind: 'Group', name: 'devs' },
      { kind: 'ServiceAccount', name: 'default', namespace: 'default' },
    ],
  };
}

test('binding defaults, validation and roleRef immutability', () => {
  const b = binding();
  rolebindings.strategy.defaults!(b);
  assert.equal(b.roleRef.apiGroup, 'rbac.authorization.k8s.io');
  assert.equal(b.subjects[0].apiGroup, 'rbac.authorization.k8s.io');
  assert.equal(b.subjects[2].apiGroup, undefined);
  assert.deepEqual(rolebindings.strategy.validate!(b), []);
  const bad = binding();
  bad.roleRef = { kind: 'Thing', name: '' };
  bad.subjects = [{ kind: 'Robot', name: 'r2' }, { kind: 'User', name: 'bob', apiGroup: 'x' }];
  rolebindings.strategy.defaults!(bad);
  assert.deepEqual(rolebindings.strategy.validate!(bad).map((e) => e.field), ['roleRef.kind', 'roleRef.name', 'subjects[0].kind', 'subjects[1].apiGroup']);
  const crb = binding();
  delete crb.metadata.namespace;
  crb.subjects = [{ kind: 'ServiceAccount', name: 'sa' }];
  clusterrolebindings.strategy.defaults!(crb);
  assert.deepEqual(clusterrolebindings.strategy.validate!(crb).map((e) => e.field), ['roleRef.kind', 'subjects[0].namespace']);
  const next = binding();
  rolebindings.strategy.defaults!(next);
  next.roleRef.name = 'writer';
  const errs = rolebindings.strategy.validateUpdate!(next, b);
  assert.deepEqual(errs.map((e) => e.field), ['roleRef']);
  assert.match(errs[0].detail, /cannot change roleRef$/);
});

test('binding table row', () => {
  const b = binding();
  assert.deepEqual(rolebindings.table!.row(b, Date.parse('2024-01-01T00:00:07Z')), ['b', 'Role/reader', '7s', 'alice', 'devs', 'default/default']);
});
