// ServiceAccount tokens as upstream checks them: signature, issuer, audience, expiry, and the
// objects a token names (a deleted or re-created ServiceAccount, pod or secret ends it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import type { KObject } from '../../api/types.ts';
import { signingKeyFromPem } from './service-account-keys.ts';
import { ServiceAccountAuthenticator, ServiceAccountTokenIssuer, TokenError, looksLikeJWT } from './service-account-token.ts';

const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const key = signingKeyFromPem(pem());
const otherKey = signingKeyFromPem(pem());
const ISSUER = 'https://kubernetes.default.svc.cluster.local';

function objects() {
  const m = new Map<string, KObject>();
  const put = (kind: string, ns: string, name: string, extra: Record<string, any> = {}) => {
    const o: KObject = { metadata: { name, namespace: ns || undefined, uid: `${kind}-${name}-uid-${Math.random()}` }, ...extra };
    m.set(`${kind}/${ns}/${name}`, o);
    return o;
  };
  return {
    m,
    put,
    getter: {
      serviceAccount: (ns: string, n: string) => m.get(`sa/${ns}/${n}`),
      pod: (ns: string, n: string) => m.get(`pod/${ns}/${n}`),
      secret: (ns: string, n: string) => m.get(`secret/${ns}/${n}`),
      node: (n: string) => m.get(`node//${n}`),
    },
  };
}

test('a bound token authenticates as its ServiceAccount, with the pod and node in extra', async () => {
  const w = objects();
  const sa = w.put('sa', 'ns1', 'robot');
  const node = w.put('node', '', 'n1');
  const pod = w.put('pod', 'ns1', 'p', { spec: { serviceAccountName: 'robot', nodeName: 'n1' } });
  const issuer = new ServiceAccountTokenIssuer(key, ISSUER);
  const { token } = await issuer.issue({ serviceAccount: sa, audiences: [ISSUER], expirationSeconds: 3600, pod, node });
  assert.ok(looksLikeJWT(token));
  const authn = new ServiceAccountAuthenticator({ keys: [key], issuers: [ISSUER], getter: w.getter });
  const r = await authn.authenticate(token);
  assert.equal(r!.user.name, 'system:serviceaccount:ns1:robot');
  assert.equal(r!.user.uid, sa.metadata.uid);
  assert.deepEqual(r!.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated']);
  assert.deepEqual(r!.user.extra!['authentication.kubernetes.io/pod-name'], ['p']);
  assert.deepEqual(r!.user.extra!['authentication.kubernetes.io/node-name'], ['n1']);
  assert.match(r!.user.extra!['authentication.kubernetes.io/credential-id']![0]!, /^JTI=/);
  assert.deepEqual(r!.audiences, [ISSUER]);
  // The pod is deleted: the token dies with it.
  w.m.delete('pod/ns1/p');
  await assert.rejects(authn.authenticate(token), (e: unknown) => e instanceof TokenError && /pod ns1\/p has been deleted/.test(e.message));
  // A pod of the same name is not the same pod.
  w.put('pod', 'ns1', 'p');
  await assert.rejects(authn.authenticate(token), /pod UID .* does not match claim/);
});

test('expired, other audience, forged, other issuer, deleted or re-created ServiceAccount', async () => {
  const w = objects();
  const sa = w.put('sa', 'ns1', 'robot');
  const now = Date.now();
  const issuer = new ServiceAccountTokenIssuer(key, ISSUER);
  const authn = new ServiceAccountAuthenticator({ keys: [key], issuers: [ISSUER], getter: w.getter, now: () => now });

  const expired = (await issuer.issue({ serviceAccount: sa, audiences: [ISSUER], expirationSeconds: 600, now: now - 3600_000 })).token;
  await assert.rejects(authn.authenticate(expired), /service account token has expired/);

  const vault = (await issuer.issue({ serviceAccount: sa, audiences: ['vault'], expirationSeconds: 600, now })).token;
  await assert.rejects(authn.authenticate(vault), /token audiences is invalid/);
  // ...but it is good for the audience it names (TokenReview with spec.audiences).
  assert.deepEqual((await authn.authenticate(vault, ['vault']))!.audiences, ['vault']);

  const forged = (await new ServiceAccountTokenIssuer(otherKey, ISSUER).issue({ serviceAccount: sa, audiences: [ISSUER], expirationSeconds: 600, now })).token;
  await assert.rejects(authn.authenticate(forged), /invalid signature/);
  // Same kid, other key: a swapped header does not help.
  const [, body] = forged.split('.');
  const good = (await issuer.issue({ serviceAccount: sa, audiences: [ISSUER], expirationSeconds: 600, now })).token;
  const [header, , sig] = good.split('.');
  await assert.rejects(authn.authenticate(`${header}.${body}.${sig}`), /invalid signature/);
  // alg none is never accepted.
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: key.kid })).toString('base64url')}.${body}.`;
  assert.equal(looksLikeJWT(none), false);

  const foreign = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'ES256' }).setIssuer('https://elsewhere').setExpirationTime('1h').sign(key.privateKey);
  assert.equal(await authn.authenticate(foreign), undefined, 'another issuer is not ours to judge');

  assert.ok(await authn.authenticate(good));
  w.m.delete('sa/ns1/robot');
  await assert.rejects(authn.authenticate(good), /service account ns1\/robot has been deleted/);
  w.put('sa', 'ns1', 'robot');
  await assert.rejects(authn.authenticate(good), /service account UID .* does not match claim/);
});

test('a token asked for with 3607 s lives a year but warns after the hour (upstream)', async () => {
  const w = objects();
  const sa = w.put('sa', 'ns1', 'default');
  const pod = w.put('pod', 'ns1', 'p');
  const issuer = new ServiceAccountTokenIssuer(key, ISSUER);
  const now = Date.now();
  const { token, exp } = await issuer.issue({ serviceAccount: sa, pod, audiences: [ISSUER], expirationSeconds: 3607, now });
  assert.ok(exp - Math.floor(now / 1000) >= 365 * 24 * 3600 - 1);
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
  assert.equal(claims['kubernetes.io'].warnafter, Math.floor(now / 1000) + 3607);
});

test('legacy Secret-based tokens: valid while the Secret belongs to the ServiceAccount', async () => {
  const w = objects();
  const sa = w.put('sa', 'ns1', 'robot');
  const secret = w.put('secret', 'ns1', 'robot-token', { type: 'kubernetes.io/service-account-token' });
  secret.metadata.annotations = { 'kubernetes.io/service-account.name': 'robot', 'kubernetes.io/service-account.uid': sa.metadata.uid! };
  const token = await new ServiceAccountTokenIssuer(key, ISSUER).issueLegacy(sa, secret);
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
  assert.equal(claims.iss, 'kubernetes/serviceaccount');
  assert.equal(claims.exp, undefined);
  const authn = new ServiceAccountAuthenticator({ keys: [key], issuers: [ISSUER], getter: w.getter });
  assert.equal((await authn.authenticate(token))!.user.name, 'system:serviceaccount:ns1:robot');
  w.m.delete('secret/ns1/robot-token');
  await assert.rejects(authn.authenticate(token), /secret ns1\/robot-token has been deleted/);
  const off = new ServiceAccountAuthenticator({ keys: [key], issuers: [ISSUER], getter: w.getter, legacy: false });
  await assert.rejects(off.authenticate(token), /legacy service account tokens are not accepted/);
});
