import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApiServer, type TestApiServer } from '../../testing/api-server.ts';
import { ConsoleSessions } from './sessions.ts';
import { cookie, SESSION_COOKIE } from './index.ts';
import { main } from '../../cli/main.ts';
import { memoryIO } from '../../cli/io.ts';

interface Answer {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  body: string;
}

describe('web console: files and login', () => {
  let t: TestApiServer;
  let assets: string;
  const prevDir = process.env.MIZZEN_CONSOLE_DIR;

  before(async () => {
    assets = await mkdtemp(join(tmpdir(), 'mizzen-console-assets-'));
    await mkdir(join(assets, 'assets'));
    await writeFile(join(assets, 'index.html'), '<!doctype html><title>Mizzen</title><script>window.early = 1;</script><script type="module" src="/ui/assets/app-1234.js"></script>');
    await writeFile(join(assets, 'assets', 'app-1234.js'), `console.log(${JSON.stringify('x'.repeat(4000))});`);
    process.env.MIZZEN_CONSOLE_DIR = assets;
    t = await startTestApiServer({ name: 'console' });
  });
  after(async () => {
    await t?.close();
    if (prevDir === undefined) delete process.env.MIZZEN_CONSOLE_DIR;
    else process.env.MIZZEN_CONSOLE_DIR = prevDir;
    await rm(assets, { recursive: true, force: true });
  });

  /** A request as a browser makes it: no client certificate, trusting the cluster CA. */
  function browser(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
    return send(method, path, headers, body, false);
  }
  /** A request with the admin client certificate. */
  function admin(method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return send(method, path, headers, undefined, true);
  }
  function send(method: string, path: string, headers: Record<string, string>, body: string | undefined, withCert: boolean): Promise<Answer> {
    const u = new URL(path, t.server.url);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          method,
          hostname: u.hostname,
          port: u.port,
          path, // as given: URL() would resolve dot segments
          ca: t.pki.caCertPem,
          cert: withCert ? t.pki.adminCertPem : undefined,
          key: withCert ? t.pki.adminKeyPem : undefined,
          agent: false,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async function loginCode(): Promise<string> {
    const r = await admin('POST', '/ui/login-codes');
    assert.equal(r.status, 201, r.body);
    const b = JSON.parse(r.body);
    assert.equal(b.user, 'admin');
    assert.match(b.path, /^\/ui\/login\?code=/);
    return b.path;
  }

  async function session(): Promise<string> {
    const r = await browser('GET', await loginCode());
    assert.equal(r.status, 200);
    const set = String(r.headers['set-cookie']);
    const value = cookie(set.split(';')[0], SESSION_COOKIE);
    assert.ok(value);
    return value!;
  }

  const ui = { 'X-Mizzen-UI': '1' };

  test('serves the built pages without credentials, with caching and security headers', async () => {
    const idx = await browser('GET', '/ui/');
    assert.equal(idx.status, 200);
    assert.match(idx.body, /<title>Mizzen<\/title>/);
    assert.equal(idx.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(idx.headers['cache-control'], 'no-cache');
    assert.match(String(idx.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.match(String(idx.headers['content-security-policy']), /connect-src 'self'/);
    // The page's inline script is allowed by its hash, and nothing else inline.
    const hash = createHash('sha256').update('window.early = 1;').digest('base64');
    assert.match(String(idx.headers['content-security-policy']), new RegExp(`script-src 'self' 'sha256-${hash.replace(/[+/]/g, '\\$&')}';`));
    const js = await browser('GET', '/ui/assets/app-1234.js', { 'Accept-Encoding': 'gzip' });
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-encoding'], 'gzip');
    assert.match(String(js.headers['cache-control']), /immutable/);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    const again = await browser('GET', '/ui/assets/app-1234.js', { 'If-None-Match': String(js.headers.etag) });
    assert.equal(again.status, 304);
    const bare = await browser('GET', '/ui');
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.location, '/ui/');
  });

  test('paths outside the built files are 404, never the data dir', async () => {
    for (const p of ['/ui/../state.db', '/ui/assets/../../pki/ca.key', '/ui/%2e%2e/state.db', '/ui/nope.js', '/ui/assets/']) {
      const r = await browser('GET', p);
      assert.equal(r.status, 404, p);
      assert.equal(JSON.parse(r.body).kind, 'Status');
    }
    const post = await browser('POST', '/ui/');
    assert.equal(post.status, 405);
  });

  test('login codes need credentials and are made for the asking user', async () => {
    const anon = await browser('POST', '/ui/login-codes');
    assert.equal(anon.status, 401);
    const get = await admin('GET', '/ui/login-codes');
    assert.equal(get.status, 405);
    await loginCode();
  });

  test('a login link sets a Secure, HttpOnly, SameSite=Strict cookie once', async () => {
    const link = await loginCode();
    const r = await browser('GET', link);
    // The page itself with the cookie (no redirect: one round trip less), never kept or revalidated.
    assert.equal(r.status, 200);
    assert.match(r.body, /<title>Mizzen<\/title>/);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.headers.etag, undefined);
    assert.match(String(r.headers['content-security-policy']), /script-src 'self' 'sha256-/);
    const set = String(r.headers['set-cookie']);
    assert.match(set, new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43};`));
    for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']) assert.ok(set.includes(attr), `${attr} in ${set}`);
    const second = await browser('GET', link);
    assert.equal(second.status, 303);
    assert.match(decodeURIComponent(String(second.headers.location)), /^\/ui\/#\/login\?reason=This login link was already used/);
    assert.equal(second.headers['set-cookie'], undefined);
    const bogus = await browser('GET', '/ui/login?code=nonsense');
    assert.match(decodeURIComponent(String(bogus.headers.location)), /is not valid/);
  });

  test('the session cookie authenticates the console pages\' own requests', async () => {
    const s = await session();
    const ok = await browser('GET', '/api/v1/namespaces', { Cookie: `${SESSION_COOKIE}=${s}`, ...ui, 'Sec-Fetch-Site': 'same-origin' });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(JSON.parse(ok.body).kind, 'NamespaceList');
    // Same-origin fetches with Origin (a POST) are accepted when the origin is this server.
    const origin = new URL(t.server.url).origin;
    const made = await browser('POST', '/api/v1/namespaces/default/configmaps', { Cookie: `${SESSION_COOKIE}=${s}`, ...ui, Origin: origin, 'Content-Type': 'application/json' }, JSON.stringify({ metadata: { name: 'from-console' } }));
    assert.equal(made.status, 201, made.body);
    // Without a session the console's own fetches are told to log in; anything else is upstream's anonymous.
    const none = await browser('GET', '/api/v1/namespaces', ui);
    assert.equal(none.status, 401);
    const anonymous = await browser('GET', '/api/v1/namespaces');
    assert.equal(anonymous.status, 403);
  });

  test('a cross-site request carrying the cookie is refused', async () => {
    const s = await session();
    const c = { Cookie: `${SESSION_COOKIE}=${s}` };
    // What a form post or <img> from another site sends: the cookie, without the console's header.
    const plain = await browser('POST', '/api/v1/namespaces/default/configmaps', { ...c, 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' }, 'a=b');
    assert.equal(plain.status, 403);
    assert.match(JSON.parse(plain.body).message, /X-Mizzen-UI/);
    const noHeader = await browser('GET', '/api/v1/secrets', c);
    assert.equal(noHeader.status, 403);
    // Even with the header (it cannot get past a CORS preflight, but should it): wrong origin.
    const evil = await browser('GET', '/api/v1/secrets', { ...c, ...ui, Origin: 'https://evil.example' });
    assert.equal(evil.status, 403);
    assert.match(JSON.parse(evil.body).message, /origin https:\/\/evil\.example is not this server/);
    const sameSite = await browser('GET', '/api/v1/secrets', { ...c, ...ui, 'Sec-Fetch-Site': 'same-site' });
    assert.equal(sameSite.status, 403);
    // No preflight is ever granted.
    const pre = await browser('OPTIONS', '/api/v1/secrets', { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-mizzen-ui' });
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
    assert.equal(pre.headers['access-control-allow-headers'], undefined);
  });

  test('an unknown session is a 401 with a reason; logout ends a session', async () => {
    const unknown = await browser('GET', '/api/v1/namespaces', { Cookie: `${SESSION_COOKIE}=forged`, ...ui });
    assert.equal(unknown.status, 401);
    assert.match(JSON.parse(unknown.body).message, /session is not known/);
    const s = await session();
    const c = { Cookie: `${SESSION_COOKIE}=${s}`, ...ui };
    const crossLogout = await browser('POST', '/ui/logout', { Cookie: `${SESSION_COOKIE}=${s}` });
    assert.equal(crossLogout.status, 403);
    const out = await browser('POST', '/ui/logout', c);
    assert.equal(out.status, 204);
    assert.match(String(out.headers['set-cookie']), /Max-Age=0/);
    const after = await browser('GET', '/api/v1/namespaces', c);
    assert.equal(after.status, 401);
  });

  test('a session cannot mint login links for itself', async () => {
    const s = await session();
    const r = await browser('POST', '/ui/login-codes', { Cookie: `${SESSION_COOKIE}=${s}`, ...ui });
    assert.equal(r.status, 401);
  });

  test('mizzen ui-url prints a working one-time link', async () => {
    const io = memoryIO();
    const code = await main(['ui-url', '--kubeconfig', t.kubeconfig], io);
    assert.equal(code, 0, io.stderr.join('\n'));
    const url = new URL(io.stdout.join('').trim());
    assert.equal(url.origin, new URL(t.server.url).origin);
    assert.equal(url.pathname, '/ui/login');
    const r = await browser('GET', url.pathname + url.search);
    assert.equal(r.status, 200);
    assert.ok(r.headers['set-cookie']);
    const bad = memoryIO();
    assert.equal(await main(['ui-url', '--kubeconfig', join(t.dir, 'missing')], bad), 1);
    assert.match(bad.stderr.join(''), /cannot read kubeconfig/);
  });
});

test('web console: not built answers a page that says how to build it', async () => {
  const prev = process.env.MIZZEN_CONSOLE_DIR;
  process.env.MIZZEN_CONSOLE_DIR = join(tmpdir(), 'mizzen-console-nowhere');
  const t = await startTestApiServer({ name: 'console-unbuilt' });
  try {
    const r = await new Promise<Answer>((resolve, reject) => {
      https
        .get(new URL('/ui/', t.server.url), { ca: t.pki.caCertPem }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        })
        .on('error', reject);
    });
    assert.equal(r.status, 503);
    assert.match(r.body, /npm run build:console/);
  } finally {
    await t.close();
    if (prev === undefined) delete process.env.MIZZEN_CONSOLE_DIR;
    else process.env.MIZZEN_CONSOLE_DIR = prev;
  }
});

test('console sessions: codes expire and are single-use, sessions expire and survive a restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mizzen-console-sessions-'));
  try {
    let now = 1_000_000;
    const file = join(dir, 'ui-sessions.json');
    const s = new ConsoleSessions({ file, now: () => now, codeTtlMs: 1000, sessionTtlMs: 10_000 });
    const user = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
    const late = s.newCode(user);
    now += 1001;
    assert.equal(s.redeem(late.code), 'expired');
    assert.equal(s.redeem(late.code), 'used');
    assert.equal(s.redeem('never-made'), 'unknown');
    const { code } = s.newCode(user);
    const r = s.redeem(code);
    assert.ok(typeof r === 'object');
    assert.deepEqual(s.user(r.session), user);
    // Only digests are written.
    const { readFileSync } = await import('node:fs');
    assert.ok(!readFileSync(file, 'utf8').includes(r.session));
    const reopened = new ConsoleSessions({ file, now: () => now, sessionTtlMs: 10_000 });
    assert.deepEqual(reopened.user(r.session), user);
    now += 10_001;
    assert.equal(reopened.user(r.session), 'expired');
    s.end(r.session);
    assert.equal(s.user(r.session), 'unknown');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
