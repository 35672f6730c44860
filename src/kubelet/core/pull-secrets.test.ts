import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialsFor } from './pull-secrets.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const dockerconfigjson = (auths: unknown) => ({ metadata: { name: 's' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) } });

test('imagePullSecrets: the entry for the image registry, user and password from auth', () => {
  const s = dockerconfigjson({ '127.0.0.1:5000': { auth: b64('me:s3cret:x') }, 'https://index.docker.io/v1/': { username: 'hub', password: 'pw' } });
  assert.deepEqual(credentialsFor('127.0.0.1:5000/app:1', [s as any]), { username: 'me', password: 's3cret:x' });
  assert.deepEqual(credentialsFor('busybox', [s as any]), { username: 'hub', password: 'pw' });
  assert.equal(credentialsFor('127.0.0.1:5001/app:1', [s as any]), undefined, 'the port must match');
  assert.equal(credentialsFor('quay.io/x/y', [s as any]), undefined);
  const legacy = { metadata: { name: 'l' }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify({ '*.example.com': { username: 'w', password: 'p' } })) } };
  assert.equal(credentialsFor('reg.example.com/a', [legacy as any])?.username, 'w');
  assert.equal(credentialsFor('a.b.example.com/a', [legacy as any]), undefined, 'a wildcard matches one label');
  const broken = { metadata: { name: 'b' }, data: { '.dockerconfigjson': b64('{not json') } };
  assert.equal(credentialsFor('127.0.0.1:5000/app:1', [broken as any, s as any])?.username, 'me');
});
