// serviceaccounts/<name>/token (upstream pkg/registry/core/serviceaccount/storage/token.go): issue a
// bound token for the ServiceAccount, for the audiences asked (default the API's), for
// expirationSeconds (default 3600, at least 600, capped by --service-account-max-token-expiration),
// optionally bound to a Pod, Secret or Node that must exist (and, given a uid, be that one).

import type { ServerResponse } from 'node:http';
import type { KObject } from '../api/types.ts';
import { errors, field, type FieldError } from '../machinery/errors.ts';
import { sendJSON } from './http-util.ts';
import type { RequestInfo } from './request-info.ts';
import type { ResourceStore } from './registry/resource-store.ts';
import { WARN_ONLY_EXPIRATION_SECONDS, type ServiceAccountTokenIssuer } from './authn/service-account-token.ts';

export interface TokenRequestDeps {
  issuer: ServiceAccountTokenIssuer;
  apiAudiences: string[];
  /** Seconds; 0 = no cap. */
  maxExpirationSeconds?: number;
  lookup(group: string, plural: string): ResourceStore | undefined;
}

const MIN_EXPIRATION = 600;
const MAX_EXPIRATION = 2 ** 32;

export function tokenRequestPost(deps: TokenRequestDeps) {
  return async (info: RequestInfo, store: ResourceStore, body: any, res: ServerResponse, dryRun: boolean): Promise<boolean> => {
    if (store.def.group !== '' || store.def.plural !== 'serviceaccounts' || info.subresource !== 'token') return false;
    const ns = info.namespace!;
    const name = info.name!;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the request body must be a TokenRequest object');
    if (body.kind !== undefined && body.kind !== 'TokenRequest') throw errors.badRequest(`expected kind TokenRequest, got ${JSON.stringify(body.kind)}`);
    const spec = (body.spec ??= {});
    if (spec.expirationSeconds === undefined || spec.expirationSeconds === null) spec.expirationSeconds = 3600;
    if (!Array.isArray(spec.audiences) || spec.audiences.length === 0) spec.audiences = [...deps.apiAudiences];
    const errs: FieldError[] = [];
    const exp = spec.expirationSeconds;
    if (!Number.isInteger(exp)) errs.push(field.invalid('spec.expirationSeconds', exp, 'must be an integer'));
    else if (exp < MIN_EXPIRATION) errs.push(field.invalid('spec.expirationSeconds', exp, 'may not specify a duration less than 10 minutes'));
    else if (exp > MAX_EXPIRATION) errs.push(field.invalid('spec.expirationSeconds', exp, 'may not specify a duration larger than 2^32 seconds'));
    const ref = spec.boundObjectRef;
    if (ref) {
      if (!['Pod', 'Secret', 'Node'].includes(ref.kind)) errs.push(field.notSupported('spec.boundObjectRef.kind', ref.kind ?? '', ['Pod', 'Secret', 'Node']));
      if ((ref.apiVersion ?? 'v1') !== 'v1') errs.push(field.notSupported('spec.boundObjectRef.apiVersion', ref.apiVersion, ['v1']));
      if (!ref.name) errs.push(field.required('spec.boundObjectRef.name'));
    }
    if (errs.length) throw errors.invalid('TokenRequest', 'authentication.k8s.io', name, errs);

    const sa = store.get(ns, name).obj;
    let pod: KObject | undefined;
    let secret: KObject | undefined;
    let node: KObject | undefined;
    if (ref) {
      const uidCheck = (o: KObject) => {
        if (ref.uid && ref.uid !== o.metadata.uid)
          throw errors.conflict(
            { group: '', resource: `${ref.kind.toLowerCase()}s` },
            ref.name,
            `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
          );
      };
      if (ref.kind === 'Pod') {
        pod = deps.lookup('', 'pods')!.get(ns, ref.name).obj;
        uidCheck(pod);
        if ((pod.spec?.serviceAccountName || 'default') !== name)
          throw errors.badRequest(`cannot bind token for serviceaccount ${JSON.stringify(name)} to pod running with different serviceaccount name.`);
        if (pod.spec?.nodeName) node = deps.lookup('', 'nodes')?.tryGet(undefined, pod.spec.nodeName)?.obj;
      } else if (ref.kind === 'Secret') {
        secret = deps.lookup('', 'secrets')!.get(ns, ref.name).obj;
        uidCheck(secret);
      } else {
        node = deps.lookup('', 'nodes')!.get(undefined, ref.name).obj;
        uidCheck(node);
      }
      spec.boundObjectRef = { kind: ref.kind, apiVersion: 'v1', name: ref.name, uid: (pod ?? secret ?? node)!.metadata.uid };
    }
    let seconds: number = exp;
    const max = deps.maxExpirationSeconds ?? 0;
    // A token asked for with the admission default (3607 s) keeps its extended lifetime; others are capped.
    if (max > 0 && seconds > max && !(pod && seconds === WARN_ONLY_EXPIRATION_SECONDS)) seconds = max;
    const now = Date.now();
    const issued = await deps.issuer.issue({ serviceAccount: sa, audiences: spec.audiences, expirationSeconds: seconds, pod, secret, node, now });
    spec.expirationSeconds = seconds;
    // As upstream, a token extended past 3607 s still says it expires then, so clients refresh it hourly.
    const expiresAt = Math.floor(now / 1000) + seconds;
    const out = {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace: ns, creationTimestamp: sa.metadata.creationTimestamp ?? null },
      spec,
      status: { token: dryRun ? '' : issued.token, expirationTimestamp: new Date(expiresAt * 1000).toISOString().replace(/\.\d+Z$/, 'Z') },
    };
    sendJSON(res, 201, out);
    return true;
  };
}
