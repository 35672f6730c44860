// httpGet probes and lifecycle hooks (upstream pkg/probe/http): GET scheme://host:port/path with
// the action's headers, User-Agent kube-probe/<version> and Accept */* unless given; 200–399 is
// success; redirects are followed only to the same host (at most 10), a redirect elsewhere ends the
// probe with a warning; TLS certificates are not verified; at most 10 KiB of the body is read.
// Error texts follow Go's net/http, which is what users see in upstream's events.

import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Container, HTTPGetAction } from '../pods/api-types.ts';
import { MAX_PROBE_OUTPUT, goNetError, joinHostPort, userAgent, type ProbeResult } from './probe-result.ts';

export interface ProbeRequest {
  url: URL;
  /** Go-like display of the URL for messages (no trailing slash for an empty path). */
  display: string;
  /** Canonical header name → values. */
  headers: Map<string, string[]>;
}

/** Go's CanonicalMIMEHeaderKey for ordinary names: `x-custom-header` → `X-Custom-Header`. */
export function canonicalHeaderKey(name: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(name)) return name;
  return name
    .split('-')
    .map((p) => (p ? p[0].toUpperCase() + p.slice(1).toLowerCase() : p))
    .join('-');
}

/** Upstream's ResolveContainerPort: a number, a named container port, or a number written as a string. */
export function resolveContainerPort(port: number | string, container: Container): number {
  let n: number;
  if (typeof port === 'number') n = port;
  else {
    const named = (container.ports ?? []).find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^[+-]?\d+$/.test(port)) n = Number(port);
    else throw new Error(`strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax`);
  }
  if (n > 0 && n < 65536) return n;
  throw new Error(`invalid port number: ${n}`);
}

/** The request an httpGet action describes; host defaults to the pod IP. Throws for a bad port. */
export function newRequestForHTTPGetAction(action: HTTPGetAction, container: Container, podIP: string, purpose: 'probe' | 'lifecycle'): ProbeRequest {
  const scheme = (action.scheme || 'HTTP').toLowerCase();
  const host = action.host || podIP;
  const port = resolveContainerPort(action.port, container);
  const hostPort = joinHostPort(host, port);
  const path = action.path ?? '';
  const rel = path === '' ? '' : path.startsWith('/') ? path : `/${path}`;
  const url = new URL(`${scheme}://${hostPort}${rel}`);
  const headers = new Map<string, string[]>();
  for (const h of action.httpHeaders ?? []) {
    const k = canonicalHeaderKey(h.name);
    headers.set(k, [...(headers.get(k) ?? []), h.value]);
  }
  if (!headers.has('User-Agent')) headers.set('User-Agent', [userAgent(purpose)]);
  if (!headers.has('Accept')) headers.set('Accept', ['*/*']);
  else if ((headers.get('Accept')![0] ?? '') === '') headers.delete('Accept');
  return { url, display: `${scheme}://${hostPort}${rel}`, headers };
}

export interface HTTPResponse {
  statusCode: number;
  /** At most MAX_PROBE_OUTPUT bytes. */
  body: string;
  /** The URL that answered (after redirects), Go display form. */
  finalURL: string;
}

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

class HTTPError extends Error {}

function displayOf(u: URL): string {
  const s = u.toString();
  return u.pathname === '/' && !u.search && !s.endsWith('/?') ? s.replace(/\/$/, '') : s;
}

/** One GET; rejects with Go-style messages. */
function getOnce(url: URL, headers: Map<string, string[]>, deadline: number, display: string): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return reject(new HTTPError(`Get "${display}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`));
    const hdrs: Record<string, string | string[]> = {};
    for (const [k, v] of headers) hdrs[k] = v.length === 1 ? v[0] : v;
    const isTLS = url.protocol === 'https:';
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const opts: https.RequestOptions = {
      method: 'GET',
      hostname,
      port: url.port || (isTLS ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: hdrs,
      agent: false,
      setHost: !headers.has('Host'),
    };
    if (isTLS) {
      opts.rejectUnauthorized = false;
      if (!isIP(hostname)) opts.servername = hostname;
    }
    let settled = false;
    let phase: 'headers' | 'body' = 'headers';
    const fail = (msg: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(new HTTPError(msg));
    };
    const timer = setTimeout(() => {
      fail(
        phase === 'headers'
          ? `Get "${display}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
          : `context deadline exceeded (Client.Timeout or context cancellation while reading body)`,
      );
    }, remaining);
    const req = (isTLS ? https : http).request(opts, (res) => {
      phase = 'body';
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        res.destroy();
        const loc = res.headers.location;
        resolve({ status: res.statusCode ?? 0, location: typeof loc === 'string' ? loc : undefined, body: Buffer.concat(chunks).subarray(0, MAX_PROBE_OUTPUT).toString('utf8') });
      };
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size >= MAX_PROBE_OUTPUT) finish();
      });
      res.on('end', finish);
      res.on('error', (e) => fail(`Get "${display}": ${e.message}`));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      const addr = joinHostPort(hostname, Number(opts.port));
      fail(`Get "${display}": ${e.code && e.syscall === 'connect' ? goNetError('dial', 'tcp', addr, e) : e.message}`);
    });
    req.end();
  });
}

/**
 * GET with upstream's redirect policy. Resolves with the final response (a 3xx when the redirect
 * led to another host); rejects with Go-style text on transport errors and timeouts.
 */
export async function httpGet(req: ProbeRequest, timeoutMs: number): Promise<HTTPResponse & { redirectedAway: boolean }> {
  const deadline = Date.now() + timeoutMs;
  const originalHost = req.url.hostname;
  let url = req.url;
  let display = req.display;
  for (let hops = 0; ; hops++) {
    const r = await getOnce(url, req.headers, deadline, display);
    if (!REDIRECT_CODES.has(r.status) || !r.location) return { statusCode: r.status, body: r.body, finalURL: display, redirectedAway: false };
    const next = new URL(r.location, url);
    if (next.hostname !== originalHost) return { statusCode: r.status, body: r.body, finalURL: display, redirectedAway: true };
    if (hops + 1 >= MAX_REDIRECTS) throw new HTTPError(`Get "${displayOf(next)}": stopped after ${MAX_REDIRECTS} redirects`);
    url = next;
    display = displayOf(next);
  }
}

/** Upstream's DoHTTPProbe. */
export async function probeHTTP(req: ProbeRequest, timeoutMs: number): Promise<ProbeResult> {
  let res;
  try {
    res = await httpGet(req, timeoutMs);
  } catch (e) {
    return { result: 'failure', output: (e as Error).message };
  }
  if (res.statusCode >= 200 && res.statusCode < 400) {
    if (res.statusCode >= 300) return { result: 'warning', output: `Probe terminated redirects, Response body: ${res.body}` };
    return { result: 'success', output: res.body };
  }
  // Upstream keeps the body out of the failure message (issue 99425).
  return { result: 'failure', output: `HTTP probe failed with statuscode: ${res.statusCode}` };
}
