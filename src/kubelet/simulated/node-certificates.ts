// Client certificates for simulated nodes, the way upstream's kubelets get their first one (TLS
// bootstrap): a CertificateSigningRequest per node for signer
// kubernetes.io/kube-apiserver-client-kubelet (CN system:node:<name>, O system:nodes, no SANs),
// which the controller manager's csr-approving approves because the requester may create
// `certificatesigningrequests/nodeclient` (the system:bootstrappers group, as a bootstrap token's
// user is), and csr-signing signs. Each node then writes with its own certificate, held by the node
// authorizer and NodeRestriction, and the simulator needs no right to impersonate anyone.

import { randomBytes, webcrypto } from 'node:crypto';
import type { ApiClient } from '../../client/api-client.ts';

const CSR_REF = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };
const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
export const SIGNER_KUBELET_CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet';

export interface NodeCertificate {
  certPem: string;
  keyPem: string;
}

export interface NodeCertificateOptions {
  /** How long to wait for every certificate (approval and signing by the controller manager). */
  timeoutMs?: number;
  pollMs?: number;
  log?: (m: string) => void;
  signal?: AbortSignal;
}

/** A key and a PKCS#10 request (PEM) for system:node:<name>. */
async function nodeRequest(nodeName: string): Promise<{ keyPem: string; requestPem: string }> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const keys = (await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `O=system:nodes, CN=system:node:${nodeName}`, keys, signingAlgorithm: EC_ALG });
  return { keyPem, requestPem: csr.toString('pem') };
}

/** Asks for a client certificate for every node and waits until all are issued. */
export async function requestNodeCertificates(client: ApiClient, nodeNames: string[], o: NodeCertificateOptions = {}): Promise<Map<string, NodeCertificate>> {
  const timeoutMs = o.timeoutMs ?? 120_000;
  const pending = new Map<string, { node: string; keyPem: string }>();
  for (const node of nodeNames) {
    const { keyPem, requestPem } = await nodeRequest(node);
    // Upstream's kubelets name theirs node-csr-<hash>; the node name helps a person reading the list.
    const name = `node-csr-${node}-${randomBytes(4).toString('hex')}`.slice(0, 253);
    await client.create(CSR_REF, {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name },
      spec: { request: Buffer.from(requestPem).toString('base64'), signerName: SIGNER_KUBELET_CLIENT, usages: ['digital signature', 'client auth'] },
    });
    pending.set(name, { node, keyPem });
  }
  o.log?.(`asked for ${nodeNames.length} node client certificate(s); waiting for the controller manager to approve and sign them`);
  const out = new Map<string, NodeCertificate>();
  const deadline = Date.now() + timeoutMs;
  while (pending.size) {
    if (o.signal?.aborted) throw new Error('stopped while waiting for node certificates');
    // One list per round rather than a get per node: hundreds of nodes cost one request.
    const list = await client.list<any>(CSR_REF);
    for (const csr of list.items ?? []) {
      const mine = pending.get(csr.metadata?.name);
      if (!mine) continue;
      const bad = (csr.status?.conditions ?? []).find((c: any) => c.type === 'Denied' || c.type === 'Failed');
      if (bad) throw new Error(`the client certificate request ${csr.metadata.name} for node ${mine.node} was ${String(bad.type).toLowerCase()}: ${bad.message ?? bad.reason ?? ''}`);
      if (csr.status?.certificate) {
        out.set(mine.node, { certPem: Buffer.from(csr.status.certificate, 'base64').toString('utf8'), keyPem: mine.keyPem });
        pending.delete(csr.metadata.name);
      }
    }
    if (!pending.size) break;
    if (Date.now() > deadline)
      throw new Error(
        `no client certificate for ${pending.size} node(s) after ${Math.round(timeoutMs / 1000)} s (first: ${[...pending.keys()][0]}): is the controller manager running, and may this identity create certificatesigningrequests/nodeclient?`,
      );
    await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
  }
  return out;
}
