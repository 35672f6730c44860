// Calling an admission webhook: POST a JSON body over HTTPS to clientConfig.url, or to a Service
// reference resolved through its Endpoints, trusting clientConfig.caBundle, with the webhook's
// timeout (also sent as `?timeout=10s`, as upstream does). Failures are worded as Go's net/http
// words them, since upstream's messages carry those. As for conversion webhooks, a Service
// reference is dialled only at endpoint addresses on this host (127.0.0.0/8, ::1).

import https from 'node:https';
import tls from 'node:tls';
import type { KObject } from '../../api/types.ts';

export interface ClientConfig {
  url?: string;
  service?: { namespace: string; name: string; path?: string; port?: number };
  caBundle?: string;
}

export interface Services {
  service(namespace: string, name: string): KObject | undefined;
  endpoints(namespace: string, name: string): KObject | undefined;
}

/** A call that did not produce an answer: the text is the `failed to call webhook` cause. */
export class WebhookCallError extends Error {}

const loopback = (ip: string) => /^127\.\d+\.\d+\.\d+$/.test(ip) || ip === '::1';

function target(cc: ClientConfig, services: Services): { url: URL; servername?: string } {
  if (cc.url) return { url: new URL(cc.url) };
  const ref = cc.service;
  if (!ref) throw new WebhookCallError('no url or service in clientConfig');
  const port = ref.port ?? 443;
  const svc = services.service(ref.namespace, ref.name);
  if (!svc) throw new WebhookCallError(`service "${ref.name}" not found`);
  const svcPort = (svc.spec?.ports ?? []).find((p: any) => p.port === port);
  if (!svcPort) throw new WebhookCallError(`service "${ref.namespace}/${ref.name}" has no port ${port}`);
  const ep = services.endpoints(ref.namespace, ref.name);
  for (const subset of ep?.subsets ?? []) {
    const epPort = (subset.ports ?? []).find((p: any) => (p.name ?? '') === (svcPort.name ?? '')) ?? (subset.ports?.length === 1 ? subset.ports[0] : undefined);
    if (!epPort) continue;
    for (const a of subset.addresses ?? []) {
      if (!loopback(a.ip)) continue;
      const h = a.ip.includes(':') ? `[${a.ip}]` : a.ip;
      return { url: new URL(`https://${h}:${epPort.port}${ref.path ?? '/'}`), servername: `${ref.name}.${ref.namespace}.svc` };
    }
  }
  throw new WebhookCallError(`service "${ref.namespace}/${ref.name}" has no endpoint on this host (Mizzen calls a service reference only at its endpoints on 127.0.0.0/8 or ::1)`);
}

function goNetError(e: Error, addr: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return `dial tcp ${addr}: connect: connection refused`;
  if (code === 'ECONNRESET') return `read tcp ${addr}: read: connection reset by peer`;
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'SELF_SIGNED_CERT_IN_CHAIN' || code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY')
    return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
  return e.message;
}

/** POSTs `body`; resolves the answer's text (2xx only), rejects with a WebhookCallError. */
export function callWebhook(cc: ClientConfig, services: Services, body: string, timeoutMs: number): Promise<string> {
  let t: { url: URL; servername?: string };
  try {
    t = target(cc, services);
  } catch (e) {
    return Promise.reject(e instanceof WebhookCallError ? e : new WebhookCallError((e as Error).message));
  }
  const { url, servername } = t;
  const seconds = Math.max(1, Math.round(timeoutMs / 1000));
  const path = `${url.pathname}${url.search}${url.search ? '&' : '?'}timeout=${seconds}s`;
  const shown = new URL(path, url).toString();
  const addr = `${url.hostname}:${url.port || 443}`;
  const ca = cc.caBundle ? Buffer.from(cc.caBundle, 'base64') : undefined;
  return new Promise((resolve, reject) => {
    const fail = (why: string) => reject(new WebhookCallError(`Post "${shown}": ${why}`));
    const req = https.request(
      {
        protocol: 'https:',
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || 443,
        path,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(body) },
        ...(ca ? { ca } : {}),
        ...(servername ? { servername, checkServerIdentity: (_h: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(servername, cert) } : {}),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 3 * 1024 * 1024) req.destroy(new Error('response body too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code < 200 || code >= 300) reject(new WebhookCallError(`the server responded with status code ${code}: ${text.slice(0, 200)}`));
          else resolve(text);
        });
        res.on('error', (e) => fail(goNetError(e, addr)));
      },
    );
    // One deadline for the whole call (connect, TLS, answer), as upstream's request context.
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('context deadline exceeded'), { code: 'DEADLINE' })), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      fail(goNetError(e, addr));
    });
    req.end(body);
  });
}
