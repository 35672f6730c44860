// The shared webhook POST against a real HTTPS server on 127.0.0.1 with its own CA: a url target,
// a Service reference resolved to a loopback endpoint and verified as <name>.<namespace>.svc, the
// `?timeout=` parameter, the answer-size cap, non-2xx answers, the deadline and Go-worded errors.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { issueCA, issueServingCertificate } from './pki.ts';
import { postWebhook, resolveWebhook, WebhookPostError, type ServiceLookup, type WebhookTarget } from './webhook-post.ts';

let server: https.Server;
let port = 0;
let caBundle = '';
const seen: string[] = [];

before(async () => {
  const ca = await issueCA('webhook-post-test-ca');
  const serving = await issueServingCertificate(ca, ['127.0.0.1', 'hook.team.svc']);
  caBundle = Buffer.from(ca.certPem).toString('base64');
  server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    seen.push(req.url ?? '');
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url?.startsWith('/big')) return res.end('x'.repeat(2048));
      if (req.url?.startsWith('/fail')) return res.writeHead(500).end('nope');
      if (req.url?.startsWith('/slow')) return setTimeout(() => res.end('{}'), 3000).unref();
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ echo: JSON.parse(body) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const opts = (more: Partial<Parameters<typeof postWebhook>[2]> = {}) => ({
  caBundle,
  timeoutMs: 2000,
  maxBytes: 1024,
  tooLargeText: 'too large here',
  statusText: (code: number, text: string) => `status ${code}: ${text}`,
  ...more,
});
const services = (ip: string): ServiceLookup => ({
  service: (ns, name) => (ns === 'team' && name === 'hook' ? { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ name: 'https', port: 443 }] } } : undefined),
  endpoints: (ns, name) => (ns === 'team' && name === 'hook' ? { apiVersion: 'v1', kind: 'Endpoints', metadata: { name }, subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port }] }] } : undefined),
});
const target = (t: ReturnType<typeof resolveWebhook>): WebhookTarget => {
  assert.ok(!('reason' in t), JSON.stringify(t));
  return t as WebhookTarget;
};

test('posts to a url with ?timeout= and reads the answer', async () => {
  const text = await postWebhook(target(resolveWebhook({ url: `https://127.0.0.1:${port}/hook?x=1` }, services('127.0.0.1'))), '{"a":1}', opts());
  assert.deepEqual(JSON.parse(text), { echo: { a: 1 } });
  assert.equal(seen.at(-1), '/hook?x=1&timeout=2s');
});

test('a Service reference is dialled at its loopback endpoint and verified by its service name', async () => {
  const t = target(resolveWebhook({ service: { namespace: 'team', name: 'hook', path: '/svc' } }, services('127.0.0.1')));
  assert.equal(t.servername, 'hook.team.svc');
  assert.equal(JSON.parse(await postWebhook(t, '{"b":2}', opts())).echo.b, 2);
  assert.deepEqual(resolveWebhook({ service: { namespace: 'team', name: 'hook' } }, services('10.96.0.10')), { reason: 'no-local-endpoint', namespace: 'team', name: 'hook' });
  assert.deepEqual(resolveWebhook({ service: { namespace: 'team', name: 'nohook' } }, services('127.0.0.1')), { reason: 'no-service', namespace: 'team', name: 'nohook' });
  assert.deepEqual(resolveWebhook({ service: { namespace: 'team', name: 'hook', port: 8443 } }, services('127.0.0.1')), { reason: 'no-port', namespace: 'team', name: 'hook', port: 8443 });
  assert.deepEqual(resolveWebhook({}, services('127.0.0.1')), { reason: 'no-target' });
});

test('failures: size cap, non-2xx, deadline, unknown CA, refused connection', async () => {
  const url = (p: string) => ({ url: new URL(`https://127.0.0.1:${port}${p}`) });
  const fails = async (p: Promise<string>) => {
    try {
      await p;
    } catch (e) {
      assert.ok(e instanceof WebhookPostError);
      return e;
    }
    assert.fail(`expected a failure: ${new Error().stack?.split("\n")[2]}`);
  };
  assert.match((await fails(postWebhook(url('/big'), '{}', opts()))).message, /^Post "https:\/\/127\.0\.0\.1:\d+\/big\?timeout=2s": too large here$/);
  const bad = await fails(postWebhook(url('/fail'), '{}', opts()));
  assert.equal(bad.status, 500);
  assert.equal(bad.why, 'status 500: nope');
  assert.match((await fails(postWebhook(url('/slow'), '{}', opts({ timeoutMs: 300 })))).why, /context deadline exceeded/);
  assert.equal((await fails(postWebhook(url('/hook'), '{}', opts({ caBundle: undefined })))).why, 'tls: failed to verify certificate: x509: certificate signed by unknown authority');
  const closed = https.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const dead = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  assert.equal((await fails(postWebhook({ url: new URL(`https://127.0.0.1:${dead}/`) }, '{}', opts()))).why, `dial tcp 127.0.0.1:${dead}: connect: connection refused`);
});
