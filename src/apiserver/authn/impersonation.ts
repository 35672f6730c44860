// Impersonation (upstream's WithImpersonation filter): `Impersonate-User`, `Impersonate-Group`,
// `Impersonate-Uid` and `Impersonate-Extra-<key>` headers make the request act as someone else,
// if the requester may `impersonate` each of them: users (or a ServiceAccount's serviceaccounts
// object), groups, uids and userextras/<key> in authentication.k8s.io. kubectl's `--as`,
// `--as-group` and `--as-uid` send these.

import type { IncomingMessage } from 'node:http';
import { errors } from '../../machinery/errors.ts';
import { forbiddenError } from '../authz/forbidden.ts';
import type { Attributes, AuthorizerResult } from '../authz/attributes.ts';
import { extraHeaders } from '../authn.ts';
import { ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, ANONYMOUS, parseServiceAccountUsername, serviceAccountGroups, type UserInfo } from './user.ts';

export type AuthorizeFn = (a: Attributes) => AuthorizerResult;

function header(req: IncomingMessage, name: string): string[] {
  return req.headersDistinct[name] ?? [];
}

/** Whether the request asks to impersonate anyone (cheap: checked on every request). */
export function wantsImpersonation(req: IncomingMessage): boolean {
  const h = req.headers;
  if (h['impersonate-user'] !== undefined || h['impersonate-group'] !== undefined || h['impersonate-uid'] !== undefined) return true;
  for (const k in h) if (k.startsWith('impersonate-extra-')) return true;
  return false;
}

/** The user a request acts as: the requester, or whom it may impersonate. Throws 400/403 Status errors. */
export function impersonate(req: IncomingMessage, requester: UserInfo, authorize: AuthorizeFn): UserInfo {
  const users = header(req, 'impersonate-user');
  const groups = header(req, 'impersonate-group');
  const uids = header(req, 'impersonate-uid');
  const extra = extraHeaders(req, 'impersonate-extra-');
  if (users.length > 1) throw errors.badRequest('only one Impersonate-User header may be given');
  if (uids.length > 1) throw errors.badRequest('only one Impersonate-Uid header may be given');
  const username = users[0] ?? '';
  if (!username) {
    const what = [...(groups.length ? ['Impersonate-Group'] : []), ...(uids.length ? ['Impersonate-Uid'] : []), ...(extra ? ['Impersonate-Extra'] : [])];
    throw errors.badRequest(`requested [${what.join(' ')}] without impersonating a user`);
  }
  const check = (a: Omit<Attributes, 'user' | 'isResourceRequest' | 'path' | 'verb' | 'apiVersion' | 'subresource'> & { subresource?: string }) => {
    const attrs: Attributes = { user: requester, verb: 'impersonate', isResourceRequest: true, path: '', apiVersion: '', subresource: '', ...a };
    const r = authorize(attrs);
    if (r.decision !== 'Allow') throw forbiddenError(attrs, r.reason);
  };
  const sa = parseServiceAccountUsername(username);
  if (sa) check({ namespace: sa.namespace, apiGroup: '', resource: 'serviceaccounts', name: sa.name });
  else check({ namespace: '', apiGroup: '', resource: 'users', name: username });
  for (const g of groups) check({ namespace: '', apiGroup: '', resource: 'groups', name: g });
  if (uids[0] !== undefined) check({ namespace: '', apiGroup: 'authentication.k8s.io', resource: 'uids', name: uids[0] });
  if (extra) for (const [k, vs] of Object.entries(extra)) for (const v of vs) check({ namespace: '', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: k, name: v });

  const outGroups = sa ? [...serviceAccountGroups(sa.namespace).filter((g) => g !== ALL_AUTHENTICATED), ...groups] : [...groups];
  if (username !== ANONYMOUS) {
    if (!outGroups.includes(ALL_AUTHENTICATED) && !outGroups.includes(ALL_UNAUTHENTICATED)) outGroups.push(ALL_AUTHENTICATED);
  } else if (!outGroups.includes(ALL_UNAUTHENTICATED)) outGroups.push(ALL_UNAUTHENTICATED);
  const user: UserInfo = { name: username, groups: outGroups };
  if (uids[0] !== undefined) user.uid = uids[0];
  if (extra) user.extra = extra;
  return user;
}
