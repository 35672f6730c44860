// The questions the API server answers without storing anything (upstream's virtual resources):
//   authentication.k8s.io/v1 TokenReview        is this token valid, and whose is it?
//   authentication.k8s.io/v1 SelfSubjectReview  who am I?                         (kubectl auth whoami)
//   authorization.k8s.io/v1  SubjectAccessReview, LocalSubjectAccessReview   may that user do this?
//   authorization.k8s.io/v1  SelfSubjectAccessReview                         may I?      (kubectl auth can-i)
//   authorization.k8s.io/v1  SelfSubjectRulesReview                          what may I? (kubectl auth can-i --list)
// Each answers 201 with the request object and its status filled in.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObject, ResourceDef } from '../api/types.ts';
import { errors, field, type FieldError } from '../machinery/errors.ts';
import { decodeObjectBody, readBody, sendJSON } from './http-util.ts';
import type { RequestInfo } from './request-info.ts';
import type { Authenticator } from './authn.ts';
import { TokenError } from './authn/service-account-token.ts';
import type { UserInfo } from './authn/user.ts';
import type { AuthorizerChain } from './authz.ts';
import { parseFieldRequirements, type Attributes } from './authz/attributes.ts';
import { nodeIdentity } from './authn/user.ts';

export interface ReviewDeps {
  authn: Authenticator;
  authz: AuthorizerChain;
  /** --api-audiences: what a TokenReview without spec.audiences checks against. */
  apiAudiences: string[];
}

function userInfoOut(u: UserInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { username: u.name };
  if (u.uid) out.uid = u.uid;
  out.groups = u.groups;
  if (u.extra && Object.keys(u.extra).length) out.extra = u.extra;
  return out;
}

function checkKind(def: ResourceDef, body: any): void {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the request body must be a JSON object');
  if (body.kind !== undefined && body.kind !== def.kind) throw errors.badRequest(`kind "${body.kind}" does not match the expected kind "${def.kind}"`);
  const gv = `${def.group}/${def.version}`;
  if (body.apiVersion !== undefined && body.apiVersion !== gv) throw errors.badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${gv})`);
  body.apiVersion = gv;
  body.kind = def.kind;
  if (!body.metadata || typeof body.metadata !== 'object') body.metadata = {};
  body.metadata.creationTimestamp ??= null;
}

function invalid(def: ResourceDef, errs: FieldError[]): void {
  if (errs.length) throw errors.invalid(def.kind, def.group, '', errs);
}

/** The attributes a SubjectAccessReview-like spec asks about. */
function specAttributes(def: ResourceDef, spec: any, user: UserInfo, localNamespace?: string): Attributes {
  const ra = spec?.resourceAttributes;
  const nra = spec?.nonResourceAttributes;
  if ((ra ? 1 : 0) + (nra ? 1 : 0) !== 1)
    invalid(def, [field.invalid('spec.resourceAttributes', ra ?? null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified')]);
  if (localNamespace !== undefined) {
    if (nra) invalid(def, [field.invalid('spec.nonResourceAttributes', nra, 'disallowed on this kind of request')]);
    if (ra.namespace && ra.namespace !== localNamespace) invalid(def, [field.invalid('spec.resourceAttributes.namespace', ra.namespace, `must match metadata.namespace`)]);
  }
  if (nra) {
    return { user, verb: String(nra.verb ?? ''), isResourceRequest: false, path: String(nra.path ?? ''), namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '' };
  }
  const a: Attributes = {
    user,
    verb: String(ra.verb ?? ''),
    isResourceRequest: true,
    path: '',
    namespace: localNamespace ?? String(ra.namespace ?? ''),
    apiGroup: String(ra.group ?? ''),
    apiVersion: String(ra.version ?? ''),
    resource: String(ra.resource ?? ''),
    subresource: String(ra.subresource ?? ''),
    name: String(ra.name ?? ''),
  };
  const fs = ra.fieldSelector;
  if (fs?.rawSelector) a.fieldSelector = parseFieldRequirements(fs.rawSelector);
  else if (Array.isArray(fs?.requirements))
    a.fieldSelector = fs.requirements.filter((r: any) => r?.operator === 'In' && r.values?.length === 1).map((r: any) => ({ field: r.key, operator: '=' as const, value: r.values[0] }));
  return a;
}

function accessStatus(deps: ReviewDeps, a: Attributes): Record<string, unknown> {
  const r = deps.authz.authorize(a);
  const status: Record<string, unknown> = { allowed: r.decision === 'Allow' };
  if (r.decision === 'Deny') status.denied = true;
  if (r.reason) status.reason = r.reason;
  return status;
}

function subjectOf(spec: any): UserInfo {
  const u: UserInfo = { name: String(spec?.user ?? ''), groups: Array.isArray(spec?.groups) ? spec.groups.map(String) : [] };
  if (spec?.uid) u.uid = String(spec.uid);
  if (spec?.extra && typeof spec.extra === 'object') u.extra = spec.extra;
  return u;
}

function rulesReview(deps: ReviewDeps, user: UserInfo, ns: string): Record<string, unknown> {
  const resourceRules: unknown[] = [];
  const nonResourceRules: unknown[] = [];
  let incomplete = false;
  const problems: string[] = [];
  if (deps.authz.alwaysAllow) {
    resourceRules.push({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
    nonResourceRules.push({ verbs: ['*'], nonResourceURLs: ['*'] });
  } else {
    if (nodeIdentity(user).isNode && deps.authz.node) {
      incomplete = true;
      problems.push('node authorizer does not support user rule resolution');
    }
    const { rules, errors: errs } = deps.authz.rbac?.rulesFor(user, ns) ?? { rules: [], errors: [] };
    for (const r of rules) {
      if (r.nonResourceURLs?.length) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
      else {
        const out: Record<string, unknown> = { verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [] };
        if (r.resourceNames?.length) out.resourceNames = r.resourceNames;
        resourceRules.push(out);
      }
    }
    problems.push(...errs);
  }
  const status: Record<string, unknown> = { resourceRules, nonResourceRules, incomplete };
  if (problems.length) status.evaluationError = problems.join(', ');
  return status;
}

export async function handleReview(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, user: UserInfo, deps: ReviewDeps): Promise<void> {
  if (info.verb !== 'create' || info.name) throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
  const body = decodeObjectBody(await readBody(req), req.headers['content-type']);
  checkKind(def, body);
  const spec = body.spec ?? {};
  switch (`${def.group}/${def.plural}`) {
    case 'authentication.k8s.io/selfsubjectreviews':
      body.status = { userInfo: userInfoOut(user) };
      break;
    case 'authentication.k8s.io/tokenreviews': {
      if (typeof spec.token !== 'string' || spec.token === '') throw errors.badRequest('token is required for TokenReview in authentication');
      const wanted: string[] = Array.isArray(spec.audiences) && spec.audiences.length ? spec.audiences.map(String) : deps.apiAudiences;
      try {
        const r = await deps.authn.token(spec.token, wanted);
        if (!r) body.status = { authenticated: false, user: {}, error: 'invalid bearer token' };
        else body.status = { authenticated: true, user: userInfoOut(r.user), audiences: r.audiences ?? wanted };
      } catch (e) {
        if (!(e instanceof TokenError)) throw e;
        body.status = { authenticated: false, user: {}, error: `[invalid bearer token, ${e.message}]` };
      }
      break;
    }
    case 'authorization.k8s.io/subjectaccessreviews': {
      const subject = subjectOf(spec);
      if (!subject.name && subject.groups.length === 0) invalid(def, [field.invalid('spec.user', '', 'at least one of user or group must be specified')]);
      body.status = accessStatus(deps, specAttributes(def, spec, subject));
      break;
    }
    case 'authorization.k8s.io/localsubjectaccessreviews': {
      const subject = subjectOf(spec);
      if (!subject.name && subject.groups.length === 0) invalid(def, [field.invalid('spec.user', '', 'at least one of user or group must be specified')]);
      const ns = info.namespace ?? '';
      if (body.metadata.namespace && body.metadata.namespace !== ns) throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      body.metadata.namespace = ns;
      body.status = accessStatus(deps, specAttributes(def, spec, subject, ns));
      break;
    }
    case 'authorization.k8s.io/selfsubjectaccessreviews':
      body.status = accessStatus(deps, specAttributes(def, spec, user));
      break;
    case 'authorization.k8s.io/selfsubjectrulesreviews':
      body.status = rulesReview(deps, user, String(spec.namespace ?? ''));
      break;
    default:
      throw errors.notFoundPath();
  }
  sendJSON(res, 201, body as KObject);
}
