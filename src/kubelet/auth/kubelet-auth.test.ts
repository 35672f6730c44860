// The kubelet API's callers checked through the real API server: TokenReview for bearer tokens,
// SubjectAccessReview for nodes/<sub>, with upstream's path → subresource mapping and caching.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { ApiClient } from '../../client/api-client.ts';
import { loadKubeconfig } from '../../client/kubeconfig.ts';
import { startTestApiServer, type TestApiServer } from '../../testing/api-server.ts';
import { issueClientCertificate } from '../../apiserver/pki.ts';
import { KubeletAuth, forbiddenText, kubeletRequestAttributes } from './kubelet-auth.ts';
import { startTestKubelet } from '../server/testing/test-kubelet.ts';
import https from 'node:https';

let t: TestApiServer;
let admin: ApiClient;
let node: ApiClient;

before(async () => {
  t = await startTestApiServer({ name: 'kubelet-auth' });
  admin = new ApiClient({ ...loadKubeconfig(t.kubeconfig), maxRetries: 0 });
  const cred = await issueClientCertificate({ certPem: t.pki.caCertPem, keyPem: t.pki.caKeyPem }, 'system:node:n1', ['system:nodes']);
  node = new ApiClient({ server: t.server.url, ca: t.pki.caCertPem, cert: cred.certPem, key: cred.keyPem, maxRetries: 0 });
});

after(async () => {
  admin?.close();
  node?.close();
  await t?.close();
});

const bearer = (token: string) => ({ socket: { authorized: false }, headers: { authorization: `Bearer ${token}` } }) as unknown as IncomingMessage;

test('request attributes follow upstream (nodes/proxy by default; stats, metrics, log, spec)', () => {
  assert.deepEqual(kubeletRequestAttributes('n1', 'POST', '/exec/ns/p/c'), { verb: 'create', namespace: '', group: '', version: 'v1', resource: 'nodes', subresource: 'proxy', name: 'n1', path: '/exec/ns/p/c' });
  assert.equal(kubeletRequestAttributes('n1', 'GET', '/stats/summary').subresource, 'stats');
  assert.equal(kubeletRequestAttributes('n1', 'GET', '/metrics/cadvisor').subresource, 'metrics');
  assert.equal(kubeletRequestAttributes('n1', 'GET', '/logs/').subresource, 'log');
  assert.equal(kubeletRequestAttributes('n1', 'GET', '/statsx').subresource, 'proxy');
  assert.equal(kubeletRequestAttributes('n1', 'GET', '/containerLogs/ns/p/c').subresource, 'proxy');
});

test('a ServiceAccount token is reviewed, then authorized for nodes/<sub> by RBAC; answers are cached', async () => {
  await admin.create({ version: 'v1', resource: 'serviceaccounts', namespace: 'default' }, { metadata: { name: 'monitor' } });
  const tr = await admin.request<any>('POST', '/api/v1/namespaces/default/serviceaccounts/monitor/token', { spec: {} });
  let now = 1_000_000;
  const auth = new KubeletAuth({ client: node, nodeName: 'n1', now: () => now });
  const user = await auth.authenticate(bearer(tr.status.token));
  assert.equal(user?.name, 'system:serviceaccount:default:monitor');
  assert.equal(await auth.authenticate(bearer('not-a-token')), undefined);
  const denied = await auth.authorize(user!, 'GET', '/stats/summary');
  assert.equal(denied.allowed, false);
  assert.equal(forbiddenText(user!, denied.attributes), 'Forbidden (user=system:serviceaccount:default:monitor, verb=get, resource=nodes, subresource=stats)');
  await admin.create({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' }, { metadata: { name: 'stats-reader' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['nodes/stats'] }] });
  await admin.create(
    { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings' },
    { metadata: { name: 'monitor-stats' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'stats-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'monitor', namespace: 'default' }] },
  );
  assert.equal((await auth.authorize(user!, 'GET', '/stats/summary')).allowed, false, 'a denial is remembered for 30 s');
  now += 31_000;
  assert.equal((await auth.authorize(user!, 'GET', '/stats/summary')).allowed, true);
  assert.equal((await auth.authorize(user!, 'POST', '/exec/default/p/c')).allowed, false, 'stats is not exec (nodes/proxy)');
  // The API server's kubelet client certificate (system:masters) may do anything.
  assert.equal((await auth.authorize({ name: 'kube-apiserver-kubelet-client', groups: ['system:masters', 'system:authenticated'] }, 'POST', '/exec/default/p/c')).allowed, true);
});

test('the kubelet server lets in what the API server allows: tokens through TokenReview, nodes/<sub> through SubjectAccessReview', async () => {
  const kubelet = await startTestKubelet({ nodeName: 'n1', ca: { certPem: t.pki.caCertPem, keyPem: t.pki.caKeyPem }, auth: new KubeletAuth({ client: node, nodeName: 'n1' }) });
  const get = (path: string, headers: Record<string, string> = {}, cert?: { certPem: string; keyPem: string }) =>
    new Promise<{ code: number; body: string }>((resolve, reject) => {
      const u = new URL(path, kubelet.server.url);
      https
        .get({ hostname: u.hostname, port: u.port, path: u.pathname, ca: t.pki.caCertPem, headers, cert: cert?.certPem, key: cert?.keyPem, agent: false }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
  try {
    await admin.create({ version: 'v1', resource: 'serviceaccounts', namespace: 'default' }, { metadata: { name: 'prober' } });
    const token = (await admin.request<any>('POST', '/api/v1/namespaces/default/serviceaccounts/prober/token', { spec: {} })).status.token;
    assert.equal((await get('/healthz')).code, 200);
    assert.equal((await get('/pods')).code, 401);
    assert.equal((await get('/pods', { Authorization: 'Bearer nonsense' })).code, 401);
    const denied = await get('/pods', { Authorization: `Bearer ${token}` });
    assert.equal(denied.code, 403);
    assert.match(denied.body, /Forbidden \(user=system:serviceaccount:default:prober, verb=get, resource=nodes, subresource=proxy\)/);
    await admin.create({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings' }, {
      metadata: { name: 'prober-kubelet' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'prober', namespace: 'default' }],
    });
    // A fresh KubeletAuth would see it at once; this one remembers the denial for 30 s, as upstream.
    const apiserverClient = await issueClientCertificate({ certPem: t.pki.caCertPem, keyPem: t.pki.caKeyPem }, 'kube-apiserver-kubelet-client', ['system:masters']);
    assert.equal((await get('/pods', {}, apiserverClient)).code, 200);
    const other = await issueClientCertificate({ certPem: t.pki.caCertPem, keyPem: t.pki.caKeyPem }, 'system:node:n2', ['system:nodes']);
    assert.equal((await get('/pods', {}, other)).code, 403, 'another node may not use this kubelet');
  } finally {
    await kubelet.close();
  }
});
