// The CSR signing controller (upstream pkg/controller/certificates/signer): approved requests for
// the Kubernetes signers are signed with the cluster CA, after the checks each signer makes:
//   kubernetes.io/kube-apiserver-client          any subject; client auth (and digital signature, key encipherment)
//   kubernetes.io/kube-apiserver-client-kubelet  CN system:node:<name>, O system:nodes, no SANs; client auth
//   kubernetes.io/kubelet-serving                CN system:node:<name>, O system:nodes, DNS/IP SANs; server auth
// A request that fails them gets a Failed condition (SignerValidationFailure). Other signers'
// requests are left alone.

import type { KObject } from '../../api/types.ts';
import { isConflict, isNotFound } from '../../client/api-client.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { parseRequest, signRequest, type ParsedRequest } from './x509.ts';

export const SIGNER_CLIENT = 'kubernetes.io/kube-apiserver-client';
export const SIGNER_KUBELET_CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet';
export const SIGNER_KUBELET_SERVING = 'kubernetes.io/kubelet-serving';
const DEFAULT_DURATION = 365 * 24 * 3600;

const CSR_REF = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };

export function hasCondition(csr: KObject, type: string): boolean {
  return (csr.status?.conditions ?? []).some((c: any) => c?.type === type && c?.status !== 'False');
}

function usagesError(usages: string[], required: string, allowed: string[]): string | undefined {
  const bad = usages.filter((u) => !allowed.includes(u));
  if (bad.length) return `usages did not match ${JSON.stringify(allowed)}`;
  if (!usages.includes(required)) return `missing required usage ${JSON.stringify(required)}`;
  return undefined;
}

function nodeSubjectError(r: ParsedRequest): string | undefined {
  if (r.organizations.length !== 1 || r.organizations[0] !== 'system:nodes') return 'subject organization is not system:nodes';
  if (!r.commonName.startsWith('system:node:') || r.commonName.length === 'system:node:'.length) return 'subject common name does not begin with "system:node:"';
  return undefined;
}

/** Why this signer refuses the request, or undefined when it may sign it. */
export function signerValidationError(signer: string, usages: string[], r: ParsedRequest): string | undefined {
  if (!r.signatureValid) return 'the request\'s signature is invalid';
  switch (signer) {
    case SIGNER_CLIENT:
      return usagesError(usages, 'client auth', ['digital signature', 'key encipherment', 'client auth']);
    case SIGNER_KUBELET_CLIENT:
      return (
        nodeSubjectError(r) ??
        (r.dnsNames.length || r.ipAddresses.length || r.emailAddresses.length || r.uris.length ? 'subjectAltNames are not allowed' : undefined) ??
        usagesError(usages, 'client auth', ['digital signature', 'key encipherment', 'client auth'])
      );
    case SIGNER_KUBELET_SERVING:
      return (
        nodeSubjectError(r) ??
        (r.emailAddresses.length || r.uris.length ? 'email and URI subjectAltNames are not allowed' : undefined) ??
        (r.dnsNames.length + r.ipAddresses.length === 0 ? 'DNS or IP subjectAltName is required' : undefined) ??
        usagesError(usages, 'server auth', ['digital signature', 'key encipherment', 'server auth'])
      );
  }
  return 'unknown signer';
}

export function createCSRSigner(ctx: ControllerContext): Controller {
  const certPem = ctx.options.clusterSigningCertPem;
  const keyPem = ctx.options.clusterSigningKeyPem;
  const maxSeconds = ctx.options.clusterSigningDurationSeconds ?? DEFAULT_DURATION;
  const csrs = ctx.informers.informerFor(CSR_REF);
  const worker = new KeyWorker('csr-signing', sync, ctx.log);
  if (certPem && keyPem) {
    const on = (c: KObject) => worker.add(c.metadata.name!);
    csrs.addEventHandler({ onAdd: on, onUpdate: (_o, c) => on(c) });
  }

  async function sync(name: string): Promise<void> {
    const csr = csrs.lister().get(name);
    if (!csr || csr.status?.certificate || !hasCondition(csr, 'Approved') || hasCondition(csr, 'Failed') || hasCondition(csr, 'Denied')) return;
    const signer = csr.spec?.signerName;
    if (![SIGNER_CLIENT, SIGNER_KUBELET_CLIENT, SIGNER_KUBELET_SERVING].includes(signer)) return;
    const pem = Buffer.from(csr.spec.request, 'base64').toString('utf8');
    const usages: string[] = csr.spec.usages ?? [];
    let problem: string | undefined;
    try {
      problem = signerValidationError(signer, usages, await parseRequest(pem));
    } catch (e) {
      problem = `unable to parse csr: ${(e as Error).message}`;
    }
    const next = structuredClone(csr);
    next.status ??= {};
    if (problem) {
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      next.status.conditions = [...(next.status.conditions ?? []), { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: problem, lastUpdateTime: now, lastTransitionTime: now }];
    } else {
      const asked = typeof csr.spec.expirationSeconds === 'number' ? csr.spec.expirationSeconds : maxSeconds;
      const cert = await signRequest(pem, { certPem: certPem!, keyPem: keyPem! }, usages, Math.min(asked, maxSeconds));
      next.status.certificate = Buffer.from(cert, 'utf8').toString('base64');
    }
    try {
      await ctx.client.updateStatus({ ...CSR_REF, name }, next);
    } catch (e) {
      if (isNotFound(e)) return;
      if (isConflict(e)) throw e;
      throw e;
    }
  }

  return { name: 'csr-signing', run: () => worker.run(ctx.options.workers), stop: () => worker.stop() };
}

export const csrSigningController: ControllerFactory = (ctx) => createCSRSigner(ctx);
