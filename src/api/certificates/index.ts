// certificates.k8s.io/v1 CertificateSigningRequest: a client asks for a certificate; an approver
// sets the Approved (or Denied) condition through the `approval` subresource; the signer named in
// spec.signerName fills status.certificate through `status`. Who asked (spec.username, groups, uid,
// extra) is set by the API server from the request, never by the client (src/apiserver/admission.ts).

import { field, type FieldError } from '../../machinery/errors.ts';
import { ageColumn, nameColumn } from '../apps/workload-common.ts';
import { humanAge, type KObject, type ResourceDef } from '../types.ts';
import { checkCertificateRequestPem } from './csr-pem.ts';

export const KNOWN_USAGES = [
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment',
  'cert sign', 'crl sign', 'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing',
  'email protection', 's/mime', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing',
  'microsoft sgc', 'netscape sgc',
];
const CONDITION_TYPES = ['Approved', 'Denied', 'Failed'];

/** A signer name is a fully qualified name: `<domain>/<path>` (upstream ValidateSignerName). */
function signerNameErrors(name: string): string[] {
  const i = name.indexOf('/');
  if (i <= 0 || i === name.length - 1) return ['must be a fully qualified domain and path of the form \'example.com/signer-name\''];
  const domain = name.slice(0, i);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(domain)) return ['the domain portion of the signerName must be a fully qualified domain name'];
  return [];
}

function validateSpec(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj.spec ?? {};
  if (typeof spec.request !== 'string' || spec.request === '') errs.push(field.required('spec.request'));
  else {
    const pem = Buffer.from(spec.request, 'base64').toString('latin1');
    const bad = checkCertificateRequestPem(pem);
    if (bad) errs.push(field.invalid('spec.request', '<request>', bad));
  }
  if (!spec.signerName) errs.push(field.required('spec.signerName'));
  else for (const m of signerNameErrors(spec.signerName)) errs.push(field.invalid('spec.signerName', spec.signerName, m));
  if (!Array.isArray(spec.usages) || spec.usages.length === 0) errs.push(field.required('spec.usages'));
  else {
    const seen = new Set<string>();
    spec.usages.forEach((u: unknown, i: number) => {
      if (!KNOWN_USAGES.includes(u as string)) errs.push(field.notSupported(`spec.usages[${i}]`, u, KNOWN_USAGES));
      else if (seen.has(u as string)) errs.push(field.duplicate(`spec.usages[${i}]`, u));
      seen.add(u as string);
    });
  }
  const exp = spec.expirationSeconds;
  if (exp !== undefined && exp !== null && !(Number.isInteger(exp) && exp >= 600)) errs.push(field.invalid('spec.expirationSeconds', exp, 'may not specify a duration less than 600 seconds (10 minutes)'));
  return errs;
}

function validateConditions(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (obj.status?.conditions ?? []).forEach((c: any, i: number) => {
    const p = `status.conditions[${i}]`;
    if (!c?.type) errs.push(field.required(`${p}.type`));
    else if (seen.has(c.type) && CONDITION_TYPES.includes(c.type)) errs.push(field.duplicate(`${p}.type`, c.type));
    if (c?.type) seen.add(c.type);
    if (c?.status !== undefined && !['True', 'False', 'Unknown'].includes(c.status)) errs.push(field.notSupported(`${p}.status`, c.status, ['False', 'True', 'Unknown']));
  });
  if (seen.has('Approved') && seen.has('Denied')) errs.push(field.invalid('status.conditions', 'Approved', 'Approved and Denied conditions are mutually exclusive'));
  return errs;
}

/** Once a condition is recorded it stays (upstream: approval and denial cannot be taken back). */
function validateConditionsKept(obj: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const t of ['Approved', 'Denied']) {
    const had = (old.status?.conditions ?? []).some((c: any) => c?.type === t);
    const has = (obj.status?.conditions ?? []).some((c: any) => c?.type === t);
    if (had && !has) errs.push(field.forbidden('status.conditions', `updates may not remove a condition of type ${JSON.stringify(t)}`));
  }
  return errs;
}

function defaultConditions(obj: KObject): void {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (const c of obj.status?.conditions ?? []) {
    if (!c || typeof c !== 'object') continue;
    c.status ??= 'True';
    c.lastUpdateTime ??= now;
    c.lastTransitionTime ??= now;
  }
}

export function csrCondition(obj: KObject): string {
  const types = (obj.status?.conditions ?? []).filter((c: any) => c?.status !== 'False').map((c: any) => c.type);
  if (obj.status?.certificate) types.push('Issued');
  return types.length ? types.join(',') : 'Pending';
}

function requestedDuration(obj: KObject): string {
  const s = obj.spec?.expirationSeconds;
  if (typeof s !== 'number') return '<none>';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h >= 48) return `${Math.floor(h / 24)}d`;
  return h ? (m ? `${h}h${m}m` : `${h}h`) : `${m}m`;
}

export const certificateSigningRequests: ResourceDef = {
  group: 'certificates.k8s.io',
  version: 'v1',
  kind: 'CertificateSigningRequest',
  plural: 'certificatesigningrequests',
  singular: 'certificatesigningrequest',
  namespaced: false,
  shortNames: ['csr'],
  model: 'V1CertificateSigningRequest',
  strategy: {
    prepareForCreate(obj) {
      delete obj.status;
    },
    prepareForUpdate(obj, old) {
      // The spec (and who asked) never changes after creation; status only through its subresources.
      obj.spec = structuredClone(old.spec);
    },
    validate: validateSpec,
    validateUpdate: (obj) => validateSpec(obj),
  },
  statusLikeSubresources: ['approval'],
  status: {
    prepareForUpdate(obj, old, sub) {
      obj.status ??= {};
      const decided = (c: any) => c?.type === 'Approved' || c?.type === 'Denied';
      if (sub === 'approval') {
        // Approval changes conditions only; the certificate is the signer's.
        if (old.status?.certificate !== undefined) obj.status.certificate = old.status.certificate;
        else delete obj.status.certificate;
      } else {
        // The signer may not approve or deny: those conditions stay as they were.
        obj.status.conditions = [...(old.status?.conditions ?? []).filter(decided), ...(obj.status.conditions ?? []).filter((c: any) => !decided(c))];
      }
      if (!obj.status.conditions?.length) delete obj.status.conditions;
      defaultConditions(obj);
    },
    validateUpdate: (obj, old) => [...validateConditions(obj), ...validateConditionsKept(obj, old)],
  },
  table: {
    columns: [
      nameColumn,
      ageColumn,
      { name: 'SignerName', type: 'string', description: 'The signer that should sign the certificate.', priority: 0 },
      { name: 'Requestor', type: 'string', description: 'The user that created the request.', priority: 0 },
      { name: 'RequestedDuration', type: 'string', description: 'The requested validity of the certificate.', priority: 0 },
      { name: 'Condition', type: 'string', description: 'The approval state of the request.', priority: 0 },
    ],
    row: (obj, now) => [obj.metadata.name, humanAge(obj.metadata.creationTimestamp, now), obj.spec?.signerName ?? '', obj.spec?.username ?? '', requestedDuration(obj), csrCondition(obj)],
  },
};

export const resources: ResourceDef[] = [certificateSigningRequests];
