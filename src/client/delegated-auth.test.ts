// Delegated authentication and authorization against a real API server, with the two choices the
// kubelet and the control plane's secure ports make differently: what an unreachable API server
// means, and whether answers are remembered.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { ApiClient } from './api-client.ts';
import { loadKubeconfig } from './kubeconfig.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { DelegatedAuth } from './delegated-auth.ts';
import { startComponentServer } from '../metrics/component-server.ts';

let t: TestApiServer;
let admin: ApiClient;
let token: string;

before(async () => {
  t = await startTestApiServer({ name: 'delegated-auth' });
  admin = new ApiClient({ ...loadKubeconfig(t.kubeconfig), maxRetries: 0 });
  await admin.create({ version: 'v1', resource: 'serviceaccounts', namespace: 'default' }, { metadata: { name: 'scraper' } });
  token = (await admin.request<any>('POST', '/api/v1/namespaces/default/serviceaccounts/scraper/token', { spec: {} })).status.token;
});

after(async () => {
  admin?.close();
  await t?.close();
});

const bearer = (tok: string) => ({ socket: { authorized: false }, headers: { authorization: `Bearer ${tok}` } }) as unknown as IncomingMessage;

/** A client of an API server that is not there (a port nothing listens on). */
function unreachable(): ApiClient {
  return new ApiClient({ ...loadKubeconfig(t.kubeconfig), server: 'https://127.0.0.1:1', maxRetries: 0 });
}

test('without a cache every answer is the API server\'s current one', async () => {
  const auth = new DelegatedAuth({ client: admin, whenUnreachable: 'throw' });
  const user = await auth.authenticate(bearer(token));
  assert.equal(user?.name, 'system:serviceaccount:default:scraper');
  assert.equal((await auth.authorize(user!, { verb: 'get', path: '/metrics' })).allowed, false);
  await admin.create(
    { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings' },
    { metadata: { name: 'scraper-monitoring' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:monitoring' }, subjects: [{ kind: 'ServiceAccount', name: 'scraper', namespace: 'default' }] },
  );
  assert.equal((await auth.authorize(user!, { verb: 'get', path: '/metrics' })).allowed, true, 'the denial was not remembered');
  assert.equal((await auth.authorize(user!, { verb: 'get', group: '', resource: 'nodes', subresource: 'proxy', name: 'n1' })).allowed, false);
  await admin.delete({ version: 'v1', resource: 'serviceaccounts', namespace: 'default', name: 'scraper' });
  assert.equal(await auth.authenticate(bearer(token)), undefined, 'the deleted ServiceAccount\'s token is refused at once');
  await admin.create({ version: 'v1', resource: 'serviceaccounts', namespace: 'default' }, { metadata: { name: 'scraper' } });
  token = (await admin.request<any>('POST', '/api/v1/namespaces/default/serviceaccounts/scraper/token', { spec: {} })).status.token;
});

test('with a cache, answers are remembered for their time-to-live (denials apart from allowances)', async () => {
  let now = 1_000_000;
  const auth = new DelegatedAuth({ client: admin, whenUnreachable: 'refuse', authnCacheTTLMs: 120_000, authzAllowedTTLMs: 300_000, authzDeniedTTLMs: 30_000, now: () => now });
  const user = (await auth.authenticate(bearer(token)))!;
  const attrs = { verb: 'get', group: '', resource: 'nodes', subresource: 'stats', name: 'n1' };
  assert.equal((await auth.authorize(user, attrs)).allowed, false);
  await admin.create({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' }, { metadata: { name: 'stats-only' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['nodes/stats'] }] });
  await admin.create(
    { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings' },
    { metadata: { name: 'scraper-stats' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'stats-only' }, subjects: [{ kind: 'ServiceAccount', name: 'scraper', namespace: 'default' }] },
  );
  assert.equal((await auth.authorize(user, attrs)).allowed, false, 'the denial is remembered');
  now += 31_000;
  assert.equal((await auth.authorize(user, attrs)).allowed, true);
  await admin.delete({ version: 'v1', resource: 'serviceaccounts', namespace: 'default', name: 'scraper' });
  assert.equal((await auth.authenticate(bearer(token)))?.name, user.name, 'the token\'s answer is remembered for 2 minutes');
  now += 121_000;
  assert.equal(await auth.authenticate(bearer(token)), undefined);
});

test('an API server that cannot be asked: refused with `refuse`, thrown with `throw`', async () => {
  const c = unreachable();
  try {
    const refuse = new DelegatedAuth({ client: c, whenUnreachable: 'refuse' });
    assert.equal(await refuse.authenticate(bearer(token)), undefined);
    const d = await refuse.authorize({ name: 'u', groups: [] }, { verb: 'get', path: '/metrics' });
    assert.equal(d.allowed, false);
    assert.match(d.reason, /^authorization failed: /);
    const raise = new DelegatedAuth({ client: c, whenUnreachable: 'throw' });
    await assert.rejects(raise.authenticate(bearer(token)));
    await assert.rejects(raise.authorize({ name: 'u', groups: [] }, { verb: 'get', path: '/metrics' }));
  } finally {
    c.close();
  }
});

test('a component\'s secure port: 401 without credentials, 403 until RBAC allows, 503 when the API server cannot be asked', async () => {
  const get = (port: number, headers: Record<string, string>) =>
    new Promise<{ code: number; body: string }>((resolve, reject) => {
      https
        .get({ hostname: '127.0.0.1', port, path: '/metrics', rejectUnauthorized: false, headers, agent: false }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
  await admin.create({ version: 'v1', resource: 'serviceaccounts', namespace: 'default' }, { metadata: { name: 'viewer' } });
  const tok = (await admin.request<any>('POST', '/api/v1/namespaces/default/serviceaccounts/viewer/token', { spec: {} })).status.token;
  const server = await startComponentServer({ name: 'kube-scheduler', client: admin, port: 0, bindAddress: '127.0.0.1', log: () => {} });
  try {
    assert.equal((await get(server.port, {})).code, 401);
    const denied = await get(server.port, { Authorization: `Bearer ${tok}` });
    assert.equal(denied.code, 403);
    assert.match(denied.body, /User \\"system:serviceaccount:default:viewer\\" cannot get path \\"\/metrics\\"/);
    await admin.create(
      { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings' },
      { metadata: { name: 'viewer-monitoring' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:monitoring' }, subjects: [{ kind: 'ServiceAccount', name: 'viewer', namespace: 'default' }] },
    );
    assert.equal((await get(server.port, { Authorization: `Bearer ${tok}` })).code, 200, 'not cached: allowed at once');
  } finally {
    await server.close();
  }
  const c = unreachable();
  // The published client CA is read at start; a server that cannot reach the API server still serves.
  const lost = await startComponentServer({ name: 'kube-scheduler', client: c, port: 0, bindAddress: '127.0.0.1', log: () => {} });
  try {
    const r = await get(lost.port, { Authorization: `Bearer ${tok}` });
    assert.equal(r.code, 503);
    assert.match(r.body, /cannot check the request with the API server/);
  } finally {
    await lost.close();
    c.close();
  }
});
