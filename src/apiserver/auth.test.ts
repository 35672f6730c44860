// Authentication and authorization against a real API server (real SQLite, real TLS): anonymous
// access, static tokens, ServiceAccount tokens through TokenRequest, 401s for bad credentials of
// every kind (never a 500), upstream's 403 messages, impersonation, escalation prevention, the node
// authorizer, the review APIs, the ServiceAccount admission plugin and the CSR flow.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { ApiClient, ApiError } from '../client/api-client.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { ensurePki, issueClientCertificate } from './pki.ts';
import { testControllerEnv } from '../controllers/test-support.ts';
import { csrSigningController } from '../controllers/certificates/signer.ts';
import { csrApprovingController } from '../controllers/certificates/approver.ts';
import { clusterRoleAggregationController } from '../controllers/clusterroleaggregation/index.ts';
import { waitFor } from '../controllers/test-support.ts';
import type { KObject } from '../api/types.ts';

const TOKENS = {
  alice: 'alice-token-0123456789',
  bob: 'bob-token-0123456789',
  n1: 'node1-token-0123456789',
  n2: 'node2-token-0123456789',
};

let t: TestApiServer;
let admin: ApiClient;
const clients: ApiClient[] = [];

function client(opts: { token?: string; cert?: string; key?: string; headers?: Record<string, string> } = {}): ApiClient {
  const c = new ApiClient({ server: t.server.url, ca: t.pki.caCertPem, maxRetries: 0, ...opts });
  clients.push(c);
  return c;
}

interface Raw {
  code: number;
  body: any;
}

function raw(path: string, o: { method?: string; headers?: Record<string, string>; cert?: string; key?: string; body?: string } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, t.server.url);
    const req = https.request(
      { hostname: u.hostname, port: u.port, path: u.pathname + u.search, method: o.method ?? 'GET', headers: o.headers, ca: t.pki.caCertPem, cert: o.cert, key: o.key, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let body: any = text;
          try {
            body = JSON.parse(text);
          } catch {
            // plain text
          }
          resolve({ code: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

async function rejectsWith(p: Promise<unknown>, code: number, message?: string | RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.code, code, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  });
}

const ns = { version: 'v1', resource: 'namespaces' };
const pods = (namespace: string) => ({ version: 'v1', resource: 'pods', namespace });
const rbacRef = (resource: string, namespace?: string) => ({ group: 'rbac.authorization.k8s.io', version: 'v1', resource, namespace });

let tokenDir: string;
let aggregation: ReturnType<typeof testControllerEnv>;

before(async () => {
  tokenDir = await mkdtemp(join(tmpdir(), 'mizzen-auth-tokens-'));
  const tokenFile = join(tokenDir, 'tokens.csv');
  await writeFile(
    tokenFile,
    [`${TOKENS.alice},alice,uid-a,"devs"`, `${TOKENS.bob},bob,uid-b`, `${TOKENS.n1},system:node:n1,uid-n1,system:nodes`, `${TOKENS.n2},system:node:n2,uid-n2,system:nodes`].join('\n'),
  );
  t = await startTestApiServer({ name: 'auth', serviceAccountAdmission: true, auth: { tokenAuthFile: tokenFile, defaultServiceAccountWaitMs: 200 } });
  admin = client({ cert: t.pki.adminCertPem, key: t.pki.adminKeyPem });
  await admin.create(ns, { metadata: { name: 'team' } });
  await admin.create({ version: 'v1', resource: 'serviceaccounts', namespace: 'team' }, { metadata: { name: 'default' } });
  // admin, edit and view get their rules from the aggregation controller, as in a cluster.
  aggregation = testControllerEnv(t.kubeconfig);
  await aggregation.start(clusterRoleAggregationController);
  await waitFor(async () => ((await admin.get<any>({ ...rbacRef('clusterroles'), name: 'admin' })).rules?.length ? true : undefined));
});

after(async () => {
  await aggregation?.stop();
  for (const c of clients) c.close();
  await t?.close();
  await rm(tokenDir, { recursive: true, force: true });
});

describe('authentication', () => {
  test('anonymous may read health and version only', async () => {
    assert.equal((await raw('/healthz')).code, 200);
    assert.equal((await raw('/readyz')).code, 200);
    assert.equal((await raw('/version')).code, 200);
    const api = await raw('/api');
    assert.equal(api.code, 403);
    assert.equal(api.body.message, 'forbidden: User "system:anonymous" cannot get path "/api"');
    const list = await raw('/api/v1/namespaces/default/pods');
    assert.equal(list.body.message, 'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "default"');
  });

  test('static tokens authenticate; unknown tokens and malformed headers are 401 or anonymous, never 500', async () => {
    const who = await client({ token: TOKENS.alice }).create<any>({ group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews' }, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    assert.deepEqual(who.status.userInfo, { username: 'alice', uid: 'uid-a', groups: ['devs', 'system:authenticated'] });
    const headers: [string, number][] = [
      ['Bearer nope', 401],
      ['Bearer ', 403],
      ['bearer ' + 'x'.repeat(8000), 401],
      ['Bearer a.b.c', 401],
      ['Bearer eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCJ9.AAAA', 401],
      ['Bearer eyJ.eyJ.x', 401],
      ['Basic YWxpY2U6cHc=', 403],
      ['Bearer \u00ff\u00fe', 401],
      ['Negotiate', 403],
      ['Bearer  two  spaces', 403],
    ];
    for (const [h, want] of headers) {
      const r = await raw('/api/v1/namespaces', { headers: { Authorization: h } });
      assert.equal(r.code, want, `${JSON.stringify(h.slice(0, 40))}: ${JSON.stringify(r.body).slice(0, 200)}`);
      assert.equal(r.body.kind, 'Status');
    }
  });

  test('seeded fuzz: mutated bearer tokens and identity headers get a 401/403 Status, never a 5xx or a wrong user', async () => {
    await admin.create({ version: 'v1', resource: 'serviceaccounts', namespace: 'default' }, { metadata: { name: 'fuzzed' } });
    const jwt = (await admin.request<any>('POST', '/api/v1/namespaces/default/serviceaccounts/fuzzed/token', { spec: {} })).status.token as string;
    // A small deterministic generator (mulberry32), so a failure names its case.
    let seed = 1414;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    const printable = () => String.fromCharCode(33 + Math.floor(rand() * 94));
    const mutate = (v: string) => {
      const a = [...v];
      for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) {
        const i = Math.floor(rand() * a.length);
        const op = rand();
        if (op < 0.4) a[i] = printable();
        else if (op < 0.7) a.splice(i, 1);
        else a.splice(i, 0, printable());
      }
      return a.join('');
    };
    const bases = [jwt, TOKENS.alice, `${jwt.split('.')[0]}.${jwt.split('.')[1]}.`, jwt.split('.').reverse().join('.')];
    for (let i = 0; i < 120; i++) {
      const token = mutate(bases[i % bases.length]!);
      if (token === jwt || token === TOKENS.alice) continue;
      const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
      // Identity headers a TLS client may not use to name itself (only the private socket trusts them).
      if (i % 3 === 0) headers['X-Remote-User'] = 'admin';
      if (i % 5 === 0) headers['X-Remote-Group'] = 'system:masters';
      const r = await raw('/api/v1/namespaces/default/secrets', { headers });
      assert.ok(r.code === 401 || r.code === 403, `case ${i} (${JSON.stringify(token.slice(-24))}): ${r.code} ${JSON.stringify(r.body).slice(0, 200)}`);
      assert.equal(r.body.kind, 'Status');
    }
    // X-Remote headers over TLS with a valid token change nothing: still the ServiceAccount.
    const r = await raw('/api/v1/namespaces/default/secrets', { headers: { Authorization: `Bearer ${jwt}`, 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' } });
    assert.equal(r.code, 403);
    assert.match(r.body.message, /system:serviceaccount:default:fuzzed/);
  });

  test('certificates from another CA, expired or not for clients are 401', async () => {
    const other = await ensurePki(join(t.dir, 'other-ca'));
    const foreign = await issueClientCertificate({ certPem: other.caCertPem, keyPem: other.caKeyPem }, 'admin', ['system:masters']);
    assert.equal((await raw('/api/v1/namespaces', { cert: foreign.certPem, key: foreign.keyPem })).code, 401);
    // Our CA, but a serving certificate (no client auth usage): refused as upstream's x509 check does.
    assert.equal((await raw('/api/v1/namespaces', { cert: t.pki.serverCertPem, key: t.pki.serverKeyPem })).code, 401);
    // Our CA, but expired.
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(t.pki.caKeyPem), alg, false, ['sign']);
    const expired = await x509.X509CertificateGenerator.create({
      serialNumber: '01',
      subject: 'O=system:masters, CN=admin',
      issuer: new x509.X509Certificate(t.pki.caCertPem).subject,
      notBefore: new Date(Date.now() - 7200_000),
      notAfter: new Date(Date.now() - 3600_000),
      publicKey: keys.publicKey,
      signingKey: caKey,
      signingAlgorithm: alg,
    });
    const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
    assert.equal((await raw('/api/v1/namespaces', { cert: expired.toString('pem'), key: keyPem })).code, 401);
    // A bad certificate with a good token: the token decides (upstream's union of authenticators).
    const r = await raw('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      method: 'POST',
      cert: foreign.certPem,
      key: foreign.keyPem,
      headers: { Authorization: `Bearer ${TOKENS.alice}`, 'Content-Type': 'application/json' },
      body: '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
    });
    assert.equal(r.body.status.userInfo.username, 'alice');
  });

  test('TokenRequest: audiences, lifetime limits, pod binding; TokenReview checks them', async () => {
    const saRef = { version: 'v1', resource: 'serviceaccounts', namespace: 'team' };
    await admin.create(saRef, { metadata: { name: 'robot' } });
    const req = (body: unknown) => admin.request<any>('POST', '/api/v1/namespaces/team/serviceaccounts/robot/token', body);
    await rejectsWith(req({ spec: { expirationSeconds: 599 } }), 422, /spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes/);
    await rejectsWith(admin.request('POST', '/api/v1/namespaces/team/serviceaccounts/ghost/token', { spec: {} }), 404, 'serviceaccounts "ghost" not found');
    const tr = await req({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} });
    assert.deepEqual(tr.spec.audiences, ['https://kubernetes.default.svc.cluster.local']);
    assert.equal(tr.spec.expirationSeconds, 3600);
    const robot = client({ token: tr.status.token });
    await rejectsWith(robot.list(pods('team')), 403, 'pods is forbidden: User "system:serviceaccount:team:robot" cannot list resource "pods" in API group "" in the namespace "team"');

    const review = async (token: string, audiences?: string[]) =>
      (await admin.create<any>({ group: 'authentication.k8s.io', version: 'v1', resource: 'tokenreviews' }, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } })).status;
    const ok = await review(tr.status.token);
    assert.equal(ok.authenticated, true);
    assert.equal(ok.user.username, 'system:serviceaccount:team:robot');
    const vault = await req({ spec: { audiences: ['vault'] } });
    assert.equal((await review(vault.status.token)).authenticated, false);
    assert.deepEqual((await review(vault.status.token, ['vault'])).audiences, ['vault']);
    await rejectsWith(client({ token: vault.status.token }).list(pods('team')), 401);
    assert.equal((await review('garbage')).authenticated, false);

    // Bound to a pod: dies with the pod.
    const pod = await admin.create<KObject>(pods('team'), { metadata: { name: 'p' }, spec: { serviceAccountName: 'robot', containers: [{ name: 'c', image: 'x' }] } });
    const bound = await req({ spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: pod.metadata.uid } } });
    const r = await review(bound.status.token);
    assert.deepEqual(r.user.extra['authentication.kubernetes.io/pod-name'], ['p']);
    await rejectsWith(req({ spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: 'other' } } }), 409);
    await admin.delete({ ...pods('team'), name: 'p' }, { gracePeriodSeconds: 0 });
    await rejectsWith(client({ token: bound.status.token }).list(pods('team')), 401);
    assert.match((await review(bound.status.token)).error, /pod team\/p has been deleted/);
    // The ServiceAccount is deleted: its tokens stop working.
    await admin.delete({ ...saRef, name: 'robot' });
    await rejectsWith(robot.list(pods('team')), 401);
  });

  test('OIDC discovery for ServiceAccounts, not for anonymous', async () => {
    assert.equal((await raw('/.well-known/openid-configuration')).code, 403);
    const tr = await admin.request<any>('POST', '/api/v1/namespaces/team/serviceaccounts/default/token', { spec: {} });
    const conf = await raw('/.well-known/openid-configuration', { headers: { Authorization: `Bearer ${tr.status.token}` } });
    assert.equal(conf.body.issuer, 'https://kubernetes.default.svc.cluster.local');
    assert.equal(conf.body.jwks_uri, 'https://kubernetes.default.svc.cluster.local/openid/v1/jwks');
    const jwks = await raw('/openid/v1/jwks', { headers: { Authorization: `Bearer ${tr.status.token}` } });
    const kid = JSON.parse(Buffer.from(tr.status.token.split('.')[0], 'base64url').toString()).kid;
    assert.equal(jwks.body.keys[0].kid, kid);
    assert.equal(jwks.body.keys[0].alg, 'ES256');
  });
});

describe('authorization', () => {
  test('impersonation needs the impersonate verb; kubectl --as works for the admin', async () => {
    const asAlice = client({ cert: t.pki.adminCertPem, key: t.pki.adminKeyPem, headers: { 'Impersonate-User': 'alice' } });
    await rejectsWith(asAlice.list(pods('team')), 403, 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team"');
    const aliceAsBob = client({ token: TOKENS.alice, headers: { 'Impersonate-User': 'bob' } });
    await rejectsWith(aliceAsBob.list(pods('team')), 403, 'users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope');
    await rejectsWith(client({ token: TOKENS.alice, headers: { 'Impersonate-Group': 'system:masters' } }).list(pods('team')), 400, /without impersonating a user/);
    // Given the verb on that one user, alice may.
    await admin.create(rbacRef('clusterroles'), { metadata: { name: 'impersonate-bob' }, rules: [{ verbs: ['impersonate'], apiGroups: [''], resources: ['users'], resourceNames: ['bob'] }] });
    await admin.create(rbacRef('clusterrolebindings'), { metadata: { name: 'alice-impersonates-bob' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'impersonate-bob' }, subjects: [{ kind: 'User', name: 'alice' }] });
    const who = await aliceAsBob.create<any>({ group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews' }, { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' });
    assert.deepEqual(who.status.userInfo, { username: 'bob', groups: ['system:authenticated'] });
    await rejectsWith(client({ token: TOKENS.alice, headers: { 'Impersonate-User': 'bob', 'Impersonate-Group': 'system:masters' } }).list(pods('team')), 403, /groups "system:masters" is forbidden/);
  });

  test('escalation: a role or binding may grant only what the writer holds', async () => {
    await admin.create(rbacRef('roles', 'team'), {
      metadata: { name: 'role-writer' },
      rules: [
        { verbs: ['create', 'update', 'get'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'] },
        { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
      ],
    });
    await admin.create(rbacRef('rolebindings', 'team'), { metadata: { name: 'bob-writes-roles' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'role-writer' }, subjects: [{ kind: 'User', name: 'bob' }] });
    const bob = client({ token: TOKENS.bob });
    await bob.create(rbacRef('roles', 'team'), { metadata: { name: 'pods-only' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] });
    await rejectsWith(
      bob.create(rbacRef('roles', 'team'), { metadata: { name: 'secrets' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets', 'pods'] }] }),
      403,
      'roles.rbac.authorization.k8s.io "secrets" is forbidden: user "bob" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}',
    );
    await rejectsWith(
      bob.create(rbacRef('rolebindings', 'team'), { metadata: { name: 'me-admin' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'User', name: 'bob' }] }),
      403,
      /rolebindings.rbac.authorization.k8s.io "me-admin" is forbidden: user "bob" .* is attempting to grant RBAC permissions not currently held/,
    );
    await bob.create(rbacRef('rolebindings', 'team'), { metadata: { name: 'alice-pods' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pods-only' }, subjects: [{ kind: 'User', name: 'alice' }] });
    // With `bind` on the view ClusterRole, bob may bind it although he does not hold it.
    await admin.create(rbacRef('roles', 'team'), { metadata: { name: 'bind-view' }, rules: [{ verbs: ['bind'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], resourceNames: ['view'] }] });
    await admin.create(rbacRef('rolebindings', 'team'), { metadata: { name: 'bob-binds-view' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'bind-view' }, subjects: [{ kind: 'User', name: 'bob' }] });
    await bob.create(rbacRef('rolebindings', 'team'), { metadata: { name: 'alice-view' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'alice' }] });
    await client({ token: TOKENS.alice }).list(pods('team'));
    await rejectsWith(client({ token: TOKENS.alice }).list({ version: 'v1', resource: 'secrets', namespace: 'team' }), 403);
  });

  test('the node authorizer: a kubelet reads its own pods and what they use, nothing of other nodes', async () => {
    await admin.create({ version: 'v1', resource: 'secrets', namespace: 'team' }, { metadata: { name: 's1' }, stringData: { a: 'b' } });
    await admin.create({ version: 'v1', resource: 'secrets', namespace: 'team' }, { metadata: { name: 's2' }, stringData: { a: 'b' } });
    await admin.create({ version: 'v1', resource: 'configmaps', namespace: 'team' }, { metadata: { name: 'c1' }, data: { a: 'b' } });
    const podOn = (name: string, node: string, secret: string) =>
      admin.create(pods('team'), {
        metadata: { name },
        spec: { nodeName: node, containers: [{ name: 'c', image: 'x', envFrom: [{ configMapRef: { name: 'c1' } }] }], volumes: [{ name: 's', secret: { secretName: secret } }] },
      });
    await podOn('on-n1', 'n1', 's1');
    await podOn('on-n2', 'n2', 's2');
    const n1 = client({ token: TOKENS.n1 });
    const sec = (name: string) => ({ version: 'v1', resource: 'secrets', namespace: 'team', name });
    assert.equal((await n1.get<any>(sec('s1'))).metadata.name, 's1');
    await rejectsWith(n1.get(sec('s2')), 403, `secrets "s2" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "team": no relationship found between node 'n1' and this object`);
    await n1.get({ version: 'v1', resource: 'configmaps', namespace: 'team', name: 'c1' });
    await n1.get({ ...pods('team'), name: 'on-n1' });
    await rejectsWith(n1.get({ ...pods('team'), name: 'on-n2' }), 403, /no relationship found between node 'n1' and this object/);
    assert.deepEqual((await n1.list(pods(''), { fieldSelector: 'spec.nodeName=n1' })).items.map((p: any) => p.metadata.name), ['on-n1']);
    await rejectsWith(n1.list(pods('')), 403, /can only list\/watch pods with spec.nodeName field selector/);
    await rejectsWith(n1.list(pods(''), { fieldSelector: 'spec.nodeName=n2' }), 403);
    await rejectsWith(n1.list({ version: 'v1', resource: 'secrets', namespace: 'team' }), 403);
    // Its own Node and Lease only.
    await n1.create({ version: 'v1', resource: 'nodes' }, { metadata: { name: 'n1' } });
    await admin.create({ version: 'v1', resource: 'nodes' }, { metadata: { name: 'n2' } });
    await n1.get({ version: 'v1', resource: 'nodes', name: 'n1' });
    await rejectsWith(n1.get({ version: 'v1', resource: 'nodes', name: 'n2' }), 403, /node 'n1' cannot read 'n2', only its own Node object/);
    const leases = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };
    await n1.create(leases, { metadata: { name: 'n1' }, spec: { holderIdentity: 'n1' } });
    await rejectsWith(n1.get({ ...leases, name: 'n2' }), 403, /can only access node lease with the same name as the requesting node/);
    // Tokens for the ServiceAccounts of its pods only.
    await n1.request('POST', '/api/v1/namespaces/team/serviceaccounts/default/token', { spec: {} });
    const n2 = client({ token: TOKENS.n2 });
    await rejectsWith(n2.get(sec('s1')), 403);
    await n2.get(sec('s2'));
    // A pod moves off the node (deleted): its secret is no longer the node's.
    await admin.delete({ ...pods('team'), name: 'on-n1' }, { gracePeriodSeconds: 0 });
    await waitFor(async () => {
      try {
        await n1.get(sec('s1'));
        return undefined;
      } catch (e) {
        return (e as ApiError).code === 403 ? true : undefined;
      }
    });
  });

  test('access reviews answer as the authorizer does', async () => {
    const sar = (spec: unknown) => admin.create<any>({ group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews' }, { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec });
    assert.equal((await sar({ user: 'alice', resourceAttributes: { namespace: 'team', verb: 'list', resource: 'pods' } })).status.allowed, true);
    assert.equal((await sar({ user: 'alice', resourceAttributes: { namespace: 'default', verb: 'list', resource: 'pods' } })).status.allowed, false);
    assert.equal((await sar({ user: 'x', groups: ['system:masters'], nonResourceAttributes: { path: '/metrics', verb: 'get' } })).status.allowed, true);
    await rejectsWith(sar({ resourceAttributes: { verb: 'get', resource: 'pods' } }), 422, /at least one of user or group must be specified/);
    await rejectsWith(sar({ user: 'a' }), 422, /exactly one of nonResourceAttributes or resourceAttributes must be specified/);
    const lsar = await admin.create<any>({ group: 'authorization.k8s.io', version: 'v1', resource: 'localsubjectaccessreviews', namespace: 'team' }, { kind: 'LocalSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: { user: 'bob', resourceAttributes: { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'roles' } } });
    assert.equal(lsar.status.allowed, true);
    assert.equal(lsar.metadata.namespace, 'team');
    const rules = await client({ token: TOKENS.alice }).create<any>({ group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectrulesreviews' }, { kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1', spec: { namespace: 'team' } });
    assert.ok(rules.status.resourceRules.some((r: any) => r.resources.includes('pods') && r.verbs.includes('get')));
    assert.equal(rules.status.incomplete, false);
    const nodeRules = await client({ token: TOKENS.n1 }).create<any>({ group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectrulesreviews' }, { kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1', spec: { namespace: 'team' } });
    assert.equal(nodeRules.status.incomplete, true);
  });
});

describe('ServiceAccount admission', () => {
  test('pods get the kube-api-access volume unless automounting is off; a missing ServiceAccount is refused', async () => {
    const saRef = { version: 'v1', resource: 'serviceaccounts', namespace: 'team' };
    await admin.create(saRef, { metadata: { name: 'builder' }, imagePullSecrets: [{ name: 'regcred' }] });
    await admin.create(saRef, { metadata: { name: 'quiet' }, automountServiceAccountToken: false });
    const p = await admin.create<any>(pods('team'), { metadata: { name: 'a' }, spec: { serviceAccountName: 'builder', initContainers: [{ name: 'i', image: 'x' }], containers: [{ name: 'c', image: 'x' }] } });
    const vol = p.spec.volumes.find((v: any) => v.name.startsWith('kube-api-access-'));
    assert.match(vol.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(vol.projected, {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    });
    for (const c of [...p.spec.initContainers, ...p.spec.containers]) assert.deepEqual(c.volumeMounts, [{ name: vol.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
    assert.deepEqual(p.spec.imagePullSecrets, [{ name: 'regcred' }]);
    const q = await admin.create<any>(pods('team'), { metadata: { name: 'b' }, spec: { serviceAccountName: 'quiet', containers: [{ name: 'c', image: 'x' }] } });
    assert.equal(q.spec.volumes, undefined);
    const r = await admin.create<any>(pods('team'), { metadata: { name: 'c' }, spec: { serviceAccountName: 'quiet', automountServiceAccountToken: true, containers: [{ name: 'c', image: 'x' }] } });
    assert.equal(r.spec.volumes.length, 1, 'the pod overrides its ServiceAccount');
    const d = await admin.create<any>(pods('team'), { metadata: { name: 'd' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    assert.equal(d.spec.serviceAccountName, 'default');
    await rejectsWith(
      admin.create(pods('team'), { metadata: { name: 'e' }, spec: { serviceAccountName: 'ghost', containers: [{ name: 'c', image: 'x' }] } }),
      403,
      'pods "e" is forbidden: error looking up service account team/ghost: serviceaccount "ghost" not found',
    );
  });
});

describe('certificate signing requests', () => {
  test('a user gets a client certificate the upstream way', async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=carol, O=qa', keys, signingAlgorithm: alg });
    const csrRef = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };
    // Asking for a certificate takes RBAC too (system:node-bootstrapper may create requests).
    await admin.create(rbacRef('clusterrolebindings'), { metadata: { name: 'alice-csr' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-bootstrapper' }, subjects: [{ kind: 'User', name: 'alice' }] });
    const created = await client({ token: TOKENS.alice }).create<any>(csrRef, {
      metadata: { name: 'carol' },
      spec: { request: Buffer.from(csr.toString('pem')).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], username: 'forged' },
    });
    assert.equal(created.spec.username, 'alice', 'who asked comes from the request');
    assert.deepEqual(created.spec.groups, ['devs', 'system:authenticated']);
    await rejectsWith(admin.create(csrRef, { metadata: { name: 'bad' }, spec: { request: Buffer.from('nope').toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] } }), 422, /PEM block type must be CERTIFICATE REQUEST/);
    const approved = { ...created, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'KubectlApprove', message: 'ok' }] } };
    const alice = client({ token: TOKENS.alice });
    const approve = () => alice.update({ ...csrRef, name: 'carol', subresource: 'approval' }, approved);
    const bind = (name: string, role: string) =>
      admin.create(rbacRef('clusterrolebindings'), { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects: [{ kind: 'User', name: 'alice' }] });
    await rejectsWith(approve(), 403, 'certificatesigningrequests.certificates.k8s.io "carol" is forbidden: User "alice" cannot update resource "certificatesigningrequests/approval" in API group "certificates.k8s.io" at the cluster scope');
    await admin.create(rbacRef('clusterroles'), { metadata: { name: 'csr-approval' }, rules: [{ verbs: ['update'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'] }] });
    await bind('alice-csr-approval', 'csr-approval');
    // Updating the approval is not enough: approving needs `approve` on the signer.
    await rejectsWith(approve(), 403, 'certificatesigningrequests.certificates.k8s.io "carol" is forbidden: user not permitted to approve requests with signerName "kubernetes.io/kube-apiserver-client"');
    await bind('alice-approves-clients', 'system:certificates.k8s.io:kube-apiserver-client-approver');
    await approve();
    const env = testControllerEnv(t.kubeconfig, { clusterSigningCertPem: t.pki.caCertPem, clusterSigningKeyPem: t.pki.caKeyPem });
    try {
      await env.start(csrSigningController);
      const issued = await waitFor(async () => (await admin.get<any>({ ...csrRef, name: 'carol' })).status?.certificate);
      const certPem = Buffer.from(issued, 'base64').toString();
      const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
      const carol = client({ cert: certPem, key: keyPem });
      const who = await carol.create<any>({ group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews' }, { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' });
      assert.deepEqual(who.status.userInfo, { username: 'carol', groups: ['qa', 'system:authenticated'] });
      const row = await admin.request<any>('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests/carol', undefined, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
      assert.deepEqual(row.rows[0].cells.slice(2), ['kubernetes.io/kube-apiserver-client', 'alice', '<none>', 'Approved,Issued']);
    } finally {
      await env.stop();
    }
  });

  test('a kubelet renews its client certificate: auto-approved for its own name, then signed; serving certificates wait for a person', async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const csrRef = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };
    const pem = async (name: string, extensions: any[] = []) =>
      Buffer.from((await x509.Pkcs10CertificateRequestGenerator.create({ name, keys, signingAlgorithm: alg, extensions })).toString('pem')).toString('base64');
    const n1 = client({ token: TOKENS.n1 });
    await n1.create(csrRef, { metadata: { name: 'node-n1-client' }, spec: { request: await pem('CN=system:node:n1, O=system:nodes'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] } });
    // A node asking for another node's certificate is not auto-approved (selfnodeclient needs its own name).
    await n1.create(csrRef, { metadata: { name: 'node-n2-by-n1' }, spec: { request: await pem('CN=system:node:n2, O=system:nodes'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] } });
    const san = new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'n1' }, { type: 'ip', value: '127.0.0.1' }]);
    await n1.create(csrRef, { metadata: { name: 'node-n1-serving' }, spec: { request: await pem('CN=system:node:n1, O=system:nodes', [san]), signerName: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'server auth'] } });
    const env = testControllerEnv(t.kubeconfig, { clusterSigningCertPem: t.pki.caCertPem, clusterSigningKeyPem: t.pki.caKeyPem });
    try {
      await env.start(csrApprovingController, csrSigningController);
      const issued = await waitFor(async () => (await admin.get<any>({ ...csrRef, name: 'node-n1-client' })).status?.certificate);
      const got = await admin.get<any>({ ...csrRef, name: 'node-n1-client' });
      assert.deepEqual(
        got.status.conditions.map((c: any) => [c.type, c.reason, c.message]),
        [['Approved', 'AutoApproved', 'Auto approving self kubelet client certificate after SubjectAccessReview.']],
      );
      const cert = new x509.X509Certificate(Buffer.from(issued, 'base64').toString());
      assert.equal(cert.subject, 'CN=system:node:n1, O=system:nodes');
      // Not approved automatically: the other node's name, and serving certificates.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await admin.get<any>({ ...csrRef, name: 'node-n2-by-n1' })).status?.conditions, undefined);
      const serving = await admin.get<any>({ ...csrRef, name: 'node-n1-serving' });
      assert.equal(serving.status?.conditions, undefined);
      await admin.update({ ...csrRef, name: 'node-n1-serving', subresource: 'approval' }, { ...serving, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'ByAdmin' }] } });
      const servingPem = await waitFor(async () => (await admin.get<any>({ ...csrRef, name: 'node-n1-serving' })).status?.certificate);
      const sc = new x509.X509Certificate(Buffer.from(servingPem, 'base64').toString());
      assert.deepEqual(sc.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON(), [{ type: 'dns', value: 'n1' }, { type: 'ip', value: '127.0.0.1' }]);
      assert.deepEqual([...sc.getExtension(x509.ExtendedKeyUsageExtension)!.usages], ['1.3.6.1.5.5.7.3.1']);
      // A kubelet-client request with a SAN fails the signer's checks.
      await admin.create(csrRef, { metadata: { name: 'bad-kubelet-client' }, spec: { request: await pem('CN=system:node:n1, O=system:nodes', [san]), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['client auth'] } });
      const bad = await admin.get<any>({ ...csrRef, name: 'bad-kubelet-client' });
      await admin.update({ ...csrRef, name: 'bad-kubelet-client', subresource: 'approval' }, { ...bad, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'ByAdmin' }] } });
      const failed = await waitFor(async () => (await admin.get<any>({ ...csrRef, name: 'bad-kubelet-client' })).status?.conditions?.find((c: any) => c.type === 'Failed'));
      assert.equal(failed.reason, 'SignerValidationFailure');
      assert.equal(failed.message, 'subjectAltNames are not allowed');
    } finally {
      await env.stop();
    }
  });
});
