// RBAC answers for a matrix of users × verbs × resources, each expectation written from upstream's
// rules (plugin/pkg/auth/authorizer/rbac and the bootstrap policy): resourceNames, subresources,
// `*/sub` rules, non-resource URL prefixes, ClusterRoles bound in a namespace, ServiceAccount and
// group subjects, aggregated admin/edit/view, and the reasons for bindings to missing roles.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { aggregatedRules } from '../../controllers/clusterroleaggregation/index.ts';
import type { UserInfo } from '../authn/user.ts';
import type { Attributes } from './attributes.ts';
import { bootstrapPolicy } from './bootstrap-policy.ts';
import { RbacAuthorizer, type RbacObjects } from './rbac.ts';
import { covers, compactRule, compactRules } from './escalation.ts';

function world(objs: KObject[]): RbacObjects & { add(o: KObject): void } {
  const all = [...objs];
  let changed: (() => void)[] = [];
  return {
    clusterRole: (n) => all.find((o) => o.kind === 'ClusterRole' && o.metadata.name === n),
    role: (ns, n) => all.find((o) => o.kind === 'Role' && o.metadata.namespace === ns && o.metadata.name === n),
    clusterRoleBindings: () => all.filter((o) => o.kind === 'ClusterRoleBinding'),
    roleBindings: (ns) => all.filter((o) => o.kind === 'RoleBinding' && o.metadata.namespace === ns),
    onChange: (cb) => void changed.push(cb),
    add(o) {
      all.push(o);
      for (const c of changed) c();
    },
  };
}

/** The bootstrap policy with admin/edit/view aggregated as the controller would. */
function bootstrapObjects(): KObject[] {
  const p = bootstrapPolicy();
  const roles = p.clusterRoles.map((r) => structuredClone(r));
  // Aggregate until stable (view feeds edit feeds admin).
  for (let i = 0; i < 3; i++) for (const r of roles) if (r.aggregationRule) r.rules = aggregatedRules(r, roles) as any;
  return [...roles, ...p.clusterRoleBindings, ...p.roles, ...p.roleBindings];
}

const rbac = 'rbac.authorization.k8s.io';
const role = (ns: string, name: string, rules: any[]): KObject => ({ kind: 'Role', metadata: { namespace: ns, name }, rules });
const crole = (name: string, rules: any[], labels?: Record<string, string>): KObject => ({ kind: 'ClusterRole', metadata: { name, labels }, rules });
const rb = (ns: string, name: string, kind: 'Role' | 'ClusterRole', roleName: string, subjects: any[]): KObject => ({
  kind: 'RoleBinding',
  metadata: { namespace: ns, name },
  roleRef: { apiGroup: rbac, kind, name: roleName },
  subjects,
});
const crb = (name: string, roleName: string, subjects: any[]): KObject => ({ kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: roleName }, subjects });

const u = (name: string, ...groups: string[]): UserInfo => ({ name, groups: [...groups, 'system:authenticated'] });
const sa = (ns: string, name: string): UserInfo => ({ name: `system:serviceaccount:${ns}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] });
const anonymous: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

function res(user: UserInfo, verb: string, resource: string, o: { ns?: string; group?: string; sub?: string; name?: string } = {}): Attributes {
  return { user, verb, isResourceRequest: true, path: '', namespace: o.ns ?? '', apiGroup: o.group ?? '', apiVersion: 'v1', resource, subresource: o.sub ?? '', name: o.name ?? '' };
}
function url(user: UserInfo, verb: string, path: string): Attributes {
  return { user, verb, isResourceRequest: false, path, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '' };
}

const alice = u('alice');
const bob = u('bob', 'devs');
const carol = u('carol');
const robot = sa('team', 'robot');

const objects = [
  ...bootstrapObjects(),
  // alice: reads pods and their logs in `team`, one named configmap, and scales any workload there.
  role('team', 'pod-reader', [
    { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'pods/log'] },
    { verbs: ['get', 'update'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'] },
    { verbs: ['update'], apiGroups: ['apps'], resources: ['*/scale'] },
  ]),
  rb('team', 'alice-pods', 'Role', 'pod-reader', [{ kind: 'User', apiGroup: rbac, name: 'alice' }]),
  // the devs group: edit in `team` through a ClusterRole bound by a RoleBinding (namespace only).
  rb('team', 'devs-edit', 'ClusterRole', 'edit', [{ kind: 'Group', apiGroup: rbac, name: 'devs' }]),
  // robot (ServiceAccount subject without namespace: the binding's) views in `team`.
  rb('team', 'robot-view', 'ClusterRole', 'view', [{ kind: 'ServiceAccount', name: 'robot' }]),
  // carol: cluster-wide node reader and a metrics URL prefix, plus a binding to a missing role.
  crole('node-reader', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['nodes'] }, { verbs: ['get'], nonResourceURLs: ['/metrics', '/logs/*'] }]),
  crb('carol-nodes', 'node-reader', [{ kind: 'User', apiGroup: rbac, name: 'carol' }]),
  rb('team', 'carol-missing', 'Role', 'nope', [{ kind: 'User', apiGroup: rbac, name: 'carol' }]),
];

const cases: [string, Attributes, boolean][] = [
  // alice: her Role in team only
  ['alice lists pods in team', res(alice, 'list', 'pods', { ns: 'team' }), true],
  ['alice watches pods in team', res(alice, 'watch', 'pods', { ns: 'team' }), true],
  ['alice gets a pod log in team', res(alice, 'get', 'pods', { ns: 'team', sub: 'log', name: 'p' }), true],
  ['alice cannot exec in team (pods/exec not granted)', res(alice, 'create', 'pods', { ns: 'team', sub: 'exec', name: 'p' }), false],
  ['alice cannot delete pods in team', res(alice, 'delete', 'pods', { ns: 'team', name: 'p' }), false],
  ['alice cannot list pods in default', res(alice, 'list', 'pods', { ns: 'default' }), false],
  ['alice cannot list pods cluster-wide', res(alice, 'list', 'pods'), false],
  ['alice gets configmap settings', res(alice, 'get', 'configmaps', { ns: 'team', name: 'settings' }), true],
  ['alice cannot get configmap other', res(alice, 'get', 'configmaps', { ns: 'team', name: 'other' }), false],
  ['alice cannot list configmaps (resourceNames never match a list)', res(alice, 'list', 'configmaps', { ns: 'team' }), false],
  ['alice updates deployments/scale (*/scale)', res(alice, 'update', 'deployments', { ns: 'team', group: 'apps', sub: 'scale', name: 'd' }), true],
  ['alice cannot update deployments (only the scale subresource)', res(alice, 'update', 'deployments', { ns: 'team', group: 'apps', name: 'd' }), false],
  ['alice cannot update scale in another group', res(alice, 'update', 'replicationcontrollers', { ns: 'team', sub: 'scale', name: 'r' }), false],
  ['alice may ask who she is', res(alice, 'create', 'selfsubjectreviews', { group: 'authentication.k8s.io' }), true],
  ['alice may ask what she can do', res(alice, 'create', 'selfsubjectaccessreviews', { group: 'authorization.k8s.io' }), true],
  ['alice cannot ask about others', res(alice, 'create', 'subjectaccessreviews', { group: 'authorization.k8s.io' }), false],
  ['alice discovers /apis/apps', url(alice, 'get', '/apis/apps'), true],
  ['alice cannot post to /apis', url(alice, 'post', '/apis'), false],
  ['alice cannot read /metrics', url(alice, 'get', '/metrics'), false],
  // bob (devs): edit in team, bound by a RoleBinding to a ClusterRole
  ['bob creates deployments in team', res(bob, 'create', 'deployments', { ns: 'team', group: 'apps' }), true],
  ['bob reads secrets in team (edit)', res(bob, 'get', 'secrets', { ns: 'team', name: 's' }), true],
  ['bob execs into pods in team (edit)', res(bob, 'create', 'pods', { ns: 'team', sub: 'exec', name: 'p' }), true],
  ['bob cannot create deployments in default', res(bob, 'create', 'deployments', { ns: 'default', group: 'apps' }), false],
  ['bob cannot create rolebindings (edit is not admin)', res(bob, 'create', 'rolebindings', { ns: 'team', group: rbac }), false],
  ['bob cannot update resourcequotas (edit reads them only)', res(bob, 'update', 'resourcequotas', { ns: 'team', name: 'q' }), false],
  ['bob reads resourcequotas', res(bob, 'get', 'resourcequotas', { ns: 'team', name: 'q' }), true],
  ['bob cannot list nodes', res(bob, 'list', 'nodes'), false],
  ['bob impersonates serviceaccounts in team (edit)', res(bob, 'impersonate', 'serviceaccounts', { ns: 'team', name: 'robot' }), true],
  // robot (view): reads but not secrets, not writes
  ['robot lists pods in team', res(robot, 'list', 'pods', { ns: 'team' }), true],
  ['robot reads deployments/status', res(robot, 'get', 'deployments', { ns: 'team', group: 'apps', sub: 'status', name: 'd' }), true],
  ['robot cannot read secrets (view)', res(robot, 'get', 'secrets', { ns: 'team', name: 's' }), false],
  ['robot cannot create pods', res(robot, 'create', 'pods', { ns: 'team' }), false],
  ['robot reads its namespace object', res(robot, 'get', 'namespaces', { ns: 'team', name: 'team' }), true],
  ['robot cannot read other namespaces', res(robot, 'get', 'namespaces', { ns: 'default', name: 'default' }), false],
  ['robot reads the OIDC discovery document', url(robot, 'get', '/.well-known/openid-configuration'), true],
  ['another SA named robot in default is not team/robot', res(sa('default', 'robot'), 'list', 'pods', { ns: 'team' }), false],
  // carol: cluster-wide nodes, URL prefix
  ['carol lists nodes', res(carol, 'list', 'nodes'), true],
  ['carol gets a node', res(carol, 'get', 'nodes', { name: 'n1' }), true],
  ['carol cannot delete nodes', res(carol, 'delete', 'nodes', { name: 'n1' }), false],
  ['carol cannot update nodes/status (subresource not granted)', res(carol, 'update', 'nodes', { sub: 'status', name: 'n1' }), false],
  ['carol reads /metrics', url(carol, 'get', '/metrics'), true],
  ['carol reads /logs/kube.log (prefix *)', url(carol, 'get', '/logs/kube.log'), true],
  ['carol cannot read /logs (prefix needs the slash)', url(carol, 'get', '/logs'), false],
  // anonymous: health and version only
  ['anonymous reads /healthz', url(anonymous, 'get', '/healthz'), true],
  ['anonymous reads /version', url(anonymous, 'get', '/version'), true],
  ['anonymous cannot read /api', url(anonymous, 'get', '/api'), false],
  ['anonymous cannot read /healthz/etcd', url(anonymous, 'get', '/healthz/etcd'), false],
  ['anonymous cannot list pods', res(anonymous, 'list', 'pods', { ns: 'default' }), false],
  // components
  ['the scheduler binds pods', res(u('system:kube-scheduler'), 'create', 'pods', { ns: 'default', sub: 'binding', name: 'p' }), true],
  ['the scheduler renews its own lease', res(u('system:kube-scheduler'), 'update', 'leases', { ns: 'kube-system', group: 'coordination.k8s.io', name: 'kube-scheduler' }), true],
  ['the scheduler cannot renew the controller manager lease', res(u('system:kube-scheduler'), 'update', 'leases', { ns: 'kube-system', group: 'coordination.k8s.io', name: 'kube-controller-manager' }), false],
  ['the scheduler cannot read secrets', res(u('system:kube-scheduler'), 'get', 'secrets', { ns: 'default', name: 's' }), false],
  ['the controller manager watches everything', res(u('system:kube-controller-manager'), 'watch', 'widgets', { group: 'example.com' }), true],
  ['the controller manager cannot delete pods itself', res(u('system:kube-controller-manager'), 'delete', 'pods', { ns: 'default', name: 'p' }), false],
  ['the replicaset controller creates pods', res(sa('kube-system', 'replicaset-controller'), 'create', 'pods', { ns: 'default' }), true],
  ['the replicaset controller cannot create deployments', res(sa('kube-system', 'replicaset-controller'), 'create', 'deployments', { ns: 'default', group: 'apps' }), false],
  ['the garbage collector deletes anything', res(sa('kube-system', 'generic-garbage-collector'), 'delete', 'widgets', { ns: 'x', group: 'example.com', name: 'w' }), true],
  ['the signer may sign for kube-apiserver-client', res(sa('kube-system', 'certificate-controller'), 'sign', 'signers', { group: 'certificates.k8s.io', name: 'kubernetes.io/kube-apiserver-client' }), true],
  ['the signer may not approve kube-apiserver-client', res(sa('kube-system', 'certificate-controller'), 'approve', 'signers', { group: 'certificates.k8s.io', name: 'kubernetes.io/kube-apiserver-client' }), false],
  ['system:masters is not special to RBAC alone but cluster-admin is bound to it', res(u('root', 'system:masters'), 'delete', 'nodes', { name: 'n' }), true],
];

test('RBAC matrix: users × verbs × resources as upstream answers', () => {
  const authz = new RbacAuthorizer(world(objects));
  const wrong: string[] = [];
  for (const [what, a, want] of cases) {
    const got = authz.authorize(a).decision === 'Allow';
    if (got !== want) wrong.push(`${what}: got ${got ? 'allowed' : 'denied'}`);
  }
  assert.deepEqual(wrong, []);
  assert.ok(cases.length >= 60);
});

test('a binding to a missing role denies with upstream\'s RBAC reason', () => {
  const authz = new RbacAuthorizer(world(objects));
  const r = authz.authorize(res(carol, 'get', 'pods', { ns: 'team', name: 'p' }));
  assert.equal(r.decision, 'NoOpinion');
  assert.equal(r.reason, 'RBAC: role.rbac.authorization.k8s.io "nope" not found');
});

test('changes to RBAC objects take effect at once', () => {
  const w = world(objects);
  const authz = new RbacAuthorizer(w);
  const dave = u('dave');
  assert.equal(authz.authorize(res(dave, 'list', 'pods', { ns: 'team' })).decision, 'NoOpinion');
  w.add(rb('team', 'dave-view', 'ClusterRole', 'view', [{ kind: 'User', apiGroup: rbac, name: 'dave' }]));
  assert.equal(authz.authorize(res(dave, 'list', 'pods', { ns: 'team' })).decision, 'Allow');
});

test('aggregation: view ⊂ edit ⊂ admin, and a labelled ClusterRole extends view', () => {
  const objs = bootstrapObjects();
  const get = (n: string) => objs.find((o) => o.kind === 'ClusterRole' && o.metadata.name === n)!;
  const rules = (n: string) => get(n).rules;
  assert.ok(covers(rules('edit'), rules('view')).covered, 'edit covers view');
  assert.ok(covers(rules('admin'), rules('edit')).covered, 'admin covers edit');
  assert.ok(!covers(rules('view'), [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]).covered, 'view does not read secrets');
  const crd = crole('widgets-view', [{ verbs: ['get', 'list'], apiGroups: ['example.com'], resources: ['widgets'] }], { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' });
  const all = [...objs.filter((o) => o.kind === 'ClusterRole'), crd];
  const view = aggregatedRules(get('view'), all);
  assert.ok(covers(view as any, crd.rules).covered);
});

test('escalation checks compare rule atoms as upstream and print missing rights compactly', () => {
  const owner = [
    { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'] },
    { verbs: ['*'], apiGroups: ['apps'], resources: ['*/scale'] },
    { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] },
    { verbs: ['get'], nonResourceURLs: ['/logs/*'] },
  ];
  assert.ok(covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]).covered);
  assert.ok(covers(owner, [{ verbs: ['update'], apiGroups: ['apps'], resources: ['deployments/scale'] }]).covered);
  assert.ok(covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }]).covered);
  assert.ok(!covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }]).covered, 'a named grant does not cover all names');
  assert.ok(covers(owner, [{ verbs: ['get'], nonResourceURLs: ['/logs/a'] }]).covered);
  const { missing } = covers(owner, [{ verbs: ['get', 'delete', 'create'], apiGroups: [''], resources: ['pods', 'secrets'] }]);
  assert.deepEqual(compactRules(missing).map(compactRule), [
    '{APIGroups:[""], Resources:["pods"], Verbs:["delete" "create"]}',
    '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete" "create"]}',
  ]);
});
