// Reading PKCS#10 requests and issuing certificates from them with @peculiar/x509 (loaded on first
// use: the library and its reflect polyfill cost ~100 ms, and most starts sign nothing).

import { randomBytes, webcrypto } from 'node:crypto';

export interface ParsedRequest {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
  /** The request's self-signature checks out. */
  signatureValid: boolean;
}

type X509 = typeof import('@peculiar/x509');
let lib: Promise<X509> | undefined;

function load(): Promise<X509> {
  lib ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    return x509;
  })();
  return lib;
}

function subjectValues(name: { getField(type: string): string[] }, type: string): string[] {
  try {
    return name.getField(type);
  } catch {
    return [];
  }
}

function sanOf(x509: X509, csr: InstanceType<X509['Pkcs10CertificateRequest']>): InstanceType<X509['SubjectAlternativeNameExtension']> | undefined {
  const ext = csr.getExtension('2.5.29.17');
  return ext ? new x509.SubjectAlternativeNameExtension(ext.rawData) : undefined;
}

export async function parseRequest(pem: string): Promise<ParsedRequest> {
  const x509 = await load();
  const csr = new x509.Pkcs10CertificateRequest(pem);
  const names = sanOf(x509, csr)?.names.toJSON() ?? [];
  let signatureValid = false;
  try {
    signatureValid = await csr.verify();
  } catch {
    signatureValid = false;
  }
  return {
    commonName: subjectValues(csr.subjectName, 'CN')[0] ?? '',
    organizations: subjectValues(csr.subjectName, 'O'),
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
    emailAddresses: names.filter((n) => n.type === 'email').map((n) => n.value),
    uris: names.filter((n) => n.type === 'url').map((n) => n.value),
    signatureValid,
  };
}

const KEY_USAGE_BITS: Record<string, string> = {
  'digital signature': 'digitalSignature',
  'content commitment': 'nonRepudiation',
  'key encipherment': 'keyEncipherment',
  'key agreement': 'keyAgreement',
  'data encipherment': 'dataEncipherment',
  'cert sign': 'keyCertSign',
  'crl sign': 'cRLSign',
  'encipher only': 'encipherOnly',
  'decipher only': 'decipherOnly',
};
const EXT_USAGE_OIDS: Record<string, string> = {
  'server auth': '1.3.6.1.5.5.7.3.1',
  'client auth': '1.3.6.1.5.5.7.3.2',
  'code signing': '1.3.6.1.5.5.7.3.3',
  'email protection': '1.3.6.1.5.5.7.3.4',
  's/mime': '1.3.6.1.5.5.7.3.4',
  'timestamping': '1.3.6.1.5.5.7.3.8',
  'ocsp signing': '1.3.6.1.5.5.7.3.9',
};

const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Sign the request with the CA: the request's subject, key and SANs, the asked usages, for `seconds`. */
export async function signRequest(requestPem: string, ca: { certPem: string; keyPem: string }, usages: string[], seconds: number): Promise<string> {
  const x509 = await load();
  const csr = new x509.Pkcs10CertificateRequest(requestPem);
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKeyDer = x509.PemConverter.decodeFirst(ca.keyPem);
  const caAlg = caCert.publicKey.algorithm as EcKeyAlgorithm | RsaHashedKeyAlgorithm;
  const signingAlgorithm = caAlg.name === 'ECDSA' ? { name: 'ECDSA', namedCurve: (caAlg as EcKeyAlgorithm).namedCurve, hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const signingKey = await webcrypto.subtle.importKey('pkcs8', caKeyDer, signingAlgorithm as any, false, ['sign']);
  let bits = 0;
  for (const u of usages) {
    const flag = KEY_USAGE_BITS[u];
    if (flag) bits |= (x509.KeyUsageFlags as any)[flag];
  }
  const ext = usages.map((u) => EXT_USAGE_OIDS[u]).filter((x): x is string => !!x);
  const extensions: InstanceType<X509['Extension']>[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (bits) extensions.push(new x509.KeyUsagesExtension(bits, true));
  if (ext.length) extensions.push(new x509.ExtendedKeyUsageExtension(ext));
  const san = sanOf(x509, csr);
  if (san) extensions.push(new x509.SubjectAlternativeNameExtension(san.names.toJSON()));
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const now = Date.now();
  const notAfter = Math.min(now + seconds * 1000, Date.parse(caCert.notAfter.toISOString()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: csr.subject,
    issuer: caCert.subject,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(notAfter),
    publicKey: csr.publicKey,
    signingKey,
    signingAlgorithm: signingAlgorithm as any,
    extensions,
  });
  return cert.toString('pem');
}
