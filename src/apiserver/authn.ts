// Authentication: who is asking. Client certificates signed by the cluster CA (CN = user,
// O = groups), as upstream's x509 authenticator. Tokens come with the security work.

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

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
