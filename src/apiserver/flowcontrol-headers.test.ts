import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapFlowSchemas } from '../api/flowcontrol/bootstrap.ts';
import { flowSchemaMatches } from './flowcontrol-headers.ts';
import type { RequestInfo } from './request-info.ts';

const byPrecedence = [...bootstrapFlowSchemas].sort((a, b) => a.spec.matchingPrecedence - b.spec.matchingPrecedence || a.metadata.name!.localeCompare(b.metadata.name!));
const first = (user: { name: string; groups: string[] }, info: RequestInfo) => byPrecedence.find((fs) => flowSchemaMatches(fs, user, info))?.metadata.name;
const res = (verb: string, group: string, resource: string, namespace?: string): RequestInfo => ({ isResourceRequest: true, path: '/x', verb, group, version: 'v1', resource, namespace });

test("requests are classified as upstream's bootstrap FlowSchemas say", () => {
  const authed = ['system:authenticated'];
  assert.equal(first({ name: 'admin', groups: ['system:masters', ...authed] }, res('list', '', 'pods', 'default')), 'exempt');
  assert.equal(first({ name: 'bob', groups: authed }, { isResourceRequest: false, path: '/healthz', verb: 'get', group: '', version: '' }), 'probes');
  assert.equal(first({ name: 'system:kube-scheduler', groups: authed }, res('update', 'coordination.k8s.io', 'leases', 'kube-system')), 'system-leader-election');
  assert.equal(first({ name: 'system:kube-scheduler', groups: authed }, res('list', '', 'pods')), 'kube-scheduler');
  assert.equal(first({ name: 'system:node:n1', groups: ['system:nodes', ...authed] }, res('patch', '', 'nodes')), 'system-node-high');
  assert.equal(first({ name: 'system:node:n1', groups: ['system:nodes', ...authed] }, res('get', '', 'configmaps', 'default')), 'system-nodes');
  assert.equal(first({ name: 'system:serviceaccount:kube-system:foo', groups: ['system:serviceaccounts', ...authed] }, res('get', '', 'pods', 'x')), 'kube-system-service-accounts');
  assert.equal(first({ name: 'system:serviceaccount:app:foo', groups: ['system:serviceaccounts', ...authed] }, res('get', '', 'pods', 'app')), 'service-accounts');
  assert.equal(first({ name: 'bob', groups: authed }, res('get', 'apps', 'deployments', 'default')), 'global-default');
});
