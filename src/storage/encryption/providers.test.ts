import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { aescbc, aesgcm, identity, ProviderChain, secretbox } from './providers.ts';

const key = '/registry/secrets/default/s';

test('each provider round-trips and marks its output', () => {
  for (const p of [aescbc('k', randomBytes(32)), aesgcm('k', randomBytes(32)), secretbox('k', randomBytes(32))]) {
    const chain = new ProviderChain([p]);
    const sealed = chain.encrypt('{"data":"x"}', key);
    assert.ok(sealed.startsWith(p.prefix) && p.prefix.startsWith('k8s:enc:'));
    assert.ok(!sealed.includes('data'));
    assert.deepEqual(chain.decrypt(sealed, key), { plain: '{"data":"x"}', stale: false });
  }
});

test('the first provider writes, every one reads; others are stale', () => {
  const old = aescbc('old', randomBytes(32));
  const next = aesgcm('new', randomBytes(32));
  const sealedOld = new ProviderChain([old]).encrypt('v', key);
  const chain = new ProviderChain([next, old, identity]);
  assert.deepEqual(chain.decrypt(sealedOld, key), { plain: 'v', stale: true });
  assert.deepEqual(chain.decrypt('plain', key), { plain: 'plain', stale: true });
  assert.equal(chain.decrypt(chain.encrypt('v', key), key).stale, false);
  assert.throws(() => new ProviderChain([next]).decrypt(sealedOld, key), /no matching prefix/);
});

test('aesgcm binds the ciphertext to its storage key; secretbox refuses tampering', () => {
  const g = new ProviderChain([aesgcm('k', randomBytes(32))]);
  assert.throws(() => g.decrypt(g.encrypt('v', key), '/registry/secrets/default/other'));
  const b = new ProviderChain([secretbox('k', randomBytes(32))]);
  const sealed = b.encrypt('value', key);
  const body = Buffer.from(sealed.slice('k8s:enc:secretbox:v1:k:'.length), 'base64');
  body[body.length - 1] ^= 1;
  assert.throws(() => b.decrypt(`k8s:enc:secretbox:v1:k:${body.toString('base64')}`, key));
});
