import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeconfig, parseKubeconfig, KubeconfigError } from './kubeconfig.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const doc = `
apiVersion: v1
kind: Config
current-context: admin@mizzen
clusters:
- name: mizzen
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: ${b64('CA PEM')}
- name: other
  cluster:
    server: https://10.0.0.1:6443
    insecure-skip-tls-verify: true
    certificate-authority: ca.crt
users:
- name: admin
  user:
    client-certificate-data: ${b64('CERT PEM')}
    client-key-data: ${b64('KEY PEM')}
- name: bot
  user:
    token: abc123
contexts:
- name: admin@mizzen
  context:
    cluster: mizzen
    user: admin
    namespace: kube-system
- name: bot@other
  context:
    cluster: other
    user: bot
`;

test('current context with inline data', () => {
  const c = parseKubeconfig(doc);
  assert.equal(c.server, 'https://127.0.0.1:6443');
  assert.equal(c.ca, 'CA PEM');
  assert.equal(c.cert, 'CERT PEM');
  assert.equal(c.key, 'KEY PEM');
  assert.equal(c.namespace, 'kube-system');
  assert.equal(c.contextName, 'admin@mizzen');
  assert.equal(c.token, undefined);
  assert.equal(c.insecureSkipTLSVerify, undefined);
});

test('explicit context, token, insecure, relative CA file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kc-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), 'FILE CA');
    writeFileSync(join(dir, 'config'), doc);
    const c = loadKubeconfig(join(dir, 'config'), { context: 'bot@other' });
    assert.equal(c.server, 'https://10.0.0.1:6443');
    assert.equal(c.token, 'abc123');
    assert.equal(c.insecureSkipTLSVerify, true);
    assert.equal(c.ca, 'FILE CA');
    assert.equal(c.namespace, 'default');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errors for missing context or cluster', () => {
  assert.throws(() => parseKubeconfig(doc, { context: 'nope' }), KubeconfigError);
  assert.throws(() => parseKubeconfig('clusters: []'), /current-context/);
  assert.throws(
    () => parseKubeconfig('current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n'),
    /cluster "c"/,
  );
});
