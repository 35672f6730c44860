// The joining side: reach a control-plane member, make sure it holds the cluster CA named by the
// token (its /cacerts must hash to the token's pin), then, over TLS checked against that CA, prove
// the token's secret and fetch what the new member or agent needs.

import https from 'node:https';
import { caHash, type JoinToken } from './token.ts';
import { PATHS, type NodeCredentials, type ServerBootstrap } from './bootstrap-routes.ts';

export class JoinError extends Error {}

interface Answer {
  status: number;
  body: string;
}

function request(url: URL, opts: { method: string; ca?: string; auth?: string; body?: string; timeoutMs: number }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        method: opts.method,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || 443,
        path: url.pathname,
        // The first request cannot verify anything yet: its answer is checked against the pin.
        ca: opts.ca,
        rejectUnauthorized: opts.ca !== undefined,
        headers: {
          ...(opts.auth ? { Authorization: `Basic ${Buffer.from(opts.auth).toString('base64')}` } : {}),
          ...(opts.body ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(opts.body)) } : {}),
        },
        timeout: opts.timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

function endpoint(server: string, path: string): URL {
  let u: URL;
  try {
    u = new URL(server);
  } catch {
    throw new JoinError(`invalid server URL ${JSON.stringify(server)}: expected https://host:port`);
  }
  if (u.protocol !== 'https:') throw new JoinError(`invalid server URL ${JSON.stringify(server)}: expected https://host:port`);
  return new URL(path, u);
}

function failure(what: string, server: string, a: Answer): JoinError {
  let msg = a.body.trim();
  try {
    msg = JSON.parse(a.body).message ?? msg;
  } catch {
    // not a Status
  }
  if (a.status === 401) return new JoinError(`${server} refused the token's secret: ${msg}`);
  return new JoinError(`${what} from ${server} failed: HTTP ${a.status}: ${msg}`);
}

/** The cluster CA from `server`, accepted only if it hashes to the token's pin. */
export async function fetchCA(server: string, token: JoinToken, timeoutMs = 10_000): Promise<string> {
  let a: Answer;
  try {
    a = await request(endpoint(server, PATHS.cacerts), { method: 'GET', timeoutMs });
  } catch (e) {
    if (e instanceof JoinError) throw e;
    throw new JoinError(`cannot reach ${server}: ${(e as Error).message}`);
  }
  if (a.status !== 200) throw failure('fetching the CA', server, a);
  if (caHash(a.body) !== token.caHash) {
    throw new JoinError(`the CA that ${server} presents does not match the token (sha256 ${caHash(a.body)}, the token pins ${token.caHash}): wrong server or wrong token`);
  }
  return a.body;
}

async function authed<T>(server: string, path: string, method: string, ca: string, auth: string, body: unknown, what: string, timeoutMs: number): Promise<T> {
  let a: Answer;
  try {
    a = await request(endpoint(server, path), { method, ca, auth, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs });
  } catch (e) {
    throw new JoinError(`${what} from ${server} failed: ${(e as Error).message}`);
  }
  if (a.status !== 200) throw failure(what, server, a);
  return JSON.parse(a.body) as T;
}

/** For a new control-plane member: the CA with its key and the datastore to share. */
export async function fetchServerBootstrap(server: string, token: JoinToken, timeoutMs = 10_000): Promise<ServerBootstrap> {
  const ca = await fetchCA(server, token, timeoutMs);
  const b = await authed<ServerBootstrap>(server, PATHS.server, 'GET', ca, `server:${token.secret}`, undefined, 'the server bootstrap', timeoutMs);
  if (b.ca.cert !== ca) throw new JoinError(`${server} sent a CA in its bootstrap that is not the one it serves`);
  return b;
}

/** For an agent: a client certificate for system:node:<nodeName>, and the CA. */
export async function fetchNodeCredentials(server: string, token: JoinToken, nodeName: string, timeoutMs = 10_000, servingHosts?: string[]): Promise<NodeCredentials> {
  const ca = await fetchCA(server, token, timeoutMs);
  return authed<NodeCredentials>(server, PATHS.node, 'POST', ca, `node:${token.secret}`, servingHosts ? { nodeName, servingHosts } : { nodeName }, 'node credentials', timeoutMs);
}
