// The secure port of a standalone `mizzen scheduler` or `mizzen controller-manager` (upstream's
// --secure-port 10259 / 10257): /metrics in the Prometheus text format and the health checks.
// As upstream, the serving certificate is self-signed in memory when none is given, and access
// to /metrics is delegated to the API server: a bearer token through a TokenReview, a client
// certificate against the client CA the API server publishes in
// kube-system/extension-apiserver-authentication, then a SubjectAccessReview for `get` on the
// path (the `system:monitoring` ClusterRole grants it); src/client/delegated-auth.ts does both. /healthz, /livez and /readyz answer anyone.

import { createServer, type Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { ApiClient } from '../client/api-client.ts';
import { DelegatedAuth } from '../client/delegated-auth.ts';
import { issueCA, issueServingCertificate } from '../apiserver/pki.ts';
import { collectProcessMetrics, exposition, PROMETHEUS_CONTENT_TYPE } from './prometheus.ts';

export interface ComponentServerOptions {
  /** kube-scheduler or kube-controller-manager: names the self-signed certificate. */
  name: string;
  client: ApiClient;
  port: number;
  bindAddress: string;
  log: (msg: string) => void;
}

export interface RunningComponentServer {
  port: number;
  close(): Promise<void>;
}

const HEALTH_PATHS = new Set(['/healthz', '/livez', '/readyz']);

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}

/** The client CA the API server publishes for delegated authentication; undefined if unreadable. */
async function publishedClientCA(client: ApiClient): Promise<string | undefined> {
  try {
    const cm = await client.request('GET', '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication');
    return cm?.data?.['client-ca-file'] || undefined;
  } catch {
    return undefined;
  }
}

export async function startComponentServer(o: ComponentServerOptions): Promise<RunningComponentServer> {
  collectProcessMetrics();
  const ca = await issueCA(`${o.name}-ca@${Math.floor(Date.now() / 1000)}`);
  const serving = await issueServingCertificate(ca, ['localhost', '127.0.0.1', hostname()]);
  const clientCA = await publishedClientCA(o.client);
  // Asked every time, and a review the API server cannot answer is a 503 (the caller retries).
  const auth = new DelegatedAuth({ client: o.client, whenUnreachable: 'throw' });
  const server: Server = createServer(
    { key: serving.keyPem, cert: `${serving.certPem.trimEnd()}\n${ca.certPem}`, requestCert: !!clientCA, rejectUnauthorized: false, ...(clientCA ? { ca: clientCA } : {}) },
    (req, res) => {
      void (async () => {
        const path = new URL(req.url ?? '/', 'https://x').pathname;
        if (req.method !== 'GET' && req.method !== 'HEAD') return status(res, 405, 'MethodNotAllowed', `${req.method} is not supported`);
        if (HEALTH_PATHS.has(path)) {
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
          return res.end('ok');
        }
        if (path !== '/metrics') return status(res, 404, 'NotFound', `the server could not find the requested resource: ${path}`);
        const user = await auth.authenticate(req);
        if (!user) return status(res, 401, 'Unauthorized', 'Unauthorized');
        if (!(await auth.authorize(user, { verb: 'get', path })).allowed) return status(res, 403, 'Forbidden', `forbidden: User "${user.name}" cannot get path "${path}"`);
        const text = await exposition();
        res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE });
        res.end(text);
      })().catch((e: Error) => {
        // The API server could not be asked (TokenReview or SubjectAccessReview): not a crash.
        if (!res.headersSent) status(res, 503, 'ServiceUnavailable', `cannot check the request with the API server: ${e.message}`);
        else res.destroy();
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.bindAddress, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  o.log(`serving /metrics and /healthz on https://${o.bindAddress.includes(':') ? `[${o.bindAddress}]` : o.bindAddress}:${port}`);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Starts the secure port unless --secure-port is 0. Several instances on one machine (tests, a
 * standby) would collide on the fixed default port: the second one says so and runs without it.
 */
export async function maybeStartComponentServer(o: ComponentServerOptions): Promise<RunningComponentServer | undefined> {
  if (o.port === 0) return undefined;
  try {
    return await startComponentServer(o);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      o.log(`not serving /metrics: ${o.bindAddress}:${o.port} is in use (choose another --secure-port)`);
      return undefined;
    }
    throw e;
  }
}

/** --secure-port and --bind-address: port 0 turns the secure port off, as upstream. */
export function securePortFlags(values: Record<string, unknown>, defaultPort: number): { port: number; bindAddress: string } {
  const p = values['secure-port'];
  let port = defaultPort;
  if (p !== undefined) {
    if (!/^\d+$/.test(String(p)) || Number(p) > 65535) throw new Error(`invalid --secure-port "${p}": must be an integer between 0 and 65535`);
    port = Number(p);
  }
  const bindAddress = (values['bind-address'] as string | undefined) ?? '0.0.0.0';
  return { port, bindAddress };
}
