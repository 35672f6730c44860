// The kubelet's serving certificate when it does not hold the cluster CA (`mizzen kubelet` on
// another machine): as upstream's kubelet with serverTLSBootstrap, it asks the API server for one
// with a CertificateSigningRequest for signer kubernetes.io/kubelet-serving (CN
// system:node:<name>, O system:nodes, its names and addresses), which a person approves
// (`kubectl certificate approve <csr>`, as upstream leaves serving certificates to people); the
// controller manager then signs it. The key and certificate are kept in <dir>/kubelet.{key,crt}
// and reused while valid for these names.

import { X509Certificate, createPrivateKey, webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ApiClient, isAlreadyExists } from '../../client/api-client.ts';
import { loadKubeconfig } from '../../client/kubeconfig.ts';

const CSR_REF = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };
const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

function usable(certPem: string, keyPem: string, hosts: string[]): boolean {
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return false;
    if (Date.parse(cert.validTo) - Date.now() < 24 * 3600 * 1000) return false;
    return hosts.every((h) => (isIP(h) ? cert.checkIP(h) : cert.checkHost(h)) !== undefined);
  } catch {
    return false;
  }
}

export async function ensureServingCertFromCSR(o: { kubeconfig: string; nodeName: string; hosts: string[]; dir: string; log: (m: string) => void; signal?: AbortSignal }): Promise<{ cert: string; key: string }> {
  await mkdir(o.dir, { recursive: true, mode: 0o700 });
  const certFile = join(o.dir, 'kubelet.crt');
  const keyFile = join(o.dir, 'kubelet.key');
  const old = await Promise.all([readFile(certFile, 'utf8').catch(() => ''), readFile(keyFile, 'utf8').catch(() => '')]);
  if (old[0] && old[1] && usable(old[0], old[1], o.hosts)) return { cert: old[0], key: old[1] };

  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const keys = (await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  const names = o.hosts.map((h) => ({ type: isIP(h) ? ('ip' as const) : ('dns' as const), value: h }));
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `O=system:nodes, CN=system:node:${o.nodeName}`,
    keys,
    signingAlgorithm: EC_ALG,
    extensions: [new x509.SubjectAlternativeNameExtension(names)],
  });
  const client = new ApiClient({ ...loadKubeconfig(o.kubeconfig), maxSockets: 2 });
  try {
    const name = `csr-kubelet-serving-${o.nodeName}-${Date.now().toString(36)}`;
    try {
      await client.create(CSR_REF, {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { name },
        spec: { request: Buffer.from(csr.toString('pem')).toString('base64'), signerName: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'server auth'] },
      });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    o.log(`asked for a kubelet serving certificate: approve it with  kubectl certificate approve ${name}`);
    for (;;) {
      if (o.signal?.aborted) throw new Error('stopped while waiting for the serving certificate');
      const got = await client.get<any>({ ...CSR_REF, name });
      const denied = (got.status?.conditions ?? []).find((c: any) => c.type === 'Denied' || c.type === 'Failed');
      if (denied) throw new Error(`the serving certificate request ${name} was ${denied.type.toLowerCase()}: ${denied.message ?? denied.reason ?? ''}`);
      if (got.status?.certificate) {
        const cert = Buffer.from(got.status.certificate, 'base64').toString('utf8');
        await writeFile(keyFile, keyPem, { mode: 0o600 });
        await writeFile(certFile, cert, { mode: 0o644 });
        return { cert, key: keyPem };
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    client.close();
  }
}
