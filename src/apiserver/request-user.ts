// The user a request acts as (after authentication and impersonation), kept beside the request so
// that handlers can hand it to admission without threading it through every call.

import type { IncomingMessage } from 'node:http';
import type { UserInfo } from './authn/user.ts';

const users = new WeakMap<IncomingMessage, UserInfo>();

export function setRequestUser(req: IncomingMessage, user: UserInfo): void {
  users.set(req, user);
}

export function requestUser(req: IncomingMessage): UserInfo | undefined {
  return users.get(req);
}
