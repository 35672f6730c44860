// The join protocol against a real API server: the joiner checks the server's CA against the
// token, the server checks the token's secret, and the credentials it hands out work.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type RunningApiServer } from '../apiserver/server.ts';
import { ensurePki, type Pki } from '../apiserver/pki.ts';
import { ApiClient, ApiError } from '../client/api-client.ts';
import { bootstrapRoutes } from './bootstrap-routes.ts';
import { fetchCA, fetchNodeCredentials, fetchServerBootstrap, JoinError } from './bootstrap-client.ts';
import { caHash, ensureToken, formatToken, parseToken, TokenError, type JoinToken } from './token.ts';
import { prepareJoin } from './join-server.ts';

describe('joining a cluster', () => {
  let dir: string;
  let pki: Pki;
  let token: JoinToken;
  let server: RunningApiServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mizzen-join-'));
    pki = await ensurePki(dir);
    token = await ensureToken(dir, pki.caCertPem);
    server = await startApiServer({
      dataDir: dir,
      port: 0,
      bindAddress: '127.0.0.1',
      tls: { cert: pki.serverCertPem, key: pki.serverKeyPem, clientCA: pki.caCertPem },
      extraRoutes: bootstrapRoutes({ ca: { certPem: pki.caCertPem, keyPem: pki.caKeyPem }, token, datastore: { endpoints: ['https://10.0.0.9:2379'] }, serviceCIDR: '10.96.0.0/16', pkiDir: pki.dir }),
    });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('tokens pin the CA and are kept in DATA_DIR/token', async () => {
    assert.equal(token.caHash, caHash(pki.caCertPem));
    const text = (await readFile(join(dir, 'token'), 'utf8')).trim();
    assert.match(text, /^MZ10[0-9a-f]{64}::server:[0-9a-f]{48}$/);
    assert.deepEqual(parseToken(text), token);
    assert.deepEqual(await ensureToken(dir, pki.caCertPem), token, 'the same token on the next start');
    assert.throws(() => parseToken('just-a-secret-value'), TokenError);
  });

  it('an agent gets node credentials that the API server accepts', async () => {
    const creds = await fetchNodeCredentials(server.url, token, 'worker-1');
    assert.equal(creds.ca, pki.caCertPem);
    const c = new ApiClient({ server: server.url, ca: creds.ca, cert: creds.cert, key: creds.key, maxRetries: 0 });
    try {
      const node = await c.create<any>({ version: 'v1', resource: 'nodes' }, { metadata: { name: 'worker-1' } });
      assert.equal(node.metadata.name, 'worker-1');
    } finally {
      c.close();
    }
    await assert.rejects(fetchNodeCredentials(server.url, token, 'Bad_Name'), /invalid nodeName/);
  });

  it('a wrong secret is refused, and a server with another CA is not trusted', async () => {
    await assert.rejects(fetchNodeCredentials(server.url, { ...token, secret: 'x'.repeat(48) }, 'worker-2'), (e: unknown) => e instanceof JoinError && /refused the token/.test(e.message));
    await assert.rejects(fetchServerBootstrap(server.url, { ...token, secret: 'y'.repeat(48) }), (e: unknown) => e instanceof JoinError && /refused the token/.test(e.message));
    await assert.rejects(fetchCA(server.url, { ...token, caHash: 'f'.repeat(64) }), (e: unknown) => e instanceof JoinError && /does not match the token/.test(e.message));
  });

  it('a new member takes the CA and the datastore; its own certificates are the cluster\'s', async () => {
    const joiner = await mkdtemp(join(tmpdir(), 'mizzen-joiner-'));
    try {
      const logs: string[] = [];
      const r = await prepareJoin(joiner, server.url, parseToken(formatToken(token)), undefined, (m) => logs.push(m));
      assert.deepEqual(r.datastore.endpoints, ['https://10.0.0.9:2379']);
      assert.equal(r.serviceCIDR, '10.96.0.0/16');
      const mine = await ensurePki(joiner, ['10.0.0.2']);
      assert.equal(mine.caCertPem, pki.caCertPem);
      assert.deepEqual(mine.issued.sort(), ['admin', 'kubelet-client', 'server']);
      assert.deepEqual(await ensureToken(joiner, mine.caCertPem), token);
      // The aggregator's front-proxy CA is the cluster's too (aggregated servers trust one).
      assert.equal(await readFile(join(joiner, 'pki', 'front-proxy-ca.crt'), 'utf8'), await readFile(join(pki.dir, 'front-proxy-ca.crt'), 'utf8'));
      // Its admin certificate works on the first member.
      const c = new ApiClient({ server: server.url, ca: mine.caCertPem, cert: mine.adminCertPem, key: mine.adminKeyPem, maxRetries: 0 });
      try {
        await c.list({ version: 'v1', resource: 'namespaces' });
      } finally {
        c.close();
      }
      // A data dir of another cluster is refused.
      const other = await mkdtemp(join(tmpdir(), 'mizzen-other-'));
      await ensurePki(other);
      await assert.rejects(prepareJoin(other, server.url, token, undefined, () => {}), /another cluster's CA/);
      await rm(other, { recursive: true, force: true });
    } finally {
      await rm(joiner, { recursive: true, force: true });
    }
  });

  it('the node credentials route needs POST and the token', async () => {
    const c = new ApiClient({ server: server.url, ca: pki.caCertPem, maxRetries: 0 });
    try {
      await assert.rejects(c.request('GET', '/v1-mizzen/node-credentials'), (e: unknown) => e instanceof ApiError && e.code === 405);
      await assert.rejects(c.request('POST', '/v1-mizzen/node-credentials', { nodeName: 'x' }), (e: unknown) => e instanceof ApiError && e.code === 401);
    } finally {
      c.close();
    }
  });
});
