// Security end to end with the real kubectl and the official Python client against `mizzen up`:
// `kubectl auth whoami` and `auth can-i` (with --list and --as), a new user's certificate through a
// CertificateSigningRequest and `kubectl certificate approve`, a ServiceAccount token kubeconfig,
// the components running as themselves, and the Python client with a bearer token.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { parse } from 'yaml';
import { hasKubectl, run, startCluster, type Cluster } from './harness.ts';
import { eventually } from './poll.ts';

const PYTHON = '/usr/bin/python3';
const noPython = !existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import kubernetes'], { stdio: 'ignore' }).status !== 0;

describe('security with kubectl', { skip: hasKubectl ? false : 'kubectl is not installed' }, () => {
  let c: Cluster;

  before(async () => {
    c = await startCluster({ extraArgs: ['--simulated-nodes', '1'] });
  });
  after(async () => {
    await c?.stop();
  });

  /** A kubeconfig for the same cluster with other credentials. */
  async function kubeconfigWith(name: string, user: Record<string, string>): Promise<string> {
    const doc = parse(await readFile(c.kubeconfig, 'utf8'));
    doc.users = [{ name, user }];
    doc.contexts = [{ name, context: { cluster: doc.clusters[0].name, user: name } }];
    doc['current-context'] = name;
    const file = join(c.dataDir, `${name}.kubeconfig`);
    await writeFile(file, JSON.stringify(doc), { mode: 0o600 });
    return file;
  }

  test('whoami, can-i, can-i --list and --as', async () => {
    const who = await c.kubectl(['auth', 'whoami', '-o', 'json']);
    assert.deepEqual(JSON.parse(who.stdout).status.userInfo, { username: 'admin', groups: ['system:masters', 'system:authenticated'] });
    assert.equal((await c.kubectl(['auth', 'can-i', 'delete', 'nodes'])).stdout.trim(), 'yes');
    const no = await c.kubectl(['auth', 'can-i', 'list', 'pods', '--as', 'alice'], { allowFail: true });
    assert.equal(no.stdout.trim(), 'no');
    assert.equal(no.code, 1);
    await c.kubectl(['create', 'rolebinding', 'alice-view', '--clusterrole=view', '--user=alice']);
    await eventually(async () => (await c.kubectl(['auth', 'can-i', 'list', 'pods', '--as', 'alice'], { allowFail: true })).stdout.trim() === 'yes', { what: 'alice may list pods' });
    assert.equal((await c.kubectl(['auth', 'can-i', 'get', 'secrets', '--as', 'alice'], { allowFail: true })).stdout.trim(), 'no');
    const list = await c.kubectl(['auth', 'can-i', '--list', '--as', 'alice']);
    assert.match(list.stdout, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    assert.match(list.stdout, /selfsubjectreviews\.authentication\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
    const forbidden = await c.kubectl(['get', 'secrets', '--as', 'alice'], { allowFail: true });
    assert.match(forbidden.stderr, /Error from server \(Forbidden\): secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "default"/);
    const nodeWho = await c.kubectl(['auth', 'whoami', '--as', 'system:node:sim-0', '--as-group', 'system:nodes', '-o', 'jsonpath={.status.userInfo.username}']);
    assert.equal(nodeWho.stdout, 'system:node:sim-0');
  });

  test('a new user gets a certificate through a CSR and kubectl certificate approve', async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=jane, O=qa', keys, signingAlgorithm: alg });
    const manifest = {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: 'jane' },
      spec: { request: Buffer.from(csr.toString('pem')).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', expirationSeconds: 86400, usages: ['client auth'] },
    };
    await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    assert.match((await c.kubectl(['get', 'csr', 'jane'])).stdout, /jane\s+\S+\s+kubernetes.io\/kube-apiserver-client\s+admin\s+24h\s+Pending/);
    await c.kubectl(['certificate', 'approve', 'jane']);
    const cert = await eventually(async () => (await c.kubectl(['get', 'csr', 'jane', '-o', 'jsonpath={.status.certificate}'])).stdout || undefined, { what: 'the certificate is issued' });
    assert.match((await c.kubectl(['get', 'csr', 'jane'])).stdout, /Approved,Issued/);
    const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
    const kc = await kubeconfigWith('jane', { 'client-certificate-data': cert as string, 'client-key-data': Buffer.from(keyPem).toString('base64') });
    const who = await c.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}'], { env: { KUBECONFIG: kc } });
    assert.equal(who.stdout, 'jane ["qa","system:authenticated"]');
    const denied = await c.kubectl(['get', 'pods'], { env: { KUBECONFIG: kc }, allowFail: true });
    assert.match(denied.stderr, /User "jane" cannot list resource "pods"/);
    const deny = await c.kubectl(['certificate', 'deny', 'jane'], { allowFail: true });
    assert.match(deny.stderr + deny.stdout, /already Approved/);
    // A denied request is never signed, and cannot be approved after.
    await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ ...manifest, metadata: { name: 'joe' } }) });
    await c.kubectl(['certificate', 'deny', 'joe']);
    assert.match((await c.kubectl(['get', 'csr', 'joe'])).stdout, /\sDenied\s*$/m);
    const late = await c.kubectl(['certificate', 'approve', 'joe'], { allowFail: true });
    assert.match(late.stderr + late.stdout, /already Denied/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await c.kubectl(['get', 'csr', 'joe', '-o', 'jsonpath={.status.certificate}'])).stdout, '');
  });

  test('a ServiceAccount token kubeconfig, and the token dies with its ServiceAccount', async () => {
    await c.kubectl(['create', 'serviceaccount', 'robot']);
    await c.kubectl(['create', 'rolebinding', 'robot-edit', '--clusterrole=edit', '--serviceaccount=default:robot']);
    const token = (await c.kubectl(['create', 'token', 'robot'])).stdout.trim();
    const kc = await kubeconfigWith('robot', { token });
    const env = { KUBECONFIG: kc };
    assert.equal((await c.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { env })).stdout, 'system:serviceaccount:default:robot');
    await c.kubectl(['create', 'configmap', 'from-robot', '--from-literal=a=b'], { env });
    const nodes = await c.kubectl(['get', 'nodes'], { env, allowFail: true });
    assert.match(nodes.stderr, /User "system:serviceaccount:default:robot" cannot list resource "nodes" in API group "" at the cluster scope/);
    await c.kubectl(['delete', 'serviceaccount', 'robot']);
    const gone = await c.kubectl(['get', 'configmaps'], { env, allowFail: true });
    assert.match(gone.stderr, /Unauthorized|must be logged in/);
  });

  test('components run as themselves; their kubeconfigs are not the admin', async () => {
    for (const [file, user] of [
      ['scheduler', 'system:kube-scheduler'],
      ['controller-manager', 'system:kube-controller-manager'],
      ['cloud-controller-manager', 'system:cloud-controller-manager'],
      ['simulated-nodes', 'mizzen:simulated-nodes'],
    ]) {
      const kc = join(c.dataDir, 'cred', `${file}.kubeconfig`);
      const who = await c.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { env: { KUBECONFIG: kc } });
      assert.equal(who.stdout, user);
      assert.equal((await c.kubectl(['auth', 'can-i', 'create', 'clusterrolebindings'], { env: { KUBECONFIG: kc }, allowFail: true })).stdout.trim(), 'no');
    }
    const sas = (await c.kubectl(['get', 'serviceaccounts', '-n', 'kube-system', '-o', 'name'])).stdout;
    for (const sa of ['replicaset-controller', 'deployment-controller', 'namespace-controller', 'generic-garbage-collector']) assert.match(sas, new RegExp(`serviceaccount/${sa}$`, 'm'));
    // Work still gets done by the controllers under their own identities.
    await c.kubectl(['create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
    await eventually(async () => (await c.kubectl(['get', 'deployment', 'web', '-o', 'jsonpath={.status.readyReplicas}'])).stdout === '2', { what: 'deployment ready', timeoutMs: 30_000 });
    assert.doesNotMatch(c.logs(), /is forbidden: User "system:(serviceaccount:kube-system:|kube-|node:)/);
  });

  test('the Python client with a bearer token', { skip: noPython ? 'the Python client is not installed (apt-get install python3-kubernetes)' : false }, async () => {
    await c.kubectl(['create', 'serviceaccount', 'py']);
    await c.kubectl(['create', 'rolebinding', 'py-view', '--clusterrole=view', '--serviceaccount=default:py']);
    const token = (await c.kubectl(['create', 'token', 'py'])).stdout.trim();
    const script = String.raw`
import json, sys
from kubernetes import client
from kubernetes.client.rest import ApiException
cfg = client.Configuration()
cfg.host = sys.argv[1]
cfg.ssl_ca_cert = sys.argv[2]
cfg.api_key = {"authorization": "Bearer " + sys.argv[3]}
api = client.ApiClient(cfg)
v1 = client.CoreV1Api(api)
out = {"configmaps": [c.metadata.name for c in v1.list_namespaced_config_map("default").items]}
try:
    v1.list_namespaced_secret("default")
    out["secrets"] = "allowed"
except ApiException as e:
    out["secrets"] = e.status
print(json.dumps(out))
`;
    const res = await run(PYTHON, ['-c', script, c.url, join(c.dataDir, 'pki', 'ca.crt'), token], { timeoutMs: 60_000 });
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout.trim().split('\n').pop()!);
    assert.ok(out.configmaps.includes('kube-root-ca.crt'));
    assert.equal(out.secrets, 403);
  });
});
