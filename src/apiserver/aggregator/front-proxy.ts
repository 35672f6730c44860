// The aggregator's identity towards aggregated API servers (upstream's front proxy): its own CA
// (`DATA_DIR/pki/front-proxy-ca.*`) and a client certificate `CN=front-proxy-client`
// (`front-proxy-client.*`) presented on every proxied request, published with the request-header
// names in the `kube-system/extension-apiserver-authentication` ConfigMap, which aggregated servers
// built on k8s.io/apiserver (metrics-server...) read to trust the X-Remote-* headers it sends.

import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KObject } from '../../api/types.ts';
import { StatusError } from '../../machinery/errors.ts';
import { writeFileAtomic } from '../../machinery/files.ts';
import type { ResourceStore } from '../registry/resource-store.ts';

export const FRONT_PROXY_CLIENT = 'front-proxy-client';
export const USERNAME_HEADER = 'X-Remote-User';
export const GROUP_HEADER = 'X-Remote-Group';
export const EXTRA_HEADER_PREFIX = 'X-Remote-Extra-';

export interface FrontProxy {
  caPem: string;
  certPem: string;
  keyPem: string;
}

const DAY = 24 * 60 * 60 * 1000;
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

async function read(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch(() => undefined);
}

function usable(certPem: string | undefined, keyPem: string | undefined, caPem?: string): boolean {
  try {
    const cert = new X509Certificate(certPem!);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem!))) return false;
    if (Date.parse(cert.validTo) - Date.now() < 30 * DAY) return false;
    return caPem ? cert.checkIssued(new X509Certificate(caPem)) : cert.ca;
  } catch {
    return false;
  }
}

/** Load the front-proxy CA and client certificate from `pkiDir`, making them when missing or stale. */
export async function ensureFrontProxy(pkiDir: string): Promise<FrontProxy> {
  await mkdir(pkiDir, { recursive: true, mode: 0o700 });
  const f = (n: string) => join(pkiDir, n);
  let caPem = await read(f('front-proxy-ca.crt'));
  let caKey = await read(f('front-proxy-ca.key'));
  let certPem = await read(f('front-proxy-client.crt'));
  let keyPem = await read(f('front-proxy-client.key'));
  const caOk = usable(caPem, caKey);
  if (caOk && usable(certPem, keyPem, caPem)) return { caPem: caPem!, certPem: certPem!, keyPem: keyPem! };

  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const subtle = webcrypto.subtle;
  const keys = () => subtle.generateKey(EC, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
  const pem = async (k: CryptoKey) => x509.PemConverter.encode(await subtle.exportKey('pkcs8', k), 'PRIVATE KEY');
  const serial = () => {
    const b = randomBytes(16);
    b[0] = (b[0]! & 0x7f) | 0x01;
    return b.toString('hex');
  };
  const now = Date.now();
  if (!caOk) {
    const k = await keys();
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: 'CN=mizzen-front-proxy-ca',
      keys: k,
      signingAlgorithm: EC,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 3650 * DAY),
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true)],
    });
    caPem = ca.toString('pem');
    caKey = await pem(k.privateKey);
    await writeFileAtomic(f('front-proxy-ca.key'), caKey, 0o600);
    await writeFileAtomic(f('front-proxy-ca.crt'), caPem, 0o644);
  }
  const caCert = new x509.X509Certificate(caPem!);
  const signingKey = await subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(caKey!), EC, true, ['sign']);
  const k = await keys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${FRONT_PROXY_CLIENT}`,
    issuer: caCert.subject,
    publicKey: k.publicKey,
    signingKey,
    signingAlgorithm: EC,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 365 * DAY),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  certPem = cert.toString('pem');
  keyPem = await pem(k.privateKey);
  await writeFileAtomic(f('front-proxy-client.key'), keyPem, 0o600);
  await writeFileAtomic(f('front-proxy-client.crt'), certPem, 0o644);
  return { caPem: caPem!, certPem, keyPem };
}

/** The ConfigMap upstream's kube-apiserver keeps in kube-system for aggregated servers. */
export function authenticationConfigMap(clientCA: string, fp: FrontProxy): KObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'extension-apiserver-authentication', namespace: 'kube-system' },
    data: {
      'client-ca-file': clientCA,
      'requestheader-client-ca-file': fp.caPem,
      'requestheader-allowed-names': JSON.stringify([FRONT_PROXY_CLIENT]),
      'requestheader-username-headers': JSON.stringify([USERNAME_HEADER]),
      'requestheader-group-headers': JSON.stringify([GROUP_HEADER]),
      'requestheader-extra-headers-prefix': JSON.stringify([EXTRA_HEADER_PREFIX]),
    },
  };
}

/** Create or correct the ConfigMap. */
export async function publishAuthenticationConfigMap(configMaps: ResourceStore, cm: KObject): Promise<void> {
  const cur = configMaps.tryGet('kube-system', cm.metadata.name!)?.obj;
  try {
    if (!cur) await configMaps.create('kube-system', structuredClone(cm));
    else if (JSON.stringify(cur.data) !== JSON.stringify(cm.data)) await configMaps.update('kube-system', cm.metadata.name!, (o) => ({ ...o, data: cm.data }));
  } catch (e) {
    if (!(e instanceof StatusError && e.code === 409)) throw e;
  }
}
