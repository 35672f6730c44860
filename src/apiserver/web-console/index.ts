// The web console's server side: its static files under /ui/ and its login. Everything the
// console shows it reads from the ordinary Kubernetes API on this same origin, as the user who
// logged in; this module only decides who that is.
//
// Two ways in, both the Kubernetes way:
//  - a bearer token (a ServiceAccount token from `kubectl create token`, a token file's): the page
//    keeps it and sends `Authorization: Bearer` on every request, which the server's token
//    authenticators check as for any client. Nothing here is involved.
//  - a one-time login link, as Jupyter prints one: `mizzen ui-url` asks for a code
//    (POST /ui/login-codes, as any authenticated user, with its own credentials), and opening
//    /ui/login?code=... exchanges the code for a session cookie that acts as that same user.
//
// A cookie rides along on every request the browser makes to this origin, including those a page
// on another site triggers (a form post, an <img>). So the session cookie authenticates a request
// only when it also carries `X-Mizzen-UI: 1`, a header a page on another origin can only add
// after a CORS preflight, which this server never answers with permission, and only when the
// browser's Origin / Sec-Fetch-Site headers (sent with every cross-site fetch or form) say it is
// this origin. The cookie itself is HttpOnly (scripts cannot read it), Secure and SameSite=Strict.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StatusError, errors } from '../../machinery/errors.ts';
import type { UserInfo } from '../authn.ts';
import { sendJSON } from '../http-util.ts';
import { ConsoleSessions, type Refusal } from './sessions.ts';
import { CONTENT_SECURITY_POLICY, StaticFiles } from './static-files.ts';

export const SESSION_COOKIE = 'mizzen-ui-session';
/** The header the console's pages send on every request (the CSRF guard for cookie sessions). */
export const UI_HEADER = 'x-mizzen-ui';
export const UI_PREFIX = '/ui/';

/** dist/console in the repository, from this file in src/ or from the command's bundle in dist/cli/. */
export const DEFAULT_ASSETS_DIR = (() => {
  const dir = path.dirname(fileURLToPath(import.meta.url));
  const bundled = path.basename(dir) === 'cli' && path.basename(path.dirname(dir)) === 'dist';
  return fileURLToPath(new URL(bundled ? '../console/' : '../../../dist/console/', import.meta.url));
})();

export interface WebConsoleOptions {
  /** The API server's data dir: sessions are kept in DIR/ui-sessions.json. */
  dataDir: string;
  /** The built console (default dist/console in the repository). */
  assetsDir?: string;
  codeTtlMs?: number;
  sessionTtlMs?: number;
  log?: (m: string) => void;
}

const REFUSALS: Record<Refusal, string> = {
  unknown: 'This login link is not valid. Run `mizzen ui-url` for a new one.',
  used: 'This login link was already used (each link logs in once). Run `mizzen ui-url` for a new one.',
  expired: 'This login link has expired. Run `mizzen ui-url` for a new one.',
};

export class WebConsole {
  readonly sessions: ConsoleSessions;
  readonly files: StaticFiles;

  constructor(o: WebConsoleOptions) {
    const assetsDir = o.assetsDir ?? (process.env.MIZZEN_CONSOLE_DIR || DEFAULT_ASSETS_DIR);
    this.files = new StaticFiles(assetsDir);
    this.sessions = new ConsoleSessions({ file: path.join(o.dataDir, 'ui-sessions.json'), codeTtlMs: o.codeTtlMs, sessionTtlMs: o.sessionTtlMs, log: o.log });
  }

  /** Whether a request path belongs to the console. */
  static owns(p: string): boolean {
    return p === '/ui' || p.startsWith(UI_PREFIX);
  }

  /**
   * The user a request's session cookie stands for; undefined when the request has no session
   * cookie or other credentials (a bearer token, a client certificate), which then decide. Throws
   * 401 for an unknown or expired session and 403 when the CSRF checks fail.
   */
  sessionUser(req: IncomingMessage): UserInfo | undefined {
    if (!(req.socket as TLSSocket).encrypted) return undefined;
    const session = cookie(req.headers.cookie, SESSION_COOKIE);
    if (session === undefined) return undefined;
    if (req.headers.authorization) return undefined;
    const cert = (req.socket as TLSSocket).getPeerCertificate?.();
    if (cert && Object.keys(cert).length > 0) return undefined;
    refuseCrossSite(req);
    const user = this.sessions.user(session);
    if (typeof user === 'string') {
      throw errors.unauthorized(user === 'expired' ? 'the console session has expired: log in again' : 'the console session is not known (logged out, or the server forgot it): log in again');
    }
    return user;
  }

  /**
   * Serve a request under /ui. `user` is the request's authenticated user (by certificate, token
   * or session), if any: minting login codes needs one.
   */
  async serve(req: IncomingMessage, res: ServerResponse, p: string, q: URLSearchParams, user: UserInfo | undefined): Promise<void> {
    const method = req.method ?? 'GET';
    if (p === '/ui') return redirect(res, 301, UI_PREFIX);
    const rel = p.slice(UI_PREFIX.length);
    if (rel === 'login-codes') {
      if (method !== 'POST') throw errors.methodNotAllowed(`${method} is not supported on ${p}: POST asks for a login code`);
      return this.mintCode(req, res, user);
    }
    if (rel === 'login') {
      if (method !== 'GET' && method !== 'HEAD') throw errors.methodNotAllowed(`${method} is not supported on ${p}`);
      return this.login(req, res, q.get('code') ?? '');
    }
    if (rel === 'logout') {
      if (method !== 'POST') throw errors.methodNotAllowed(`${method} is not supported on ${p}: POST logs out`);
      refuseCrossSite(req);
      const session = cookie(req.headers.cookie, SESSION_COOKIE);
      if (session !== undefined) this.sessions.end(session);
      res.writeHead(204, { 'Set-Cookie': sessionCookie('', 0), 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') throw errors.methodNotAllowed(`${method} is not supported on ${p}`);
    if (!this.files.built()) return notBuilt(res, this.files.dir);
    // Routes inside the app are in the fragment (/ui/#/nodes), so the only page is index.html.
    if (this.files.serve(req, res, rel === '' ? 'index.html' : rel)) return;
    throw errors.notFoundPath(`the server could not find the requested resource (${method} ${p})`);
  }

  private mintCode(_req: IncomingMessage, res: ServerResponse, user: UserInfo | undefined): void {
    // `user` never comes from a session cookie here (the caller authenticates /ui requests by
    // certificate or token only): a stolen session must not mint itself new links.
    if (!user || user.name === 'system:anonymous') throw errors.unauthorized();
    const { code, expires } = this.sessions.newCode(user);
    sendJSON(res, 201, { kind: 'ConsoleLoginCode', code, path: `${UI_PREFIX}login?code=${encodeURIComponent(code)}`, user: user.name, expires: new Date(expires).toISOString() }, { 'Cache-Control': 'no-store' });
  }

  private login(req: IncomingMessage, res: ServerResponse, code: string): void {
    const r = code ? this.sessions.redeem(code) : 'unknown';
    if (typeof r === 'string') return redirect(res, 303, `${UI_PREFIX}#/login?reason=${encodeURIComponent(REFUSALS[r])}`);
    const cookie = sessionCookie(r.session, Math.floor(this.sessions.sessionTtlMs / 1000));
    // The page itself, with the cookie, rather than a redirect to it: one round trip less before
    // the map's first request (which index.html sends as it is parsed). The page then shows /ui/
    // in the address bar (history.replaceState in its inline script), so the used code is not
    // kept there, nor reloaded.
    if (this.files.built() && this.files.serve(req, res, 'index.html', { 'Set-Cookie': cookie })) return;
    res.writeHead(303, { Location: UI_PREFIX, 'Set-Cookie': cookie, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    res.end();
  }
}

/** 403 unless the request comes from a page of this origin (see the top of this file). */
function refuseCrossSite(req: IncomingMessage): void {
  const refuse = (why: string) => {
    throw new StatusError(403, 'Forbidden', `the console session cookie is only accepted from the console's own pages: ${why}`);
  };
  if (req.headers[UI_HEADER] !== '1') refuse(`the request has no "X-Mizzen-UI: 1" header`);
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') refuse(`the browser says it came from a ${site} page`);
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `https://${req.headers.host}`) refuse(`its origin ${origin} is not this server`);
}

function sessionCookie(value: string, maxAge: number): string {
  // Path=/ because the API (/api, /apis) is what the pages call; no Domain: this host only.
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Strict`;
}

/** A cookie's value from a Cookie header (the first of that name). */
export function cookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function redirect(res: ServerResponse, code: number, location: string): void {
  res.writeHead(code, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
  res.end();
}

function notBuilt(res: ServerResponse, dir: string): void {
  const body = `<!doctype html><meta charset="utf-8"><title>Mizzen console not built</title>
<p>The web console has not been built (no ${escapeHtml(dir)}/index.html).</p>
<p>It is built by <code>npm install</code> (or <code>npm run build:console</code>), which needs the development dependencies.</p>`;
  res.writeHead(503, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'Cache-Control': 'no-store' });
  res.end(body);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
