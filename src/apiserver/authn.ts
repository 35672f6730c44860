// Authentication: who is asking. Client certificates signed by the cluster CA (CN = user,
// O = groups), as upstream's x509 authenticator. Tokens come with the security work.

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ADMIN_GROUP, ADMIN_USER } from './pki.ts';

export interface UserInfo {
  name: string;
  groups: string[];
}

/** The certificate of a connection never changes: decode it once per socket, not per request. */
const bySocket = new WeakMap<TLSSocket, UserInfo | null>();

export function authenticate(socket: TLSSocket, _req: IncomingMessage): UserInfo | undefined {
  let user = bySocket.get(socket);
  if (user === undefined) {
    user = fromCertificate(socket);
    bySocket.set(socket, user);
  }
  return user ?? undefined;
}

function fromCertificate(socket: TLSSocket): UserInfo | null {
  if (!socket.authorized) return null;
  const cert = socket.getPeerCertificate?.();
  if (!cert || !cert.subject) return null;
  const cn = cert.subject.CN;
  const o = cert.subject.O;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return null;
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { name, groups: [...groups, 'system:authenticated'] };
}

/**
 * The identity of a request on the private Unix socket: the same as the admin client
 * certificate (CN=admin, O=system:masters). The socket file is mode 0600 in the data dir, so only
 * processes of the user that runs the server can connect; the file permission is the credential.
 */
export function socketUser(): UserInfo {
  return { name: ADMIN_USER, groups: [ADMIN_GROUP, 'system:authenticated'] };
}
