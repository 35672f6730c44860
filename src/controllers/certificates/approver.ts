// The CSR approving controller (upstream pkg/controller/certificates/approver): a kubelet's request
// for a client certificate (signer kubernetes.io/kube-apiserver-client-kubelet, CN system:node:<n>,
// O system:nodes, no SANs, client usages) is approved when a SubjectAccessReview says its requester
// may create `certificatesigningrequests/nodeclient` (bootstrap: system:bootstrappers), or, for a
// node renewing its own certificate, `certificatesigningrequests/selfnodeclient` (system:nodes).
// Other requests wait for a person: `kubectl certificate approve`.

import type { KObject } from '../../api/types.ts';
import { isConflict, isNotFound } from '../../client/api-client.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { hasCondition, SIGNER_KUBELET_CLIENT, signerValidationError } from './signer.ts';
import { parseRequest } from './x509.ts';

const CSR_REF = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };

const recognizers = [
  { subresource: 'nodeclient', self: false, message: 'Auto approving kubelet client certificate after SubjectAccessReview.' },
  { subresource: 'selfnodeclient', self: true, message: 'Auto approving self kubelet client certificate after SubjectAccessReview.' },
];

export function createCSRApprover(ctx: ControllerContext): Controller {
  const csrs = ctx.informers.informerFor(CSR_REF);
  const worker = new KeyWorker('csr-approving', sync, ctx.log);
  const on = (c: KObject) => {
    if (c.spec?.signerName === SIGNER_KUBELET_CLIENT) worker.add(c.metadata.name!);
  };
  csrs.addEventHandler({ onAdd: on, onUpdate: (_o, c) => on(c) });

  async function allowed(csr: KObject, subresource: string): Promise<boolean> {
    const spec = csr.spec;
    const sar = await ctx.client.create<any>(
      { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews' },
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: spec.username,
          uid: spec.uid,
          groups: spec.groups,
          extra: spec.extra,
          resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource },
        },
      },
    );
    return sar.status?.allowed === true;
  }

  async function sync(name: string): Promise<void> {
    const csr = csrs.lister().get(name);
    if (!csr || csr.spec?.signerName !== SIGNER_KUBELET_CLIENT || hasCondition(csr, 'Approved') || hasCondition(csr, 'Denied') || csr.status?.certificate) return;
    let parsed;
    try {
      parsed = await parseRequest(Buffer.from(csr.spec.request, 'base64').toString('utf8'));
    } catch {
      return;
    }
    if (signerValidationError(SIGNER_KUBELET_CLIENT, csr.spec.usages ?? [], parsed)) return;
    for (const r of recognizers) {
      if (r.self && csr.spec.username !== parsed.commonName) continue;
      if (!(await allowed(csr, r.subresource))) continue;
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const next = structuredClone(csr);
      next.status ??= {};
      next.status.conditions = [...(next.status.conditions ?? []), { type: 'Approved', status: 'True', reason: 'AutoApproved', message: r.message, lastUpdateTime: now, lastTransitionTime: now }];
      try {
        await ctx.client.update({ ...CSR_REF, name, subresource: 'approval' }, next);
      } catch (e) {
        if (isNotFound(e)) return;
        if (isConflict(e)) throw e;
        throw e;
      }
      return;
    }
  }

  return { name: 'csr-approving', run: () => worker.run(ctx.options.workers), stop: () => worker.stop() };
}

export const csrApprovingController: ControllerFactory = (ctx) => createCSRApprover(ctx);
