// Dynamic admission end to end: real HTTPS webhook servers on 127.0.0.1 (their own CA, given as
// caBundle) that deny and mutate through admission.k8s.io/v1 AdmissionReviews, failurePolicy on an
// unreachable webhook, selectors, and a ValidatingAdmissionPolicy with CEL, driven by kubectl.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { issueCA, issueServingCertificate } from '../src/apiserver/pki.ts';
import { startTestApiServer, type TestApiServer } from '../src/testing/api-server.ts';
import { hasKubectl, KUBECTL, run, type CommandResult } from './harness.ts';
import { eventually } from './poll.ts';

function kubectl(kubeconfig: string, args: string[], input?: string): Promise<CommandResult> {
  return run(KUBECTL, args, { input, env: { ...process.env, KUBECONFIG: kubeconfig } });
}

interface Seen {
  path: string;
  review: any;
}

describe('dynamic admission', { skip: hasKubectl ? false : 'kubectl is not installed' }, () => {
  let t: TestApiServer;
  let hook: https.Server;
  let hookPort = 0;
  let caBundle = '';
  const seen: Seen[] = [];
  const k = (args: string[], input?: string) => kubectl(t.kubeconfig, args, input);

  before(async () => {
    t = await startTestApiServer({ name: 'admission-dynamic' });
    const ca = await issueCA('admission-test-webhook-ca');
    const serving = await issueServingCertificate(ca, ['127.0.0.1']);
    caBundle = Buffer.from(ca.certPem).toString('base64');
    hook = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const review = JSON.parse(body);
        const path = (req.url ?? '').split('?')[0];
        seen.push({ path, review });
        // Answers after the test's timeout (1 s), so the API server gives up first.
        if (path === '/slow') return void setTimeout(() => res.destroy(), 3000);
        const uid = review.request.uid;
        const obj = review.request.object;
        let response: any = { uid, allowed: true };
        if (path === '/deny' && obj?.metadata?.labels?.forbidden === 'yes')
          response = { uid, allowed: false, status: { code: 403, message: 'pods labelled forbidden=yes are not welcome' } };
        if (path === '/mutate' && !obj?.metadata?.labels?.mutated) {
          const patch = [{ op: 'add', path: '/metadata/labels/mutated', value: 'by-webhook' }];
          if (!obj.metadata.labels) patch.unshift({ op: 'add', path: '/metadata/labels', value: {} as any });
          response = { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64'), warnings: ['mutated by the test webhook'] };
        }
        if (path === '/label-second' && !obj?.metadata?.labels?.second) {
          const patch = [{ op: 'add', path: '/metadata/labels/second', value: 'yes' }];
          response = { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') };
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    hookPort = (hook.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
    await t?.close();
  });

  const webhook = (name: string, path: string, extra: Record<string, unknown> = {}) => ({
    name,
    clientConfig: { url: `https://127.0.0.1:${hookPort}${path}`, caBundle },
    rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    ...extra,
  });
  const cm = (name: string, labels: Record<string, string> = {}, ns = 'default') =>
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels }, data: { a: '1' } });

  test('a validating webhook denies, with its message; others pass', async () => {
    const cfg = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'deny' }, webhooks: [webhook('deny.example.com', '/deny')] };
    await k(['apply', '-f', '-'], JSON.stringify(cfg));
    const denied = await k(['apply', '-f', '-'], cm('bad', { forbidden: 'yes' }));
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /admission webhook "deny.example.com" denied the request: pods labelled forbidden=yes are not welcome/);
    const ok = await k(['apply', '-f', '-'], cm('good'));
    assert.equal(ok.code, 0, ok.stderr);
    const r = seen.find((s) => s.path === '/deny' && s.review.request.name === 'good')!.review;
    assert.equal(r.apiVersion, 'admission.k8s.io/v1');
    assert.deepEqual(r.request.kind, { group: '', version: 'v1', kind: 'ConfigMap' });
    assert.deepEqual(r.request.resource, { group: '', version: 'v1', resource: 'configmaps' });
    assert.equal(r.request.operation, 'CREATE');
    assert.equal(r.request.userInfo.username, 'admin');
    assert.equal(r.request.namespace, 'default');
    // A namespaceSelector that does not match skips the webhook.
    await k(['create', 'namespace', 'skipped']);
    cfg.webhooks[0] = webhook('deny.example.com', '/deny', { namespaceSelector: { matchLabels: { checked: 'yes' } } });
    await k(['apply', '-f', '-'], JSON.stringify(cfg));
    await eventually(async () => (await k(['apply', '-f', '-'], cm('bad', { forbidden: 'yes' }, 'skipped'))).code === 0, { what: 'unselected namespace admitted' });
    await k(['delete', 'validatingwebhookconfiguration', 'deny']);
  });

  test('a mutating webhook patches the object and warns', async () => {
    const cfg = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'mutate' }, webhooks: [webhook('mutate.example.com', '/mutate', { reinvocationPolicy: 'IfNeeded' })] };
    await k(['apply', '-f', '-'], JSON.stringify(cfg));
    const r = await k(['create', '-f', '-'], cm('patched'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Warning: mutated by the test webhook/);
    const got = JSON.parse((await k(['get', 'configmap', 'patched', '-o', 'json'])).stdout);
    assert.equal(got.metadata.labels.mutated, 'by-webhook');
    await k(['delete', 'mutatingwebhookconfiguration', 'mutate']);
  });

  test('failurePolicy: Fail refuses when the webhook cannot be reached, Ignore lets it through', async () => {
    const down = (policy: string) => ({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'down' },
      webhooks: [{ ...webhook('down.example.com', '/deny'), clientConfig: { url: 'https://127.0.0.1:1/deny', caBundle }, failurePolicy: policy, timeoutSeconds: 2 }],
    });
    await k(['apply', '-f', '-'], JSON.stringify(down('Fail')));
    const r = await k(['apply', '-f', '-'], cm('unreachable'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Internal error occurred: failed calling webhook "down.example.com": failed to call webhook: Post "https:\/\/127.0.0.1:1\/deny\?timeout=2s": dial tcp 127.0.0.1:1: connect: connection refused/);
    await k(['apply', '-f', '-'], JSON.stringify(down('Ignore')));
    assert.equal((await k(['apply', '-f', '-'], cm('unreachable'))).code, 0);
    await k(['delete', 'validatingwebhookconfiguration', 'down']);
  });

  test('objectSelector picks the objects; a webhook slower than timeoutSeconds fails the write (Fail)', async () => {
    const cfg = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'slow' },
      webhooks: [webhook('slow.example.com', '/slow', { timeoutSeconds: 1, objectSelector: { matchLabels: { check: 'yes' } } })],
    };
    await k(['apply', '-f', '-'], JSON.stringify(cfg));
    const unselected = await k(['apply', '-f', '-'], cm('not-checked'));
    assert.equal(unselected.code, 0, unselected.stderr);
    assert.ok(!seen.some((x) => x.path === '/slow' && x.review.request.name === 'not-checked'), 'the webhook was not called');
    const slow = await k(['apply', '-f', '-'], cm('checked', { check: 'yes' }));
    assert.notEqual(slow.code, 0);
    assert.match(slow.stderr, new RegExp(`failed calling webhook "slow.example.com": failed to call webhook: Post "https://127.0.0.1:${hookPort}/slow\\?timeout=1s": context deadline exceeded`));
    await k(['delete', 'validatingwebhookconfiguration', 'slow']);
  });

  test('reinvocationPolicy IfNeeded: a webhook runs again when a later one changed the object', async () => {
    const cfg = (name: string, hook: object) => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name }, webhooks: [hook] });
    await k(['apply', '-f', '-'], JSON.stringify(cfg('a-first', webhook('first.example.com', '/record-first', { reinvocationPolicy: 'IfNeeded' }))));
    await k(['apply', '-f', '-'], JSON.stringify(cfg('b-second', webhook('second.example.com', '/label-second'))));
    const r = await k(['create', '-f', '-'], cm('reinvoked'));
    assert.equal(r.code, 0, r.stderr);
    const calls = seen.filter((x) => x.path === '/record-first' && x.review.request.name === 'reinvoked');
    assert.equal(calls.length, 2, 'called again after second.example.com changed the object');
    assert.equal(calls[1]!.review.request.object.metadata.labels.second, 'yes');
    const once = await k(['create', '-f', '-'], cm('reinvoked-no-change', { second: 'yes' }));
    assert.equal(once.code, 0, once.stderr);
    assert.equal(seen.filter((x) => x.path === '/record-first' && x.review.request.name === 'reinvoked-no-change').length, 1, 'nothing changed: no second call');
    await k(['delete', 'mutatingwebhookconfiguration', 'a-first', 'b-second']);
  });

  test('a ValidatingAdmissionPolicy with CEL denies, warns and reads params', async () => {
    const policy = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: 'replicas.example.com' },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments'] }] },
        variables: [{ name: 'replicas', expression: 'object.spec.replicas' }],
        validations: [{ expression: 'variables.replicas <= 5', messageExpression: "'replicas must be at most 5, got ' + string(variables.replicas)" }],
      },
    };
    const binding = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: 'replicas-binding' },
      spec: { policyName: 'replicas.example.com', validationActions: ['Deny'] },
    };
    await k(['apply', '-f', '-'], JSON.stringify(policy));
    await k(['apply', '-f', '-'], JSON.stringify(binding));
    const r = await k(['create', 'deployment', 'big', '--image=busybox:1.36', '--replicas=7']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ValidatingAdmissionPolicy 'replicas.example.com' with binding 'replicas-binding' denied request: replicas must be at most 5, got 7/);
    assert.equal((await k(['create', 'deployment', 'small', '--image=busybox:1.36', '--replicas=2'])).code, 0);
    // Warn instead of Deny.
    await k(['apply', '-f', '-'], JSON.stringify({ ...binding, spec: { ...binding.spec, validationActions: ['Warn'] } }));
    const w = await k(['create', 'deployment', 'big', '--image=busybox:1.36', '--replicas=7']);
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stderr, /Warning: Validation failed for ValidatingAdmissionPolicy 'replicas.example.com' with binding 'replicas-binding': replicas must be at most 5, got 7/);
    // Params from a ConfigMap named by the binding.
    await k(['create', 'configmap', 'limits', '--from-literal=max=3']);
    const withParams = {
      ...policy,
      metadata: { name: 'param.example.com' },
      spec: { ...policy.spec, paramKind: { apiVersion: 'v1', kind: 'ConfigMap' }, variables: [], validations: [{ expression: 'object.spec.replicas <= int(params.data.max)', reason: 'Forbidden' }] },
    };
    await k(['apply', '-f', '-'], JSON.stringify(withParams));
    await k(['apply', '-f', '-'], JSON.stringify({ ...binding, metadata: { name: 'param-binding' }, spec: { policyName: 'param.example.com', validationActions: ['Deny'], paramRef: { name: 'limits', namespace: 'default', parameterNotFoundAction: 'Deny' } } }));
    const p = await k(['create', 'deployment', 'four', '--image=busybox:1.36', '--replicas=4']);
    assert.match(p.stderr, /ValidatingAdmissionPolicy 'param.example.com' with binding 'param-binding' denied request: failed expression: object.spec.replicas <= int\(params.data.max\)/);
  });

  test('CEL that does not compile is refused when a policy or webhook is written (422 naming the field)', async () => {
    const policy = (validations: unknown[], extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: 'bad-cel.example.com' },
        spec: { matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }] }, validations, ...extra },
      });
    const syntax = await k(['create', '-f', '-'], policy([{ expression: 'object.data.size() ==' }]));
    assert.notEqual(syntax.code, 0);
    assert.match(syntax.stderr, /ValidatingAdmissionPolicy "bad-cel.example.com" is invalid: spec.validations\[0\].expression: Invalid value: "object.data.size\(\) ==": compilation failed/);
    const unknown = await k(['create', '-f', '-'], policy([{ expression: 'true' }], { variables: [{ name: 'v', expression: 'nosuch.x' }] }));
    assert.match(unknown.stderr, /spec.variables\[0\].expression: Invalid value: "nosuch.x": compilation failed: Unknown variable: nosuch/);
    const typed = await k(['create', '-f', '-'], policy([{ expression: "'yes'", messageExpression: '42' }]));
    assert.match(typed.stderr, /spec.validations\[0\].expression: Invalid value: "'yes'": cel expression must evaluate to a bool/);
    assert.match(typed.stderr, /spec.validations\[0\].messageExpression: Invalid value: "42": cel expression must evaluate to a string/);
    assert.equal((await k(['create', '-f', '-'], policy([{ expression: 'object.data.size() < 3' }]))).code, 0);
    const hook = await k(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'bad-cel-hook' },
        webhooks: [webhook('bad.example.com', '/deny', { matchConditions: [{ name: 'm', expression: 'request.userInfo.username ==' }] })],
      }),
    );
    assert.match(hook.stderr, /webhooks\[0\].matchConditions\[0\].expression: Invalid value: "request.userInfo.username ==": compilation failed/);
  });
});
