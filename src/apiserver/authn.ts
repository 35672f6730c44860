// Authentication: who is asking, as upstream's authenticator chain.
//
//   1. a client certificate signed by the cluster CA (CN = user, O = groups);
//   2. a bearer token: the static token file, then ServiceAccount JWTs;
//   3. nothing presented: `system:anonymous` in `system:unauthenticated` (when anonymous auth is on).
//
// Credentials that are presented but not valid (a certificate from another CA or expired, an
// unknown or bad token) are a 401, never anonymous. Every authenticated user is also in
// `system:authenticated`.
//
// The private Unix socket is trusted like upstream's front proxy: the file mode (0600) admits only
// processes of the server's user, and what they send in `X-Remote-User` / `X-Remote-Group` /
// `X-Remote-Extra-<key>` is who they are (each in-process component sends its own identity). A
// socket request with a bearer token is authenticated by the token; one with neither is the
// cluster admin (`admin` in `system:masters`), as the admin certificate would be.

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { errors, StatusError } from '../machinery/errors.ts';
import { ADMIN_GROUP, ADMIN_USER } from './pki.ts';
import type { TokenFile } from './authn/token-file.ts';
import { looksLikeJWT, TokenError, type ServiceAccountAuthenticator, type VerifiedToken } from './authn/service-account-token.ts';
import { anonymousUser, withAuthenticatedGroup, ALL_AUTHENTICATED, type UserInfo } from './authn/user.ts';

export type { UserInfo } from './authn/user.ts';

export interface AuthenticatorOptions {
  tokenFile?: TokenFile;
  serviceAccounts?: ServiceAccountAuthenticator;
  /** Anonymous requests (default true, as upstream). */
  anonymous?: boolean;
  log?: (m: string) => void;
}

/** The certificate of a connection never changes: decode it once per socket, not per request. */
const bySocket = new WeakMap<TLSSocket, UserInfo | Error | null>();

function fromCertificate(socket: TLSSocket): UserInfo | Error | null {
  const cert = socket.getPeerCertificate?.();
  if (!cert || Object.keys(cert).length === 0) return null;
  if (!socket.authorized) return new Error(`x509: ${socket.authorizationError ?? 'certificate signed by unknown authority'}`);
  const cn = cert.subject?.CN;
  const o = cert.subject?.O;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return new Error('x509: certificate has no common name');
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { name, groups: [...groups, ALL_AUTHENTICATED] };
}

/** The bearer token of an Authorization header, as upstream reads it; undefined when there is none. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  // Upstream: the first space-separated word is the scheme, the second the token.
  let start = 0;
  while (header.charCodeAt(start) === 32) start++;
  const sp = header.indexOf(' ', start);
  if (sp !== start + 6 || header.slice(start, sp).toLowerCase() !== 'bearer') return undefined;
  const end = header.indexOf(' ', sp + 1);
  const token = end < 0 ? header.slice(sp + 1) : header.slice(sp + 1, end);
  return token === '' ? undefined : token;
}

const ADMIN: UserInfo = { name: ADMIN_USER, groups: [ADMIN_GROUP, ALL_AUTHENTICATED] };

export class Authenticator {
  /** The last ServiceAccount token each connection sent: a client sends the same one again and again. */
  private lastToken = new WeakMap<object, { token: string; v: VerifiedToken }>();

  constructor(private readonly o: AuthenticatorOptions = {}) {}

  get serviceAccounts(): ServiceAccountAuthenticator | undefined {
    return this.o.serviceAccounts;
  }

  /** A bearer token's user, or undefined when no token authenticator knows it; throws TokenError when invalid. */
  async token(token: string, audiences?: string[]): Promise<{ user: UserInfo; audiences?: string[] } | undefined> {
    const fromFile = this.o.tokenFile?.authenticate(token);
    if (fromFile) return { user: withAuthenticatedGroup(fromFile) };
    if (this.o.serviceAccounts && looksLikeJWT(token)) return this.o.serviceAccounts.authenticate(token, audiences);
    return undefined;
  }

  private async bearer(token: string): Promise<UserInfo> {
    try {
      const r = await this.token(token);
      if (r) return r.user;
    } catch (e) {
      if (!(e instanceof TokenError)) throw errors.unauthorized();
      this.o.log?.(`authentication failed: ${e.message}`);
    }
    throw errors.unauthorized();
  }

  /** A token already verified once, answered without waiting; undefined when it needs the slow path. */
  private cachedBearer(token: string, conn: object): UserInfo | undefined {
    const sa = this.o.serviceAccounts;
    try {
      // Same token as this connection's last: compared, not hashed again (a token is ~1 KB).
      const last = this.lastToken.get(conn);
      if (sa && last && last.token === token) return sa.revalidate(last.v);
      const fromFile = this.o.tokenFile?.authenticate(token);
      if (fromFile) return withAuthenticatedGroup(fromFile);
      if (!sa) return undefined;
      const v = sa.verifiedToken(token);
      if (v === undefined) return undefined;
      if (v instanceof TokenError) throw v;
      const user = sa.revalidate(v);
      this.lastToken.set(conn, { token, v });
      return user;
    } catch (e) {
      if (!(e instanceof TokenError)) throw errors.unauthorized();
      this.o.log?.(`authentication failed: ${e.message}`);
      throw errors.unauthorized();
    }
  }

  /**
   * A request on the HTTPS port: the user, synchronously when the credentials were seen before (a
   * certificate on this connection, a token already verified), else a promise. Throws (or rejects
   * with) a 401 Status when presented credentials are not valid.
   */
  tls(req: IncomingMessage): UserInfo | Promise<UserInfo> {
    const socket = req.socket as TLSSocket;
    let cert = bySocket.get(socket);
    if (cert === undefined) {
      cert = fromCertificate(socket);
      bySocket.set(socket, cert);
    }
    if (cert && !(cert instanceof Error)) return cert;
    const token = bearerToken(req.headers.authorization);
    if (token !== undefined) return this.cachedBearer(token, socket) ?? this.bearer(token);
    if (cert instanceof Error) throw errors.unauthorized();
    if (this.o.anonymous === false) throw errors.unauthorized();
    return anonymousUser();
  }

  /** A request on the private socket: X-Remote-* headers, else a bearer token, else the admin. */
  async socket(req: IncomingMessage): Promise<UserInfo> {
    const h = req.headers;
    const remote = h['x-remote-user'];
    if (typeof remote === 'string' && remote !== '') {
      const groups = (req.headersDistinct['x-remote-group'] ?? []).flatMap((g) => g.split(',').map((s) => s.trim())).filter(Boolean);
      const user: UserInfo = { name: remote, groups };
      const extra = extraHeaders(req, 'x-remote-extra-');
      if (extra) user.extra = extra;
      return withAuthenticatedGroup(user);
    }
    const token = bearerToken(h.authorization);
    if (token !== undefined) return this.cachedBearer(token, req.socket) ?? this.bearer(token);
    return ADMIN;
  }
}

/** `<prefix><key>: value` headers as extra attributes, keys URL-unescaped and lower-cased (upstream). */
export function extraHeaders(req: IncomingMessage, prefix: string): Record<string, string[]> | undefined {
  let out: Record<string, string[]> | undefined;
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!name.startsWith(prefix) || !values) continue;
    let key = name.slice(prefix.length);
    try {
      key = decodeURIComponent(key);
    } catch {
      throw errors.badRequest(`invalid header ${name}: not URL-escaped`);
    }
    out ??= {};
    (out[key.toLowerCase()] ??= []).push(...values);
  }
  return out;
}

/** The identity of a request on the private socket without X-Remote headers. */
export function socketUser(): UserInfo {
  return ADMIN;
}
