// Encryption at rest: upstream's EncryptionConfiguration providers. A stored value written by a
// provider starts with `k8s:enc:<provider>:v1:<key name>:` and, since Mizzen's stores hold text,
// the encrypted bytes follow in base64 (upstream stores the raw bytes). aescbc (AES-CBC, PKCS#7,
// random IV), aesgcm (AES-GCM, random nonce, the storage key as additional data) and secretbox
// (XSalsa20-Poly1305, tweetnacl) with 32-byte keys; identity writes plain text.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';

export interface Provider {
  /** `k8s:enc:aescbc:v1:key1:`, or '' for identity. */
  readonly prefix: string;
  encrypt(plain: string, key: string): string;
  decrypt(body: Buffer, key: string): string;
}

const PREFIX = 'k8s:enc:';

export const identity: Provider = {
  prefix: '',
  encrypt: (plain) => plain,
  decrypt: (body) => body.toString('utf8'),
};

function aesCipher(keyBytes: Buffer): string {
  if (keyBytes.length === 16) return '128';
  if (keyBytes.length === 24) return '192';
  if (keyBytes.length === 32) return '256';
  throw new Error(`invalid key length ${keyBytes.length}: AES keys are 16, 24 or 32 bytes`);
}

export function aescbc(name: string, key: Buffer): Provider {
  const algo = `aes-${aesCipher(key)}-cbc`;
  return {
    prefix: `${PREFIX}aescbc:v1:${name}:`,
    encrypt(plain) {
      const iv = randomBytes(16);
      const c = createCipheriv(algo, key, iv);
      return this.prefix + Buffer.concat([iv, c.update(plain, 'utf8'), c.final()]).toString('base64');
    },
    decrypt(body) {
      if (body.length < 32 || body.length % 16 !== 0) throw new Error('the stored data is not a multiple of the block size');
      const d = createDecipheriv(algo, key, body.subarray(0, 16));
      return Buffer.concat([d.update(body.subarray(16)), d.final()]).toString('utf8');
    },
  };
}

export function aesgcm(name: string, key: Buffer): Provider {
  const algo = `aes-${aesCipher(key)}-gcm`;
  return {
    prefix: `${PREFIX}aesgcm:v1:${name}:`,
    encrypt(plain, storageKey) {
      const nonce = randomBytes(12);
      const c = createCipheriv(algo, key, nonce) as import('node:crypto').CipherGCM;
      c.setAAD(Buffer.from(storageKey));
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return this.prefix + Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64');
    },
    decrypt(body, storageKey) {
      if (body.length < 28) throw new Error('the stored data was shorter than the required size');
      const d = createDecipheriv(algo, key, body.subarray(0, 12)) as import('node:crypto').DecipherGCM;
      d.setAAD(Buffer.from(storageKey));
      d.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([d.update(body.subarray(12, body.length - 16)), d.final()]).toString('utf8');
    },
  };
}

export function secretbox(name: string, key: Buffer): Provider {
  if (key.length !== 32) throw new Error(`invalid key length ${key.length}: secretbox keys are 32 bytes`);
  const k = new Uint8Array(key);
  return {
    prefix: `${PREFIX}secretbox:v1:${name}:`,
    encrypt(plain) {
      const nonce = randomBytes(24);
      const box = nacl.secretbox(new Uint8Array(Buffer.from(plain, 'utf8')), new Uint8Array(nonce), k);
      return this.prefix + Buffer.concat([nonce, Buffer.from(box)]).toString('base64');
    },
    decrypt(body) {
      if (body.length < 24 + nacl.secretbox.overheadLength) throw new Error('the stored data was shorter than the required size');
      const out = nacl.secretbox.open(new Uint8Array(body.subarray(24)), new Uint8Array(body.subarray(0, 24)), k);
      if (!out) throw new Error('output array was not large enough for encryption');
      return Buffer.from(out).toString('utf8');
    },
  };
}

/** The providers of one resource: the first writes, any may read (matched by prefix). */
export class ProviderChain {
  constructor(readonly providers: Provider[]) {}

  get primary(): Provider {
    return this.providers[0];
  }

  encrypt(plain: string, key: string): string {
    return this.primary.encrypt(plain, key);
  }

  /** The plain text, and whether it was written by another provider than the first (stale). */
  decrypt(stored: string, key: string): { plain: string; stale: boolean } {
    if (!stored.startsWith(PREFIX)) {
      if (!this.providers.some((p) => p.prefix === '')) throw new Error('identity transformer tried to read encrypted data');
      return { plain: stored, stale: this.primary.prefix !== '' };
    }
    for (const p of this.providers) {
      if (!p.prefix || !stored.startsWith(p.prefix)) continue;
      return { plain: p.decrypt(Buffer.from(stored.slice(p.prefix.length), 'base64'), key), stale: p !== this.primary };
    }
    throw new Error('no matching prefix found');
  }
}
