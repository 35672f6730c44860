// status.typeChecking of ValidatingAdmissionPolicies against a real API server, written with the
// real kubectl: an expression reading a field the matched kind lacks gets upstream's warning on
// its field, a correct one none, and the status follows the policy's generation.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../../testing/api-server.ts';
import { poll } from '../../testing/poll.ts';
import { testControllerEnv, type TestControllerEnv } from '../test-support.ts';
import { policyStatusController } from './index.ts';
import { typeCheckPolicy } from '../../apiserver/admission/policy-type-check.ts';
import { allResources } from '../../api/registry.ts';
import { hasKubectl, KUBECTL, run } from '../../../e2e/harness.ts';

let t: TestApiServer;
let env: TestControllerEnv;

// Asynchronous (harness run): the API server runs in this process.
const kubectl = (args: string[], input?: string) => run(KUBECTL, ['--kubeconfig', t.kubeconfig, ...args], { input });

const policy = (name: string, expression: string) => `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: ${name}}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["deployments", "statefulsets"]}
  validations:
  - expression: "${expression}"
    messageExpression: "'replicas: ' + string(object.spec.replicas)"
`;

before(async () => {
  t = await startTestApiServer({ name: 'vap-status' });
  env = testControllerEnv(t.kubeconfig);
  await env.start(policyStatusController);
});
after(async () => {
  await env?.stop();
  await t?.close();
});

test('a policy reading a field its kinds lack gets a typeChecking warning per kind; fixing it clears them', { skip: !hasKubectl && 'kubectl not installed' }, async () => {
  assert.equal((await kubectl(['apply', '-f', '-'], policy('replica-limit', 'object.spec.replica <= 5'))).code, 0);
  const status = async () => {
    const r = await kubectl(['get', 'validatingadmissionpolicy', 'replica-limit', '-o', 'json']);
    const p = JSON.parse(r.stdout);
    return p.status?.observedGeneration === p.metadata.generation ? p.status : undefined;
  };
  const s1 = await poll(status, { what: 'status.typeChecking written' });
  assert.equal(s1.typeChecking.expressionWarnings.length, 1, JSON.stringify(s1));
  const w = s1.typeChecking.expressionWarnings[0];
  assert.equal(w.fieldRef, 'spec.validations[0].expression');
  assert.equal(
    w.warning,
    "apps/v1, Kind=Deployment: ERROR: <input>:1:13: undefined field 'replica'\n | object.spec.replica <= 5\n | ............^\n" +
      "apps/v1, Kind=StatefulSet: ERROR: <input>:1:13: undefined field 'replica'\n | object.spec.replica <= 5\n | ............^\n",
  );
  assert.equal((await kubectl(['apply', '-f', '-'], policy('replica-limit', 'object.spec.replicas <= 5'))).code, 0);
  const s2 = await poll(async () => {
    const s = await status();
    return s && s.observedGeneration === 2 ? s : undefined;
  }, { what: 'status of generation 2' });
  assert.deepEqual(s2.typeChecking, {});
});

test('wildcards, unknown resources and type errors between fields', () => {
  const p = (rules: unknown[], expression: string) => ({ apiVersion: 'v1', kind: 'x', metadata: { name: 'p' }, spec: { matchConstraints: { resourceRules: rules }, validations: [{ expression }] } });
  // Nothing is said about wildcard rules (no kind to check against).
  assert.deepEqual(typeCheckPolicy(p([{ apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }], 'object.nosuch'), allResources), []);
  const pods = [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }];
  assert.deepEqual(typeCheckPolicy(p(pods, 'object.spec.containers.all(c, c.image.contains(":"))'), allResources), []);
  const [w] = typeCheckPolicy(p(pods, 'object.spec.containers.all(c, c.securityContext.Privileged)'), allResources);
  assert.match(w!.warning, /^v1, Kind=Pod: ERROR: <input>:1:\d+: undefined field 'Privileged'/);
  const [mismatch] = typeCheckPolicy(p(pods, 'object.spec.priority == "high"'), allResources);
  assert.match(mismatch!.warning, /^v1, Kind=Pod: ERROR: <input>:1:\d+: no such overload: int == string/);
});
