// CertificateSigningRequests in admission: who asked is recorded from the request (never from the
// body), and approving or signing needs `approve` / `sign` on the `signers` resource named by the
// request's signerName, or on `<domain>/*` (upstream plugin/pkg/admission/certificates/{approval,signing}).

import type { KObject } from '../../api/types.ts';
import { StatusError } from '../../machinery/errors.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../authn/user.ts';
import type { Attributes, AuthorizerResult } from '../authz/attributes.ts';

const GROUP = 'certificates.k8s.io';

export function recordRequestor(csr: KObject, user: UserInfo | undefined): void {
  const spec = (csr.spec ??= {});
  delete spec.username;
  delete spec.uid;
  delete spec.groups;
  delete spec.extra;
  if (!user) return;
  spec.username = user.name;
  if (user.uid) spec.uid = user.uid;
  spec.groups = [...user.groups];
  if (user.extra && Object.keys(user.extra).length) spec.extra = structuredClone(user.extra);
}

export function authorizedForSigner(authorize: (a: Attributes) => AuthorizerResult, user: UserInfo, verb: string, signerName: string): boolean {
  const base: Attributes = { user, verb, isResourceRequest: true, path: '', namespace: '', apiGroup: GROUP, apiVersion: '*', resource: 'signers', subresource: '', name: signerName };
  if (authorize(base).decision === 'Allow') return true;
  const slash = signerName.indexOf('/');
  if (slash > 0 && authorize({ ...base, name: `${signerName.slice(0, slash)}/*` }).decision === 'Allow') return true;
  return false;
}

function changedConditions(obj: KObject, old: KObject): boolean {
  const pick = (o: KObject) => JSON.stringify((o.status?.conditions ?? []).filter((c: any) => c?.type === 'Approved' || c?.type === 'Denied').map((c: any) => [c.type, c.status]));
  return pick(obj) !== pick(old);
}

/** Approval and signing checks on updates of the approval and status subresources. */
export function admitCsrUpdate(authorize: (a: Attributes) => AuthorizerResult, obj: KObject, old: KObject, sub: string | undefined, user: UserInfo | undefined): void {
  if (!user || user.groups.includes(SYSTEM_MASTERS)) return;
  const signer = old.spec?.signerName ?? '';
  const deny = (what: string) =>
    new StatusError(403, 'Forbidden', `certificatesigningrequests.${GROUP} ${JSON.stringify(old.metadata.name)} is forbidden: user not permitted to ${what} requests with signerName ${JSON.stringify(signer)}`, {
      name: old.metadata.name,
      group: GROUP,
      kind: 'certificatesigningrequests',
    });
  if (sub === 'approval' && changedConditions(obj, old) && !authorizedForSigner(authorize, user, 'approve', signer)) throw deny('approve');
  if (sub === 'status' && (obj.status?.certificate ?? '') !== (old.status?.certificate ?? '') && !authorizedForSigner(authorize, user, 'sign', signer)) throw deny('sign');
}
