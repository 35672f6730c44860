import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mutatingWebhookConfigurations, validatingWebhookConfigurations } from './webhook-configurations.ts';
import { validatingAdmissionPolicies, validatingAdmissionPolicyBindings } from './validating-admission-policy.ts';

const fields = (errs: { field: string }[]) => errs.map((e) => e.field);

const hook = (extra: any = {}) => ({
  name: 'pod-policy.example.com',
  rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }],
  clientConfig: { service: { namespace: 'example-namespace', name: 'example-service' }, caBundle: 'Cg==' },
  admissionReviewVersions: ['v1'],
  sideEffects: 'None',
  ...extra,
});

test('webhook configurations: upstream v1 defaults', () => {
  const m: any = { metadata: { name: 'demo' }, webhooks: [hook()] };
  mutatingWebhookConfigurations.strategy.defaults!(m);
  const h = m.webhooks[0];
  assert.deepEqual([h.failurePolicy, h.matchPolicy, h.timeoutSeconds, h.reinvocationPolicy, h.clientConfig.service.port], ['Fail', 'Equivalent', 10, 'Never', 443]);
  assert.deepEqual([h.namespaceSelector, h.objectSelector], [{}, {}]);
  assert.deepEqual(mutatingWebhookConfigurations.strategy.validate!(m), []);
  const v: any = { metadata: { name: 'demo' }, webhooks: [hook()] };
  validatingWebhookConfigurations.strategy.defaults!(v);
  assert.equal(v.webhooks[0].reinvocationPolicy, undefined);
});

test('webhook configurations: validation as upstream', () => {
  const v = (h: any) => {
    const o: any = { metadata: { name: 'demo' }, webhooks: [hook(h)] };
    validatingWebhookConfigurations.strategy.defaults!(o);
    return fields(validatingWebhookConfigurations.strategy.validate!(o));
  };
  assert.deepEqual(v({ name: 'short' }), ['webhooks[0].name']);
  assert.deepEqual(v({ sideEffects: undefined }), ['webhooks[0].sideEffects']);
  assert.deepEqual(v({ sideEffects: 'Some' }), ['webhooks[0].sideEffects']);
  assert.deepEqual(v({ admissionReviewVersions: [] }), ['webhooks[0].admissionReviewVersions']);
  assert.deepEqual(v({ admissionReviewVersions: ['v2'] }), ['webhooks[0].admissionReviewVersions']);
  assert.deepEqual(v({ timeoutSeconds: 31 }), ['webhooks[0].timeoutSeconds']);
  assert.deepEqual(v({ failurePolicy: 'Maybe' }), ['webhooks[0].failurePolicy']);
  assert.deepEqual(v({ clientConfig: { url: 'http://example.com/hook' } }), ['webhooks[0].clientConfig.url']);
  assert.deepEqual(v({ clientConfig: {} }), ['webhooks[0].clientConfig']);
  assert.deepEqual(v({ rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', '*'], resources: ['pods'] }] }), ['webhooks[0].rules[0].operations']);
  assert.deepEqual(v({ matchConditions: [{ name: 'a', expression: 'true' }, { name: 'a' }] }), ['webhooks[0].matchConditions[1].name', 'webhooks[0].matchConditions[1].expression']);
  const two: any = { metadata: { name: 'demo' }, webhooks: [hook(), hook()] };
  assert.deepEqual(fields(validatingWebhookConfigurations.strategy.validate!(two)), ['webhooks[1].name']);
  assert.deepEqual(validatingWebhookConfigurations.table!.row({ ...two, metadata: { name: 'demo', creationTimestamp: '2024-01-01T00:00:00Z' } }, Date.parse('2024-01-01T00:00:01Z')), ['demo', 2, '1s']);
});

test('validating admission policy and binding: defaults, structure, printers', () => {
  const p: any = {
    metadata: { name: 'demo-policy.example.com', creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: {
      matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments'] }] },
      validations: [{ expression: 'object.spec.replicas <= 5' }],
    },
  };
  validatingAdmissionPolicies.strategy.defaults!(p);
  assert.equal(p.spec.failurePolicy, 'Fail');
  assert.deepEqual([p.spec.matchConstraints.matchPolicy, p.spec.matchConstraints.resourceRules[0].scope], ['Equivalent', '*']);
  assert.deepEqual(validatingAdmissionPolicies.strategy.validate!(p), []);
  assert.deepEqual(validatingAdmissionPolicies.table!.row(p, Date.parse('2024-01-01T00:00:02Z')), ['demo-policy.example.com', 1, '<unset>', '2s']);
  assert.deepEqual(fields(validatingAdmissionPolicies.strategy.validate!({ ...p, spec: { ...p.spec, validations: [] } })), ['spec.validations']);
  assert.deepEqual(fields(validatingAdmissionPolicies.strategy.validate!({ ...p, spec: { ...p.spec, validations: [{ expression: '', reason: 'Nope' }] } })), ['spec.validations[0].expression', 'spec.validations[0].reason']);
  assert.deepEqual(fields(validatingAdmissionPolicies.strategy.validate!({ ...p, spec: { ...p.spec, matchConstraints: undefined } })), ['spec.matchConstraints']);
  assert.deepEqual(fields(validatingAdmissionPolicies.strategy.validate!({ ...p, spec: { ...p.spec, variables: [{ name: 'not valid', expression: 'object' }] } })), ['spec.variables[0].name']);

  const b: any = { metadata: { name: 'demo-binding-test.example.com', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { policyName: 'demo-policy.example.com', validationActions: ['Deny'] } };
  assert.deepEqual(validatingAdmissionPolicyBindings.strategy.validate!(b), []);
  assert.deepEqual(validatingAdmissionPolicyBindings.table!.row(b, Date.parse('2024-01-01T00:00:02Z')), ['demo-binding-test.example.com', 'demo-policy.example.com', '<unset>', '2s']);
  const withParam = { ...b, spec: { ...b.spec, paramRef: { name: 'limits', namespace: 'default', parameterNotFoundAction: 'Deny' } } };
  assert.deepEqual(validatingAdmissionPolicyBindings.table!.row(withParam, Date.parse('2024-01-01T00:00:02Z'))[2], 'default/limits');
  assert.deepEqual(fields(validatingAdmissionPolicyBindings.strategy.validate!({ ...b, spec: { policyName: '', validationActions: ['Deny', 'Warn'] } })), ['spec.policyName', 'spec.validationActions']);
  assert.deepEqual(fields(validatingAdmissionPolicyBindings.strategy.validate!({ ...b, spec: { ...b.spec, paramRef: { name: 'x', selector: {} } } })), ['spec.paramRef.name', 'spec.paramRef.parameterNotFoundAction']);
});
