// The key that signs ServiceAccount tokens: DIR/pki/service-account.key (ECDSA P-256, PKCS#8 PEM),
// made on first start and kept, as kube-apiserver's --service-account-signing-key-file. Its public
// half verifies tokens and is published as a JWK set (/openid/v1/jwks) with upstream's key id: the
// unpadded base64url SHA-256 of the public key's PKIX DER.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../machinery/files.ts';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
  alg: 'ES256' | 'RS256';
}

export function serviceAccountKeyPath(pkiDir: string): string {
  return join(pkiDir, 'service-account.key');
}

export function keyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url');
}

/** A signing key from PEM text (EC P-256 → ES256, RSA → RS256). */
export function signingKeyFromPem(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  const type = privateKey.asymmetricKeyType;
  let alg: SigningKey['alg'];
  if (type === 'ec') {
    if (privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('service account signing keys on an EC curve must be P-256 (ES256)');
    alg = 'ES256';
  } else if (type === 'rsa') alg = 'RS256';
  else throw new Error(`unsupported service account signing key type ${type}: use EC P-256 or RSA`);
  return { privateKey, publicKey, kid: keyId(publicKey), alg };
}

/** Read DIR/service-account.key, creating it (mode 0600) when missing. */
export async function ensureServiceAccountKey(pkiDir: string): Promise<SigningKey> {
  const file = serviceAccountKeyPath(pkiDir);
  try {
    return signingKeyFromPem(await readFile(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  await writeFileAtomic(file, pem, 0o600);
  return signingKeyFromPem(pem);
}

/** The public key as a JWK with use/kid/alg, as upstream's /openid/v1/jwks lists it. */
export function publicJwk(key: SigningKey): Record<string, string> {
  const jwk = key.publicKey.export({ format: 'jwk' }) as Record<string, string>;
  return { use: 'sig', kid: key.kid, alg: key.alg, ...jwk };
}
