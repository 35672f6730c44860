// Hardening end to end against a real API server driven by kubectl: the audit log (policy levels,
// stages, one event per request and stage, upstream's Event format), Secrets encrypted at rest
// (the raw SQLite row is ciphertext, kubectl reads it back; key rotation by restarting with a new
// first key and `kubectl get secrets -A -o json | kubectl replace -f -`), and max in-flight writes
// answered with 429 and Retry-After.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startTestApiServer, type TestApiServer } from '../src/testing/api-server.ts';
import { startApiServer } from '../src/apiserver/server.ts';
import { writeKubeconfig } from '../src/apiserver/kubeconfig.ts';
import { hasKubectl, KUBECTL, run, type CommandResult } from './harness.ts';
import { eventually } from './poll.ts';

function kubectl(kubeconfig: string, args: string[], input?: string): Promise<CommandResult> {
  return run(KUBECTL, args, { input, env: { ...process.env, KUBECONFIG: kubeconfig } });
}

const key1 = randomBytes(32).toString('base64');
const key2 = randomBytes(32).toString('base64');
type Keys = { name: string; secret: string }[];
const provider = (kind: string, keys: Keys) => `      - ${kind}:
          keys:
${keys.map((k) => `            - name: ${k.name}\n              secret: ${k.secret}`).join('\n')}
`;
const encryptionConfig = (keys: Keys, kind = 'aescbc', more = '') => `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
${provider(kind, keys)}${more}      - identity: {}
`;

const policy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: RequestResponse
    resources: [{ group: "", resources: ["configmaps"] }]
  - level: Metadata
    resources: [{ group: "", resources: ["secrets"] }]
  - level: None
`;

describe('hardening', { skip: hasKubectl ? false : 'kubectl is not installed' }, () => {
  let t: TestApiServer;
  let auditLog = '';
  let encFile = '';
  const k = (args: string[], input?: string) => kubectl(t.kubeconfig, args, input);
  const auth = () => ({
    disableAdmissionPlugins: ['ServiceAccount'],
    auditPolicyFile: join(t?.dir ?? '', 'audit-policy.yaml'),
    auditLogPath: auditLog,
    encryptionProviderConfig: encFile,
    maxMutatingRequestsInflight: 1,
  });

  before(async () => {
    t = await startTestApiServer({
      name: 'hardening',
      beforeStart: ({ dir }) => {
        auditLog = join(dir, 'audit.log');
        encFile = join(dir, 'encryption.yaml');
        writeFileSync(join(dir, 'audit-policy.yaml'), policy);
        writeFileSync(encFile, encryptionConfig([{ name: 'key1', secret: key1 }]));
      },
    });
    // The hardened server: the same data dir with the audit, encryption and in-flight flags.
    await restart();
  });
  after(async () => {
    await t?.close();
  });

  /** Restart the server on the same data dir with the current files. */
  async function restart(stop = true): Promise<void> {
    if (stop) await t.server.close();
    const server = await startApiServer({
      dataDir: t.dir,
      port: 0,
      bindAddress: '127.0.0.1',
      tls: { cert: t.pki.serverCertPem, key: t.pki.serverKeyPem, clientCA: t.pki.caCertPem },
      unixSocket: t.socketPath,
      auth: auth(),
    });
    await writeKubeconfig(t.kubeconfig, { server: server.url, caPem: t.pki.caCertPem, clientCertPem: t.pki.adminCertPem, clientKeyPem: t.pki.adminKeyPem });
    (t as { server: typeof server }).server = server;
  }

  /** The stored row, read while the server is stopped (it holds the database exclusively). */
  const rawSecret = async (ns: string, name: string): Promise<string> => {
    await t.server.close();
    try {
      return readRow(ns, name);
    } finally {
      await restart(false);
    }
  };
  const readRow = (ns: string, name: string): string => {
    const db = new Database(join(t.dir, 'state.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT value FROM kine WHERE name = ? ORDER BY id DESC LIMIT 1').get(`/registry/secrets/${ns}/${name}`) as { value: string } | undefined;
      return row?.value ?? '';
    } finally {
      db.close();
    }
  };

  test('secrets are encrypted at rest, read back, and move to a new key on replace', async () => {
    await k(['create', 'secret', 'generic', 's1', '--from-literal=password=hunter2-very-secret']);
    const raw = await rawSecret('default', 's1');
    assert.match(raw, /^k8s:enc:aescbc:v1:key1:/);
    assert.ok(!raw.includes(Buffer.from('hunter2-very-secret').toString('base64')) && !raw.includes('hunter2'), 'plain text in storage');
    const got = await k(['get', 'secret', 's1', '-o', 'jsonpath={.data.password}']);
    assert.equal(Buffer.from(got.stdout, 'base64').toString(), 'hunter2-very-secret');
    // ConfigMaps are not configured: stored as they are.
    await k(['create', 'configmap', 'plain', '--from-literal=a=b']);

    // Rotation: key2 first (writes), key1 still reads.
    writeFileSync(encFile, encryptionConfig([{ name: 'key2', secret: key2 }, { name: 'key1', secret: key1 }]));
    await restart();
    assert.equal(Buffer.from((await k(['get', 'secret', 's1', '-o', 'jsonpath={.data.password}'])).stdout, 'base64').toString(), 'hunter2-very-secret');
    assert.match(await rawSecret('default', 's1'), /^k8s:enc:aescbc:v1:key1:/);
    const all = await k(['get', 'secrets', '-A', '-o', 'json']);
    const replaced = await k(['replace', '-f', '-'], all.stdout);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.match(await rawSecret('default', 's1'), /^k8s:enc:aescbc:v1:key2:/);
    // key1 can go now.
    writeFileSync(encFile, encryptionConfig([{ name: 'key2', secret: key2 }]));
    await restart();
    assert.equal(Buffer.from((await k(['get', 'secret', 's1', '-o', 'jsonpath={.data.password}'])).stdout, 'base64').toString(), 'hunter2-very-secret');
    // secretbox works the same way.
    writeFileSync(encFile, encryptionConfig([{ name: 'box', secret: key1 }], 'secretbox', provider('aescbc', [{ name: 'key2', secret: key2 }])));
    await restart();
    await k(['create', 'secret', 'generic', 's2', '--from-literal=x=y']);
    assert.match(await rawSecret('default', 's2'), /^k8s:enc:secretbox:v1:box:/);
    assert.equal((await k(['get', 'secret', 's2', '-o', 'jsonpath={.data.x}'])).stdout, Buffer.from('y').toString('base64'));
  });

  test('a Secret no configured key decrypts fails only its own reads; the server starts and the rest works', async () => {
    const saved = readFileSync(encFile, 'utf8');
    await k(['create', 'namespace', 'lost-key']);
    await k(['-n', 'lost-key', 'create', 'secret', 'generic', 'sealed', '--from-literal=a=b']);
    await k(['create', 'secret', 'generic', 'kept', '--from-literal=c=d']);
    const kept = await rawSecret('default', 'kept');
    // Only a new key now: every Secret written before is unreadable.
    writeFileSync(encFile, encryptionConfig([{ name: 'fresh', secret: randomBytes(32).toString('base64') }]));
    try {
      await restart();
      const got = await k(['-n', 'lost-key', 'get', 'secret', 'sealed']);
      assert.notEqual(got.code, 0);
      assert.match(got.stderr, /Internal error occurred: unable to transform key "\/registry\/secrets\/lost-key\/sealed": no matching prefix found/);
      const list = await k(['-n', 'lost-key', 'get', 'secrets']);
      assert.match(list.stderr, /Internal error occurred: unable to transform key "\/registry\/secrets\/lost-key\/sealed"/);
      // Everything else is served: other kinds, and new Secrets in a namespace without lost ones.
      assert.equal((await k(['get', 'configmap', 'plain', '-o', 'name'])).stdout.trim(), 'configmap/plain');
      await k(['create', 'namespace', 'fresh-key']);
      assert.equal((await k(['-n', 'fresh-key', 'create', 'secret', 'generic', 'new', '--from-literal=e=f'])).code, 0);
      assert.equal((await k(['-n', 'fresh-key', 'get', 'secret', 'new', '-o', 'jsonpath={.data.e}'])).stdout, Buffer.from('f').toString('base64'));
      assert.equal((await k(['-n', 'fresh-key', 'get', 'secrets', '-o', 'name'])).stdout.trim(), 'secret/new');
    } finally {
      writeFileSync(encFile, saved);
      await restart();
    }
    // With the key back, the old Secrets read again, unchanged.
    assert.equal((await k(['-n', 'lost-key', 'get', 'secret', 'sealed', '-o', 'jsonpath={.data.a}'])).stdout, Buffer.from('b').toString('base64'));
    assert.equal(await rawSecret('default', 'kept'), kept);
  });

  test('an undecryptable Secret can be removed with ignoreStoreReadErrorWithClusterBreakingPotential, by whoever may unsafe-delete', async () => {
    const saved = readFileSync(encFile, 'utf8');
    await k(['create', 'namespace', 'corrupt']);
    await k(['-n', 'corrupt', 'create', 'secret', 'generic', 'broken', '--from-literal=a=b']);
    writeFileSync(encFile, encryptionConfig([{ name: 'other', secret: randomBytes(32).toString('base64') }]));
    const url = '/api/v1/namespaces/corrupt/secrets';
    const unsafe = '?ignoreStoreReadErrorWithClusterBreakingPotential=true';
    try {
      await restart();
      await k(['-n', 'corrupt', 'create', 'secret', 'generic', 'fine', '--from-literal=c=d']);
      // The normal delete cannot read it: 500 naming the key, as reads.
      const plain = await k(['-n', 'corrupt', 'delete', 'secret', 'broken']);
      assert.notEqual(plain.code, 0);
      assert.match(plain.stderr, /Internal error occurred: unable to transform key "\/registry\/secrets\/corrupt\/broken"/);
      // The option takes no other delete option, and no collection.
      const dry = await k(['delete', '--raw', `${url}/broken${unsafe}&dryRun=All`]);
      assert.match(dry.stderr, /DeleteOptions "" is invalid: ignoreStoreReadErrorWithClusterBreakingPotential: Invalid value: true: cannot be set together with .dryRun/);
      const all = await k(['delete', '--raw', `${url}${unsafe}`]);
      assert.match(all.stderr, /ignoreStoreReadErrorWithClusterBreakingPotential: Invalid value: true: is not allowed with DELETECOLLECTION, try again after removing the option/);
      // A readable object is not deleted this way.
      const readable = await k(['delete', '--raw', `${url}/fine${unsafe}`]);
      assert.match(readable.stderr, /secrets "fine" is invalid: ignoreStoreReadErrorWithClusterBreakingPotential: Invalid value: true: is exclusively used to delete corrupt object\(s\), try again by removing this option/);
      // Deleting Secrets is not enough: the unsafe delete has its own verb.
      await k(['create', 'role', 'secret-deleter', '-n', 'corrupt', '--verb=delete', '--resource=secrets']);
      await k(['create', 'rolebinding', 'carol-delete', '-n', 'corrupt', '--role=secret-deleter', '--user=carol']);
      // Bindings reach the authorizer through its watch: wait until carol may delete.
      const carol = await eventually(async () => {
        const r = await k(['--as=carol', 'delete', '--raw', `${url}/broken${unsafe}`]);
        return /cannot delete resource/.test(r.stderr) ? undefined : r;
      }, { what: 'carol may delete secrets' });
      assert.match(carol.stderr, /secrets "broken" is forbidden: not permitted to do "unsafe-delete-ignore-read-errors"/);
      await k(['create', 'role', 'unsafe-deleter', '-n', 'corrupt', '--verb=unsafe-delete-ignore-read-errors', '--resource=secrets']);
      await k(['create', 'rolebinding', 'carol-unsafe', '-n', 'corrupt', '--role=unsafe-deleter', '--user=carol']);
      const ok = await eventually(async () => {
        const r = await k(['--as=carol', 'delete', '--raw', `${url}/broken${unsafe}`]);
        return /not permitted/.test(r.stderr) ? undefined : r;
      }, { what: 'carol may unsafe-delete' });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(JSON.parse(ok.stdout).status, 'Success');
      const gone = await k(['-n', 'corrupt', 'get', 'secret', 'broken']);
      assert.match(gone.stderr, /NotFound/);
      assert.equal((await k(['-n', 'corrupt', 'get', 'secrets', '-o', 'name'])).stdout.trim(), 'secret/fine', 'the namespace lists again');
      const audited = readFileSync(auditLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
        .filter((e) => e.verb === 'delete' && e.objectRef?.name === 'broken' && e.responseStatus?.code === 200);
      assert.equal(audited.length, 1);
      assert.equal(audited[0].annotations['apiserver.k8s.io/unsafe-delete-ignore-read-error'], '');
    } finally {
      writeFileSync(encFile, saved);
      await restart();
    }
  });

  test('the audit log records each request once, at the policy level, in upstream Event format', async () => {
    const before = readFileSync(auditLog, 'utf8').split('\n').filter(Boolean).length;
    await k(['create', 'configmap', 'audited', '--from-literal=k=v']);
    await k(['create', 'secret', 'generic', 'audited-secret', '--from-literal=p=q']);
    await k(['get', 'namespaces']);
    const events = await eventually(
      () => {
        const lines = readFileSync(auditLog, 'utf8').split('\n').filter(Boolean).slice(before).map((l) => JSON.parse(l));
        return lines.some((e) => e.objectRef?.resource === 'secrets' && e.verb === 'create') ? lines : undefined;
      },
      { what: 'audit events written' },
    );
    const cm = events.filter((e) => e.objectRef?.resource === 'configmaps' && e.verb === 'create');
    assert.equal(cm.length, 1, JSON.stringify(cm));
    const e = cm[0];
    assert.equal(e.kind, 'Event');
    assert.equal(e.apiVersion, 'audit.k8s.io/v1');
    assert.equal(e.level, 'RequestResponse');
    assert.equal(e.stage, 'ResponseComplete');
    assert.equal(e.user.username, 'admin');
    assert.equal(e.responseStatus.code, 201);
    assert.equal(e.objectRef.namespace, 'default');
    assert.equal(e.requestObject.data.k, 'v');
    assert.equal(e.responseObject.metadata.name, 'audited');
    assert.equal(e.annotations['authorization.k8s.io/decision'], 'allow');
    assert.match(e.requestReceivedTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const s = events.filter((x) => x.objectRef?.resource === 'secrets' && x.verb === 'create');
    assert.equal(s.length, 1);
    assert.equal(s[0].level, 'Metadata');
    assert.equal(s[0].requestObject, undefined);
    assert.equal(s[0].responseObject, undefined);
    // Level None: namespaces are not logged at all; every auditID is unique (one event per request).
    assert.ok(!events.some((x) => x.objectRef?.resource === 'namespaces'));
    const ids = events.map((x) => x.auditID);
    assert.equal(new Set(ids).size, ids.length);
  });

  test('a request refused for its credentials (401) is audited once, with no user and what it tried', async () => {
    const before = readFileSync(auditLog, 'utf8').split('\n').filter(Boolean).length;
    const url = new URL(t.server.url);
    const get = (headers: Record<string, string>) =>
      new Promise<{ code: number; auditId?: string }>((resolve, reject) => {
        const req = https.request({ host: url.hostname, port: url.port, path: '/api/v1/namespaces/default/configmaps?limit=1', headers, ca: t.pki.caCertPem }, (res) => {
          res.resume();
          res.on('end', () => resolve({ code: res.statusCode ?? 0, auditId: res.headers['audit-id'] as string | undefined }));
        });
        req.on('error', reject);
        req.end();
      });
    const r = await get({ Authorization: 'Bearer not-a-known-token', 'User-Agent': 'sec-left-test' });
    assert.equal(r.code, 401);
    assert.ok(r.auditId, 'a 401 names its audit event');
    const events = await eventually(
      () => {
        const lines = readFileSync(auditLog, 'utf8').split('\n').filter(Boolean).slice(before).map((l) => JSON.parse(l));
        const mine = lines.filter((e) => e.auditID === r.auditId);
        return mine.length ? mine : undefined;
      },
      { what: 'the 401 audited' },
    );
    assert.equal(events.length, 1, JSON.stringify(events));
    const e = events[0];
    assert.equal(e.stage, 'ResponseStarted');
    assert.equal(e.level, 'RequestResponse');
    assert.deepEqual(e.user, {});
    assert.equal(e.verb, 'list');
    assert.equal(e.userAgent, 'sec-left-test');
    assert.deepEqual(e.objectRef, { resource: 'configmaps', namespace: 'default', apiVersion: 'v1' });
    assert.deepEqual(e.responseStatus, { metadata: {}, message: 'Authentication failed, attempted: bearer', code: 401 });
  });

  test('a 401 on the private socket (a bad bearer token) is audited too', async () => {
    const before = readFileSync(auditLog, 'utf8').split('\n').filter(Boolean).length;
    const r = await new Promise<{ code: number; auditId?: string }>((resolve, reject) => {
      const req = http.request({ socketPath: t.socketPath, path: '/api/v1/namespaces/default/configmaps', headers: { Authorization: 'Bearer not-a-known-token', 'User-Agent': 'socket-401-test' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ code: res.statusCode ?? 0, auditId: res.headers['audit-id'] as string | undefined }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(r.code, 401);
    assert.ok(r.auditId, 'a 401 names its audit event');
    const events = await eventually(
      () => {
        const mine = readFileSync(auditLog, 'utf8').split('\n').filter(Boolean).slice(before).map((l) => JSON.parse(l)).filter((e) => e.auditID === r.auditId);
        return mine.length ? mine : undefined;
      },
      { what: 'the socket 401 audited' },
    );
    assert.equal(events.length, 1, JSON.stringify(events));
    assert.deepEqual(events[0].user, {});
    assert.equal(events[0].userAgent, 'socket-401-test');
    assert.deepEqual(events[0].responseStatus, { metadata: {}, message: 'Authentication failed, attempted: bearer', code: 401 });
  });

  test('writes past --max-mutating-requests-inflight get 429 with Retry-After', async () => {
    // system:masters is exempt (as upstream); bob is an ordinary cluster-admin.
    await k(['create', 'clusterrolebinding', 'bob-admin', '--clusterrole=cluster-admin', '--user=bob']);
    const url = new URL(t.server.url);
    const post = (i: number) =>
      new Promise<{ code: number; retryAfter?: string; body: string }>((resolve, reject) => {
        const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `burst-${i}` } });
        const req = https.request(
          {
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path: '/api/v1/namespaces/default/configmaps',
            ca: t.pki.caCertPem,
            cert: t.pki.adminCertPem,
            key: t.pki.adminKeyPem,
            headers: { 'Content-Type': 'application/json', 'Impersonate-User': 'bob' },
            agent: false,
          },
          (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ code: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body: text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => post(i)));
    const limited = results.filter((r) => r.code === 429);
    assert.ok(limited.length > 0, `no 429 among ${results.map((r) => r.code).join(',')}`);
    assert.ok(results.some((r) => r.code === 201));
    assert.ok(results.every((r) => r.code === 201 || r.code === 429));
    assert.equal(limited[0].retryAfter, '1');
    const st = JSON.parse(limited[0].body);
    assert.equal(st.reason, 'TooManyRequests');
    assert.equal(st.message, 'Too many requests, please try again later.');
    // The admin (system:masters) is never limited.
    const admin = await Promise.all(Array.from({ length: 10 }, (_, i) => k(['create', 'configmap', `admin-${i}`])));
    assert.ok(admin.every((r) => r.code === 0));
  });
});
