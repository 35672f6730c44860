// The cluster's private PKI: one CA, a serving certificate for the API server, an admin client
// certificate and the API server's client certificate for kubelets, kept as PEM files in DIR/pki and
// reused across starts; and serving certificates for kubelets, issued by the same CA.
//
// Keys are ECDSA P-256 so that a first start stays fast (RSA generation in JS takes seconds).
// Existing files are inspected with Node's own X509Certificate, so a warm start never loads the
// certificate-generation library at all.

import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ensureServiceAccountKey } from './authn/service-account-keys.ts';
import { readFileIfExists, writeFileAtomic } from '../machinery/files.ts';

export interface PkiFiles {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  kubeletClientCert: string;
  kubeletClientKey: string;
}

export interface Pki {
  dir: string;
  files: PkiFiles;
  caCertPem: string;
  caKeyPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
  /** What the API server presents to kubelets (exec, logs, port-forward, nodes/proxy). */
  kubeletClientCertPem: string;
  kubeletClientKeyPem: string;
  /** Which certificates were (re)issued by this call; empty when everything was reused. */
  issued: Array<'ca' | 'server' | 'admin' | 'kubelet-client'>;
}

export const CA_COMMON_NAME = 'mizzen-ca';
export const ADMIN_USER = 'admin';
export const ADMIN_GROUP = 'system:masters';
/** The API server's identity towards kubelets, as kubeadm names it (apiserver-kubelet-client). */
export const KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';
/** First address of the default service CIDR: the in-cluster `kubernetes` service's ClusterIP. */
export const DEFAULT_KUBERNETES_SERVICE_IP = '10.43.0.1';

const DAY = 24 * 60 * 60 * 1000;
const CA_LIFETIME = 10 * 365 * DAY;
const LEAF_LIFETIME = 365 * DAY;
/** Leaf certificates this close to expiry are re-issued on start. */
const RENEW_BEFORE = 30 * DAY;
/** Back-date notBefore a little so peers with a slightly slow clock accept fresh certificates. */
const CLOCK_SKEW = 60 * 60 * 1000;

/** Names every serving certificate carries, whatever the host. */
export function defaultServingHosts(serviceIP: string = DEFAULT_KUBERNETES_SERVICE_IP): string[] {
  return [
    'localhost',
    '127.0.0.1',
    '::1',
    serviceIP,
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
    hostname(),
  ];
}

/** Wildcard bind addresses say nothing about how clients reach us, so they are not SANs. */
function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

function servingHosts(extra: string[]): string[] {
  const out: string[] = [];
  for (const h of [...defaultServingHosts(), ...extra]) {
    const v = h.trim().replace(/^\[(.*)\]$/, '$1');
    if (isWildcard(v) || out.includes(v)) continue;
    out.push(v);
  }
  return out;
}

function pkiFiles(dir: string): PkiFiles {
  return {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    kubeletClientCert: join(dir, 'apiserver-kubelet-client.crt'),
    kubeletClientKey: join(dir, 'apiserver-kubelet-client.key'),
  };
}

function parseCert(pem: string | undefined): X509Certificate | undefined {
  if (!pem) return undefined;
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function keyMatches(cert: X509Certificate, keyPem: string | undefined): boolean {
  if (!keyPem) return false;
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

function expiresSoon(cert: X509Certificate, margin: number): boolean {
  return Date.parse(cert.validTo) - Date.now() < margin;
}

function coversHost(cert: X509Certificate, host: string): boolean {
  if (isIP(host)) return cert.checkIP(host) !== undefined;
  return cert.checkHost(host, { subject: 'never', wildcards: false }) !== undefined;
}

/** A leaf is reusable when its key matches, the current CA signed it and it is not about to expire. */
function leafUsable(cert: X509Certificate | undefined, keyPem: string | undefined, ca: X509Certificate): cert is X509Certificate {
  return (
    cert !== undefined &&
    keyMatches(cert, keyPem) &&
    cert.checkIssued(ca) &&
    cert.verify(ca.publicKey) &&
    !expiresSoon(cert, RENEW_BEFORE)
  );
}

/**
 * Make sure DIR/pki holds a CA, a serving certificate covering `hosts` (plus the fixed local and
 * in-cluster names) and an admin client certificate; create or re-issue only what is missing,
 * mismatched or near expiry. Keys are written with mode 0600.
 */
export async function ensurePki(dir: string, hosts: string[] = []): Promise<Pki> {
  const pkiDir = join(dir, 'pki');
  await mkdir(pkiDir, { recursive: true, mode: 0o700 });
  const files = pkiFiles(pkiDir);
  const issued: Pki['issued'] = [];
  const wanted = servingHosts(hosts);

  let caCertPem = await readFileIfExists(files.caCert);
  let caKeyPem = await readFileIfExists(files.caKey);
  let ca = parseCert(caCertPem);
  let gen: Generator | undefined;

  if (!ca || !keyMatches(ca, caKeyPem) || !ca.ca || expiresSoon(ca, 0)) {
    gen ??= await loadGenerator();
    ({ certPem: caCertPem, keyPem: caKeyPem } = await gen.ca());
    ca = new X509Certificate(caCertPem);
    await writeFileAtomic(files.caKey, caKeyPem, 0o600);
    await writeFileAtomic(files.caCert, caCertPem, 0o644);
    issued.push('ca');
  }
  const caPair = { certPem: caCertPem!, keyPem: caKeyPem! };

  let serverCertPem = await readFileIfExists(files.serverCert);
  let serverKeyPem = await readFileIfExists(files.serverKey);
  const server = parseCert(serverCertPem);
  if (!leafUsable(server, serverKeyPem, ca) || !wanted.every((h) => coversHost(server, h))) {
    gen ??= await loadGenerator();
    ({ certPem: serverCertPem, keyPem: serverKeyPem } = await gen.server(caPair, wanted, 'mizzen-apiserver'));
    await writeFileAtomic(files.serverKey, serverKeyPem, 0o600);
    await writeFileAtomic(files.serverCert, serverCertPem, 0o644);
    issued.push('server');
  }

  let adminCertPem = await readFileIfExists(files.adminCert);
  let adminKeyPem = await readFileIfExists(files.adminKey);
  if (!leafUsable(parseCert(adminCertPem), adminKeyPem, ca)) {
    gen ??= await loadGenerator();
    ({ certPem: adminCertPem, keyPem: adminKeyPem } = await gen.client(caPair, ADMIN_USER, [ADMIN_GROUP]));
    await writeFileAtomic(files.adminKey, adminKeyPem, 0o600);
    await writeFileAtomic(files.adminCert, adminCertPem, 0o644);
    issued.push('admin');
  }

  let kubeletClientCertPem = await readFileIfExists(files.kubeletClientCert);
  let kubeletClientKeyPem = await readFileIfExists(files.kubeletClientKey);
  if (!leafUsable(parseCert(kubeletClientCertPem), kubeletClientKeyPem, ca)) {
    gen ??= await loadGenerator();
    ({ certPem: kubeletClientCertPem, keyPem: kubeletClientKeyPem } = await gen.client(caPair, KUBELET_CLIENT_USER, [ADMIN_GROUP]));
    await writeFileAtomic(files.kubeletClientKey, kubeletClientKeyPem, 0o600);
    await writeFileAtomic(files.kubeletClientCert, kubeletClientCertPem, 0o644);
    issued.push('kubelet-client');
  }

  // The ServiceAccount token signing key lives with the CA: every API server of a cluster needs the
  // same one, so it is made here, where the CA is, and copied with it.
  await ensureServiceAccountKey(pkiDir);

  return {
    dir: pkiDir,
    files,
    caCertPem: caPair.certPem,
    caKeyPem: caPair.keyPem,
    serverCertPem: serverCertPem!,
    serverKeyPem: serverKeyPem!,
    adminCertPem: adminCertPem!,
    adminKeyPem: adminKeyPem!,
    kubeletClientCertPem: kubeletClientCertPem!,
    kubeletClientKeyPem: kubeletClientKeyPem!,
    issued,
  };
}

/** Names every kubelet serving certificate carries besides the node's own. */
function kubeletServingHosts(nodeName: string, extra: string[]): string[] {
  const out: string[] = [];
  for (const h of [nodeName, 'localhost', '127.0.0.1', '::1', ...extra]) {
    const v = h.trim().replace(/^\[(.*)\]$/, '$1');
    if (v && !isWildcard(v) && !out.includes(v)) out.push(v);
  }
  return out;
}

/**
 * A kubelet's serving certificate (CN system:node:<name>), signed by the cluster CA, for the node's
 * name, its addresses and loopback: kept as DIR/kubelet.crt and DIR/kubelet.key, re-issued when the
 * CA changed, it nears expiry or a name is missing. The API server checks kubelets against the CA.
 */
export async function ensureKubeletServingCert(dir: string, ca: { certPem: string; keyPem: string }, nodeName: string, hosts: string[] = []): Promise<{ certPem: string; keyPem: string; issued: boolean }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, 'kubelet.crt');
  const keyFile = join(dir, 'kubelet.key');
  const wanted = kubeletServingHosts(nodeName, hosts);
  const caCert = new X509Certificate(ca.certPem);
  const certPem = await readFileIfExists(certFile);
  const keyPem = await readFileIfExists(keyFile);
  const cert = parseCert(certPem);
  if (leafUsable(cert, keyPem, caCert) && wanted.every((h) => coversHost(cert, h))) return { certPem: certPem!, keyPem: keyPem!, issued: false };
  const gen = await loadGenerator();
  const fresh = await gen.server(ca, wanted, `system:node:${nodeName}`);
  await writeFileAtomic(keyFile, fresh.keyPem, 0o600);
  await writeFileAtomic(certFile, fresh.certPem, 0o644);
  return { ...fresh, issued: true };
}

/**
 * A serving certificate for `hosts` (names and IPs, used as given), signed by `ca`; with
 * `alsoClient` it may authenticate as a client too (etcd members connect to themselves with it).
 */
export async function issueServingCertificate(ca: PemPair, hosts: string[], alsoClient = false): Promise<PemPair> {
  return (await loadGenerator()).server(ca, hosts, 'mizzen-apiserver', alsoClient);
}

/** A kubelet's serving certificate (CN system:node:<name>) for its names and addresses, signed by `ca`. */
export async function issueKubeletServingCertificate(ca: PemPair, nodeName: string, hosts: string[]): Promise<PemPair> {
  return (await loadGenerator()).server(ca, kubeletServingHosts(nodeName, hosts), `system:node:${nodeName}`);
}

/** A client certificate for `user` in `groups` (CN and O, as Kubernetes reads them), signed by `ca`. */
export async function issueClientCertificate(ca: PemPair, user: string, groups: string[]): Promise<PemPair> {
  return (await loadGenerator()).client(ca, user, groups);
}

/** A new self-signed CA named `commonName`. */
export async function issueCA(commonName = CA_COMMON_NAME): Promise<PemPair> {
  return (await loadGenerator()).ca(commonName);
}

// ---- generation (loaded lazily: the library and its reflect polyfill cost ~100 ms) ----

export interface PemPair {
  certPem: string;
  keyPem: string;
}

interface Generator {
  ca(commonName?: string): Promise<PemPair>;
  /** A serving certificate named `commonName`; with `alsoClient` it may authenticate as a client too. */
  server(ca: PemPair, hosts: string[], commonName: string, alsoClient?: boolean): Promise<PemPair>;
  client(ca: PemPair, user: string, groups: string[]): Promise<PemPair>;
}

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Positive, non-zero 128-bit serial as hex (the top bit cleared keeps DER from reading it as negative). */
function serialNumber(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

/** Escape a value for the library's RFC 4514 style name strings. */
function rdn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

async function loadGenerator(): Promise<Generator> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const subtle = webcrypto.subtle;
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);

  const newKeys = () => subtle.generateKey(EC_ALG, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
  const keyToPem = async (key: CryptoKey) =>
    x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
  const importKey = (pem: string) =>
    subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), EC_ALG, true, ['sign']);
  const validity = (lifetime: number) => {
    const now = Date.now();
    return { notBefore: new Date(now - CLOCK_SKEW), notAfter: new Date(now + lifetime) };
  };

  async function leaf(
    ca: PemPair,
    subject: string,
    extensions: InstanceType<typeof x509.Extension>[],
  ): Promise<PemPair> {
    const caCert = new x509.X509Certificate(ca.certPem);
    const signingKey = await importKey(ca.keyPem);
    const keys = await newKeys();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject,
      issuer: caCert.subject,
      publicKey: keys.publicKey,
      signingKey,
      signingAlgorithm: EC_ALG,
      ...validity(LEAF_LIFETIME),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
        ...extensions,
      ],
    });
    return { certPem: cert.toString('pem'), keyPem: await keyToPem(keys.privateKey) };
  }

  return {
    async ca(commonName = CA_COMMON_NAME) {
      const keys = await newKeys();
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: serialNumber(),
        name: `CN=${rdn(commonName)}`,
        keys,
        signingAlgorithm: EC_ALG,
        ...validity(CA_LIFETIME),
        extensions: [
          new x509.BasicConstraintsExtension(true, undefined, true),
          new x509.KeyUsagesExtension(
            x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
            true,
          ),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        ],
      });
      return { certPem: cert.toString('pem'), keyPem: await keyToPem(keys.privateKey) };
    },

    server(ca, hosts, commonName, alsoClient = false) {
      const names = hosts.map((h) => ({ type: isIP(h) ? ('ip' as const) : ('dns' as const), value: h }));
      const usages = alsoClient ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth] : [x509.ExtendedKeyUsage.serverAuth];
      return leaf(ca, `CN=${rdn(commonName)}`, [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension(usages),
        new x509.SubjectAlternativeNameExtension(names),
      ]);
    },

    client(ca, user, groups) {
      // Kubernetes reads the user from CN and the groups from the O attributes.
      const subject = [...groups.map((g) => `O=${rdn(g)}`), `CN=${rdn(user)}`].join(', ');
      return leaf(ca, subject, [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ]);
    },
  };
}
